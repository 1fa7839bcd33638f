//! The entry of `#[service]`: reads the item, checks it, and emits the user's item with
//! the generated code (or, on error, with the fallback).

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::{ImplItem, Item, ItemImpl, ItemTrait};

use crate::args::{ServiceArgs, is_tp_attr, parse_service_args};
use crate::ast::{self, Service};
use crate::ctxt::Ctxt;
use crate::{check, client, contract, fallback, server};

pub(crate) fn service(args: TokenStream, input: TokenStream) -> TokenStream {
    let item: Item = match syn::parse2(input) {
        Ok(item) => item,
        Err(e) => return e.to_compile_error(),
    };
    let mut cx = Ctxt::default();
    let args = parse_service_args(args, &mut cx);
    match item {
        Item::Impl(item) => impl_form(&item, &args, cx),
        Item::Trait(item) => trait_form(&item, &args, cx),
        other => {
            cx.error(
                quote!(#other),
                "#[service] goes on an impl block (`impl Math { .. }`) or a trait (`trait Math { .. }`)",
            );
            let errors = cx.into_compile_errors();
            quote!(#other #errors)
        }
    }
}

fn impl_form(item: &ItemImpl, args: &ServiceArgs, mut cx: Ctxt) -> TokenStream {
    let mut user = item.clone();
    for impl_item in &mut user.items {
        if let ImplItem::Fn(method) = impl_item {
            method.attrs.retain(|a| !is_tp_attr(a));
        }
    }
    let Some(service) = ast::parse_impl(item, args, &mut cx) else {
        let errors = cx.into_compile_errors();
        return quote!(#user #errors);
    };
    check::check(&service, &mut cx);
    let generated = generate(&service, args, &cx);
    let errors = cx.into_compile_errors();
    quote!(#user #generated #errors)
}

fn trait_form(item: &ItemTrait, args: &ServiceArgs, mut cx: Ctxt) -> TokenStream {
    let service = ast::parse_trait(item, args, &mut cx);
    check::check(&service, &mut cx);
    let user = contract::rewrite(item);
    let server = if cx.has_errors() { quote!() } else { contract::server_type(&service) };
    let generated = generate(&service, args, &cx);
    let errors = cx.into_compile_errors();
    quote!(#user #server #generated #errors)
}

/// The client and the `Service` implementation, or their empty fallback on error.
fn generate(service: &Service<'_>, args: &ServiceArgs, cx: &Ctxt) -> TokenStream {
    if cx.has_errors() {
        return fallback::generated(service, &args.krate);
    }
    let client = client::client(service, &args.krate);
    let register = server::register(service, &args.krate);
    quote!(#client #register)
}

pub(crate) fn client_ident(service: &Service<'_>) -> syn::Ident {
    format_ident!("{}Client", service.type_name)
}

pub(crate) fn server_ident(service: &Service<'_>) -> syn::Ident {
    format_ident!("{}Server", service.type_name)
}

/// Moves every token to the location of `span`, keeping how each name resolves (hygiene).
pub(crate) fn respan(tokens: TokenStream, span: Span) -> TokenStream {
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
