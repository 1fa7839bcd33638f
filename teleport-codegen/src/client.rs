//! The typed client: `{Name}Client`, with a route constant and stubs per route.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::args::Kind;
use crate::ast::{Route, Service};
use crate::names::{client_ident, const_ident, respan, unraw};

/// `{Name}Client`: a route constant and stubs per route, naming the runtime as `krate`.
pub fn client(service: &Service, krate: &syn::Path) -> TokenStream {
    let ty = &service.type_name;
    let vis = &service.vis;
    let client = client_ident(service);
    let struct_doc =
        format!("Typed client of the `{ty}` service: one associated function per route.");
    let items = service.routes.iter().map(|route| route_items(route, ty, vis, krate));
    let idempotent = service.routes.iter().filter(|r| r.idempotent).map(const_ident);
    quote! {
        #[doc = #struct_doc]
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #client;

        impl #client {
            #(#items)*

            /// The routes marked `#[tp(idempotent)]`: safe to run twice, so a balancer may
            /// retry them after their request may have been written.
            #vis const IDEMPOTENT_ROUTES: &'static [&'static str] = &[#(Self::#idempotent),*];
        }
    }
}

/// `for<'__tp> ty: krate::__private::Trait,` with every token spanned at the user's type,
/// so that an unmet bound is reported on the user's line. The binder keeps rustc from
/// rejecting the bound where it is declared: it is checked once, where it is required.
pub fn bound(ty: &syn::Type, krate: &syn::Path, trait_path: TokenStream) -> TokenStream {
    let span = ty.span();
    let path = respan(quote!(#krate::__private::#trait_path), span);
    quote_spanned!(span=> for<'__tp> #ty: #path,)
}

fn route_items(
    route: &Route,
    ty: &syn::Ident,
    vis: &syn::Visibility,
    krate: &syn::Path,
) -> TokenStream {
    let ident = route.ident();
    let konst = const_ident(route);
    let name = &route.name;
    let user_docs = &route.doc_attrs;
    let const_doc = format!("The route of `{ty}::{ident}`: `{name}`.");
    let stubs = match route.kind {
        Kind::Call => call_stubs(route, vis, krate),
        Kind::Push => push_stubs(route, vis, krate),
    };
    quote! {
        #[doc = #const_doc]
        #vis const #konst: &'static str = #name;

        #(#user_docs)*
        #stubs
    }
}

/// The pieces every stub shares.
struct Parts {
    session: TokenStream,
    arg_param: TokenStream,
    arg_expr: TokenStream,
    allow: Option<TokenStream>,
    konst: syn::Ident,
    status: TokenStream,
}

fn parts(route: &Route, krate: &syn::Path) -> Parts {
    let mixed = Span::mixed_site();
    let session = syn::Ident::new("session", mixed);
    let arg = syn::Ident::new("arg", mixed);
    let (arg_param, arg_expr) = match &route.arg {
        Some(t) => (
            quote!(#arg: &(impl #krate::__private::EncodeAs<#t> + ?::core::marker::Sized),),
            quote!(#krate::__private::EncodeAs::<#t>::as_body(#arg)),
        ),
        None => (quote!(), quote!(&())),
    };
    // A Rust `__` (Go's `_`) makes names the style lints dislike; they mirror the user's.
    let allow = route.ident().to_string().contains("__").then(|| quote!(#[allow(non_snake_case)]));
    Parts {
        session: quote!(#session: &#krate::__private::Session),
        arg_param,
        arg_expr,
        allow,
        konst: const_ident(route),
        status: quote!(#krate::__private::Status),
    }
}

fn call_stubs(route: &Route, vis: &syn::Visibility, krate: &syn::Path) -> TokenStream {
    let Parts { session, arg_param, arg_expr, allow, konst, status } = parts(route, krate);
    let session_ident = syn::Ident::new("session", Span::mixed_site());
    let options = syn::Ident::new("options", Span::mixed_site());
    let ident = route.ident();
    let reply_fn = format_ident!("{}_reply", unraw(ident));
    let with_fn = format_ident!("{}_with", unraw(ident));
    let name = &route.name;
    let ok = route.ret.ok_type();
    let bounds = route.ret.value().map(|t| bound(t, krate, quote!(DecodeBody)));
    let reply = quote!(#krate::__private::Reply<#ok>);
    let doc = format!("Calls `{name}` and returns the decoded reply.");
    let doc_reply = format!("Calls `{name}`; returns the reply with its meta and codec.");
    let doc_with = format!(
        "Calls `{name}` with options (meta, codec, timeout...); returns the reply with its meta and codec."
    );
    quote! {
        #[doc = ""]
        #[doc = #doc]
        #allow
        #vis async fn #ident(#session, #arg_param) -> ::core::result::Result<#ok, #status>
        where
            #bounds
        {
            #session_ident.call::<#ok>(Self::#konst, #arg_expr).await
        }

        #[doc = #doc_reply]
        #allow
        #vis async fn #reply_fn(#session, #arg_param) -> ::core::result::Result<#reply, #status>
        where
            #bounds
        {
            #session_ident.call_with::<#ok>(Self::#konst, #arg_expr, &#krate::__private::CallOptions::new()).await
        }

        #[doc = #doc_with]
        #allow
        #vis async fn #with_fn(
            #session,
            #arg_param
            #options: &#krate::__private::CallOptions,
        ) -> ::core::result::Result<#reply, #status>
        where
            #bounds
        {
            #session_ident.call_with::<#ok>(Self::#konst, #arg_expr, #options).await
        }
    }
}

fn push_stubs(route: &Route, vis: &syn::Visibility, krate: &syn::Path) -> TokenStream {
    let Parts { session, arg_param, arg_expr, allow, konst, status } = parts(route, krate);
    let session_ident = syn::Ident::new("session", Span::mixed_site());
    let options = syn::Ident::new("options", Span::mixed_site());
    let ident = route.ident();
    let with_fn = format_ident!("{}_with", unraw(ident));
    let name = &route.name;
    let doc = format!("Pushes to `{name}`; returns once the message is queued.");
    let doc_with = format!("Pushes to `{name}` with options (meta, codec, timeout...).");
    quote! {
        #[doc = ""]
        #[doc = #doc]
        #allow
        #vis async fn #ident(#session, #arg_param) -> ::core::result::Result<(), #status> {
            #session_ident.push(Self::#konst, #arg_expr).await
        }

        #[doc = #doc_with]
        #allow
        #vis async fn #with_fn(
            #session,
            #arg_param
            #options: &#krate::__private::CallOptions,
        ) -> ::core::result::Result<(), #status> {
            #session_ident.push_with(Self::#konst, #arg_expr, #options).await
        }
    }
}
