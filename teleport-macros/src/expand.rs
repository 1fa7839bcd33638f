//! Code generation: the user's impl, the `Service` implementation and the typed client.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, ImplItem, ItemImpl};

use crate::args::{Kind, ServiceArgs, is_tp_attr, parse_service_args};
use crate::ast::{self, Ret, Route, Service};
use crate::check;
use crate::ctxt::Ctxt;

pub(crate) fn service(args: TokenStream, input: TokenStream) -> TokenStream {
    let mut item: ItemImpl = match syn::parse2(input) {
        Ok(item) => item,
        Err(e) => return e.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    let args = parse_service_args(args, &mut cx);
    let generated = match ast::parse(&item, &args, &mut cx) {
        Some(service) => {
            check::check(&service, &mut cx);
            generate(&service, &args)
        }
        None => TokenStream::new(),
    };
    strip_tp_attrs(&mut item);
    if cx.has_errors() {
        // The user's impl alone, so that the one real error shows instead of a cascade.
        let errors = cx.into_compile_errors();
        return quote!(#item #errors);
    }
    quote!(#item #generated)
}

/// Removes the `#[tp(...)]` attributes, which only this macro understands.
fn strip_tp_attrs(item: &mut ItemImpl) {
    for impl_item in &mut item.items {
        if let ImplItem::Fn(method) = impl_item {
            method.attrs.retain(|a| !is_tp_attr(a));
        }
    }
}

fn generate(service: &Service<'_>, args: &ServiceArgs) -> TokenStream {
    let client = client(service, args);
    let register = register(service, args);
    quote!(#client #register)
}

fn const_ident(route: &Route<'_>) -> syn::Ident {
    let name = route.ident().to_string();
    let name = name.strip_prefix("r#").unwrap_or(&name).to_uppercase();
    syn::Ident::new(&name, route.ident().span())
}

fn docs(attrs: &[Attribute]) -> impl Iterator<Item = &Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("doc"))
}

fn client(service: &Service<'_>, args: &ServiceArgs) -> TokenStream {
    let krate = &args.krate;
    let ty = &service.type_name;
    let client = format_ident!("{}Client", ty);
    let struct_doc =
        format!("Typed client of the [`{ty}`] service: one associated function per route.");
    let items = service.routes.iter().map(|route| client_items(route, ty, krate));
    quote! {
        #[doc = #struct_doc]
        #[derive(Clone, Copy, Debug, Default)]
        pub struct #client;

        impl #client {
            #(#items)*
        }
    }
}

fn client_items(route: &Route<'_>, ty: &syn::Ident, krate: &syn::Path) -> TokenStream {
    let ident = route.ident();
    let with = format_ident!("{}_with", ident.to_string().trim_start_matches("r#"));
    let konst = const_ident(route);
    let name = &route.name;
    let user_docs: Vec<_> = docs(&route.original.attrs).collect();
    let const_doc = format!("The route of [`{ty}::{ident}`]: `{name}`.");
    let call_site = Span::mixed_site();
    let session = syn::Ident::new("session", call_site);
    let arg = syn::Ident::new("arg", call_site);
    let options = syn::Ident::new("options", call_site);
    let (arg_param, arg_expr) = match route.arg {
        Some(t) => (quote!(#arg: &#t,), quote!(#arg)),
        None => (quote!(), quote!(&())),
    };
    // A Rust `__` (Go's `_`) makes names the style lints dislike; they mirror the user's.
    let allow = ident.to_string().contains("__").then(|| quote!(#[allow(non_snake_case)]));
    let status = quote!(#krate::__private::Status);
    let session_ty = quote!(#krate::__private::Session);
    let options_ty = quote!(#krate::__private::CallOptions);
    let ok = route.ret.ok_type();
    let arg_bound = route.arg.map(|t| bound(t, krate, "EncodeBody"));
    let ok_bound = match &route.ret {
        Ret::Plain(t) | Ret::Result(t) => Some(bound(t, krate, "DecodeBody")),
        Ret::Unit => None,
    };
    // The four shapes differ only in their words, reply type and session method.
    let (doc, doc_with, reply, reply_with, call, call_with, bounds) = match route.kind {
        Kind::Call => (
            format!("Calls `{name}` and decodes the reply."),
            format!("Calls `{name}` with options; returns the reply with its meta."),
            quote!(#ok),
            quote!(#krate::__private::Reply<#ok>),
            quote!(call::<#ok>),
            quote!(call_with::<#ok>),
            quote!(#arg_bound #ok_bound),
        ),
        Kind::Push => (
            format!("Pushes to `{name}`; returns once the message is queued."),
            format!("Pushes to `{name}` with options."),
            quote!(()),
            quote!(()),
            quote!(push),
            quote!(push_with),
            quote!(#arg_bound),
        ),
    };
    let body = quote! {
        #(#user_docs)*
        #[doc = ""]
        #[doc = #doc]
        #allow
        pub async fn #ident(#session: &#session_ty, #arg_param) -> ::core::result::Result<#reply, #status>
        where
            #bounds
        {
            #session.#call(Self::#konst, #arg_expr).await
        }

        #[doc = #doc_with]
        #allow
        pub async fn #with(
            #session: &#session_ty,
            #arg_param
            #options: &#options_ty,
        ) -> ::core::result::Result<#reply_with, #status>
        where
            #bounds
        {
            #session.#call_with(Self::#konst, #arg_expr, #options).await
        }
    };
    quote! {
        #[doc = #const_doc]
        pub const #konst: &'static str = #name;

        #body
    }
}

fn register(service: &Service<'_>, args: &ServiceArgs) -> TokenStream {
    let krate = &args.krate;
    let self_ty = &service.original.self_ty;
    let client = format_ident!("{}Client", service.type_name);
    let group = syn::Ident::new("group", Span::mixed_site());
    let routes =
        service.routes.iter().map(|route| register_route(route, &client, krate, self_ty, &group));
    quote! {
        impl #krate::__private::Service for #self_ty {
            fn register(self: #krate::__private::Arc<Self>, #group: &#krate::__private::Group) {
                #(#routes)*
            }
        }
    }
}

/// `ty: krate::__private::Trait,` with every token spanned at the user's type, so that an
/// unmet bound is reported on the user's line.
fn bound(ty: &syn::Type, krate: &syn::Path, trait_name: &str) -> TokenStream {
    let span = ty.span();
    let trait_ident = syn::Ident::new(trait_name, span);
    let path = respan(quote!(#krate::__private::#trait_ident), span);
    quote_spanned!(span=> #ty: #path,)
}

/// Moves every token to the location of `span`, keeping how each name resolves (hygiene).
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            let located = tt.span().located_at(span);
            if let proc_macro2::TokenTree::Group(group) = &tt {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(located);
                tt = proc_macro2::TokenTree::Group(inner);
            } else {
                tt.set_span(located);
            }
            tt
        })
        .collect()
}

/// The bounds a route's types must meet, spanned at the user's types so that a wrong type
/// is reported there rather than inside generated code.
fn type_bounds(route: &Route<'_>, krate: &syn::Path) -> (TokenStream, Span) {
    let mut bounds = TokenStream::new();
    let mut span = route.ident().span();
    if let Some(arg) = route.arg {
        bounds.extend(bound(arg, krate, "DecodeBody"));
        span = arg.span();
    }
    if let Ret::Plain(ok) | Ret::Result(ok) = &route.ret {
        bounds.extend(bound(ok, krate, "EncodeBody"));
        if route.arg.is_none() {
            span = ok.span();
        }
    }
    (bounds, span)
}

fn register_route(
    route: &Route<'_>,
    client: &syn::Ident,
    krate: &syn::Path,
    self_ty: &syn::Type,
    group: &syn::Ident,
) -> TokenStream {
    let method = route.ident();
    let konst = const_ident(route);
    let mixed = Span::mixed_site();
    let (this, ctx, arg) = (
        syn::Ident::new("this", mixed),
        syn::Ident::new("ctx", mixed),
        syn::Ident::new("arg", mixed),
    );
    let inner =
        format_ident!("__route_{}", method.to_string().trim_start_matches("r#"), span = mixed);
    // A method that is not `async` becomes a synchronous handler: it runs as soon as its
    // argument is decoded, and no future is built or boxed for it.
    let is_async = route.original.sig.asyncness.is_some();
    let (ctx_ty, register_fn) = match (route.kind, is_async) {
        (Kind::Call, true) => (quote!(#krate::__private::CallCtx), quote!(route_call_fn)),
        (Kind::Push, true) => (quote!(#krate::__private::PushCtx), quote!(route_push_fn)),
        (Kind::Call, false) => (quote!(&#krate::__private::CallCtx), quote!(route_call_sync_fn)),
        (Kind::Push, false) => (quote!(&#krate::__private::PushCtx), quote!(route_push_sync_fn)),
    };
    let ctx_param = if route.ctx { quote!(#ctx: #ctx_ty) } else { quote!(_: #ctx_ty) };
    let (arg_param, arg_ty) = match route.arg {
        Some(t) => (quote!(#arg), quote!(#t)),
        None => (quote!(_), quote!(())),
    };
    let mut call_args = Vec::new();
    if route.ctx {
        call_args.push(if is_async { quote!(&#ctx) } else { quote!(#ctx) });
    }
    if route.arg.is_some() {
        call_args.push(quote!(#arg));
    }
    let invoke = quote!(#this.#method(#(#call_args),*));
    let invoke = if is_async { quote!(#invoke.await) } else { invoke };
    let result = match &route.ret {
        Ret::Unit => quote!({ #invoke; ::core::result::Result::Ok(()) }),
        Ret::Plain(_) => quote!(::core::result::Result::Ok(#invoke)),
        Ret::Result(_) => {
            quote!(::core::result::Result::map_err(#invoke, ::core::convert::Into::into))
        }
    };
    let sig_span = route.original.sig.span();
    let assert_send = quote!(#krate::__private::assert_send);
    // Located at the user's signature: a future that is not `Send` is reported there.
    let handler = if is_async {
        quote! {
            move |#ctx_param, #arg_param: #arg_ty| {
                let #this = ::core::clone::Clone::clone(&#this);
                #assert_send(async move { #result })
            }
        }
    } else {
        quote!(move |#ctx_param, #arg_param: #arg_ty| #result)
    };
    let handler = respan(handler, sig_span);
    let registration = respan(quote!(#group.#register_fn(#client::#konst, #handler)), sig_span);
    let (bounds, bounds_span) = type_bounds(route, krate);
    let call_inner =
        respan(quote!(#inner(::core::clone::Clone::clone(&self), #group)), bounds_span);
    quote! {
        #[allow(non_snake_case)]
        fn #inner(#this: #krate::__private::Arc<#self_ty>, #group: &#krate::__private::Group)
        where
            #bounds
        {
            #registration;
        }
        #call_inner;
    }
}
