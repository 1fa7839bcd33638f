//! The server side: the `Service` implementation that registers one route per method,
//! for an impl block itself or for the `{Trait}Server` wrapper of a contract.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use teleport_codegen::args::Kind;
use teleport_codegen::ast::{Ret, Route, Service};
use teleport_codegen::client::bound;
use teleport_codegen::names::{client_ident, const_ident, respan, server_ident, unraw};

use crate::expand::Form;

/// The generic parameter of the functions that register a contract's routes.
fn impl_param() -> syn::Ident {
    syn::Ident::new("__TpService", Span::call_site())
}

/// The `Service` implementation: `register` one route per method, and `manifest`, the
/// service's description.
pub(crate) fn register(
    service: &Service,
    form: Form<'_>,
    krate: &syn::Path,
    manifest_fn: TokenStream,
) -> TokenStream {
    let group = syn::Ident::new("group", Span::mixed_site());
    let routes =
        service.routes.iter().map(|route| register_route(service, form, route, krate, &group));
    let routes = quote!(#(#routes)*);
    match form {
        Form::Impl(item) => {
            let self_ty = &item.self_ty;
            quote! {
                #[automatically_derived]
                impl #krate::__private::Service for #self_ty {
                    fn register(self: #krate::__private::Arc<Self>, #group: &#krate::__private::Group) {
                        #routes
                    }
                    #manifest_fn
                }
            }
        }
        Form::Trait(item) => {
            let server = server_ident(service);
            let trait_ident = &item.ident;
            let param = impl_param();
            quote! {
                #[automatically_derived]
                impl<#param: #trait_ident> #krate::__private::Service for #server<#param> {
                    fn register(self: #krate::__private::Arc<Self>, #group: &#krate::__private::Group) {
                        #routes
                    }
                    #manifest_fn
                }
            }
        }
    }
}

/// The checks a route's types must pass, each spanned at the user's type. Every one is
/// reported once, where it is first required (see [`chain`]).
fn type_bounds(route: &Route, krate: &syn::Path) -> Vec<(TokenStream, Span)> {
    let mut bounds = Vec::new();
    // The server decodes the argument and encodes the reply; the client's side of each
    // is checked where a stub is called.
    if let Some(arg) = &route.arg {
        bounds.push((bound(arg, krate, quote!(DecodeBody)), arg.span()));
    }
    if let Some(value) = route.ret.value() {
        bounds.push((bound(value, krate, quote!(EncodeBody)), value.span()));
    }
    match &route.ret {
        Ret::Result { err: Some(err), .. } => {
            let span = err.span();
            let path = respan(quote!(#krate::__private::ReplyError<#err>), span);
            let status = respan(quote!(#krate::__private::Status), span);
            bounds.push((quote_spanned!(span=> for<'__tp> #status: #path,), span));
        }
        Ret::Result { ok, err: None, whole } => {
            bounds.push((bound(whole, krate, quote!(IntoReply<#ok>)), whole.span()));
        }
        _ => {}
    }
    bounds
}

fn register_route(
    service: &Service,
    form: Form<'_>,
    route: &Route,
    krate: &syn::Path,
    group: &syn::Ident,
) -> TokenStream {
    let mixed = Span::mixed_site();
    let this = syn::Ident::new("this", mixed);
    let registration = registration(service, form, route, krate, group, &this);
    let (generics, this_ty) = match form {
        Form::Impl(item) => {
            let self_ty = &item.self_ty;
            (quote!(), quote!(#krate::__private::Arc<#self_ty>))
        }
        Form::Trait(item) => {
            let (param, trait_ident, server) = (impl_param(), &item.ident, server_ident(service));
            (quote!(<#param: #trait_ident>), quote!(#krate::__private::Arc<#server<#param>>))
        }
    };
    let fns = Fns {
        base: format!("__route_{}", unraw(route.ident())),
        generics,
        this_ty,
        group_ty: quote!(#krate::__private::Group),
        this,
        group: group.clone(),
        fallback_span: route.span,
    };
    fns.chain(type_bounds(route, krate), registration)
}

/// The functions that register one route, and what they have in common.
struct Fns {
    base: String,
    generics: TokenStream,
    this_ty: TokenStream,
    group_ty: TokenStream,
    this: syn::Ident,
    group: syn::Ident,
    /// Where the first function is called when there is no bound to point at.
    fallback_span: Span,
}

impl Fns {
    /// Functions `f0 .. fn`, `fi` declaring the first `i + 1` bounds and calling `fi+1` at
    /// the span of its new bound: an unmet bound is reported once, on the user's type, and
    /// the last function, which registers the route, may rely on all of them. `register`
    /// calls `f0`.
    fn chain(&self, bounds: Vec<(TokenStream, Span)>, registration: TokenStream) -> TokenStream {
        let Fns { generics, this_ty, group_ty, this, group, .. } = self;
        let call_at = |i: usize| bounds.get(i).map_or(self.fallback_span, |(_, span)| *span);
        let last = bounds.len().saturating_sub(1);
        let mut registration = Some(registration);
        let mut out = TokenStream::new();
        for i in 0..=last {
            let f = self.name(i);
            let preds = bounds.iter().take(i + 1).map(|(b, _)| b);
            let body = match registration.take_if(|_| i == last) {
                Some(registration) => registration,
                None => {
                    let next = self.name(i + 1);
                    respan(quote!(#next(#this, #group)), call_at(i + 1))
                }
            };
            out.extend(quote! {
                #[allow(non_snake_case)]
                fn #f #generics(#this: #this_ty, #group: &#group_ty)
                where
                    #(#preds)*
                {
                    #body;
                }
            });
        }
        let first = self.name(0);
        let call = respan(quote!(#first(::core::clone::Clone::clone(&self), #group)), call_at(0));
        quote!(#out #call;)
    }

    fn name(&self, i: usize) -> syn::Ident {
        format_ident!("{}_{i}", self.base, span = Span::mixed_site())
    }
}

/// `group.route_*_fn(Client::ROUTE, handler)`, spanned at the user's signature so that a
/// future that is not `Send` is reported there.
fn registration(
    service: &Service,
    form: Form<'_>,
    route: &Route,
    krate: &syn::Path,
    group: &syn::Ident,
    this: &syn::Ident,
) -> TokenStream {
    let mixed = Span::mixed_site();
    let (ctx, arg) = (syn::Ident::new("ctx", mixed), syn::Ident::new("arg", mixed));
    let is_async = route.is_async;
    // A method that is not `async` becomes a synchronous handler: it runs as soon as its
    // argument is decoded, and no future is built or boxed for it.
    // One marked `#[tp(blocking)]` runs on the blocking thread pool instead.
    let (ctx_ty, register_fn) = match (route.kind, is_async, route.blocking) {
        (Kind::Call, true, _) => (quote!(#krate::__private::CallCtx), quote!(route_call_fn)),
        (Kind::Push, true, _) => (quote!(#krate::__private::PushCtx), quote!(route_push_fn)),
        (Kind::Call, false, false) => {
            (quote!(&#krate::__private::CallCtx), quote!(route_call_sync_fn))
        }
        (Kind::Push, false, false) => {
            (quote!(&#krate::__private::PushCtx), quote!(route_push_sync_fn))
        }
        (Kind::Call, false, true) => {
            (quote!(&#krate::__private::CallCtx), quote!(route_call_blocking_fn))
        }
        (Kind::Push, false, true) => {
            (quote!(&#krate::__private::PushCtx), quote!(route_push_blocking_fn))
        }
    };
    let ctx_param = if route.ctx { quote!(#ctx: #ctx_ty) } else { quote!(_: #ctx_ty) };
    let (arg_param, arg_ty) = match &route.arg {
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
    let method = route.ident();
    let invoke = match form {
        Form::Impl(_) => quote!(#this.#method(#(#call_args),*)),
        Form::Trait(item) => {
            let (param, trait_ident) = (impl_param(), &item.ident);
            quote!(<#param as #trait_ident>::#method(&#this.0, #(#call_args),*))
        }
    };
    let invoke = if is_async { quote!(#invoke.await) } else { invoke };
    let result = match &route.ret {
        Ret::Unit => quote!({ #invoke; ::core::result::Result::Ok(()) }),
        Ret::Plain(_) => quote!(::core::result::Result::Ok(#invoke)),
        Ret::Result { err: Some(err), .. } => quote! {
            ::core::result::Result::map_err(
                #invoke,
                <#krate::__private::Status as #krate::__private::ReplyError<#err>>::from_reply_error,
            )
        },
        Ret::Result { ok, err: None, .. } => {
            quote!(#krate::__private::IntoReply::<#ok>::into_reply(#invoke))
        }
    };
    let assert_send = quote!(#krate::__private::assert_send);
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
    let sig_span = route.span;
    let client = client_ident(service);
    let konst = const_ident(route);
    respan(quote!(#group.#register_fn(#client::#konst, #handler)), sig_span)
}
