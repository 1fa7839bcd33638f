//! The trait form: the contract rewritten so that its futures are `Send`, and the
//! `{Trait}Server` wrapper that serves any implementation of it.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemTrait, ReturnType, TraitItem};

use teleport_codegen::args::is_tp_attr;
use teleport_codegen::ast::Service;
use teleport_codegen::names::server_ident;

/// The trait as users implement it: `#[tp]` attributes removed, `Send + Sync + 'static`
/// added (the runtime shares the service between tasks), and every `async fn` (helpers
/// included) turned into a `fn` returning `impl Future + Send`. An implementation still
/// writes `async fn`; a future of its that is not `Send` is reported on its method.
pub(crate) fn rewrite(item: &ItemTrait) -> ItemTrait {
    let mut out = item.clone();
    out.supertraits.push(syn::parse_quote!(::core::marker::Send));
    out.supertraits.push(syn::parse_quote!(::core::marker::Sync));
    out.supertraits.push(syn::parse_quote!('static));
    for trait_item in &mut out.items {
        let TraitItem::Fn(f) = trait_item else { continue };
        f.attrs.retain(|a| !is_tp_attr(a));
        if f.sig.asyncness.is_none() {
            continue;
        }
        f.sig.asyncness = None;
        let (value, span) = match &f.sig.output {
            ReturnType::Default => (quote!(()), f.sig.ident.span()),
            ReturnType::Type(_, ty) => (quote!(#ty), ty.span()),
        };
        f.sig.output = syn::parse_quote_spanned! {span=>
            -> impl ::core::future::Future<Output = #value> + ::core::marker::Send
        };
        if let Some(block) = &f.default {
            let span = block.span();
            f.default = Some(syn::parse_quote_spanned!(span=> { async move #block }));
        }
    }
    out
}

/// `{Trait}Server<S>`: what registers an implementation `S` of the trait.
pub(crate) fn server_type(service: &Service) -> TokenStream {
    let ty = &service.type_name;
    let vis = &service.vis;
    let server = server_ident(service);
    let doc = format!(
        "Serves an implementation of [`{ty}`]: `peer.route({server}::new(implementation))` registers one route per method."
    );
    quote_spanned! {ty.span()=>
        #[doc = #doc]
        #[derive(Clone, Copy, Debug, Default)]
        #vis struct #server<S>(S);

        impl<S> #server<S> {
            /// Wraps an implementation, to be registered with `route`.
            #[allow(dead_code)]
            #vis const fn new(service: S) -> Self {
                #server(service)
            }
        }
    }
}
