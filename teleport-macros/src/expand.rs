//! The entry of `#[service]`: reads the item, checks it, and emits the user's item with
//! the generated code (or, on error, with the fallback).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{ImplItem, Item, ItemImpl, ItemTrait};
use teleport_codegen::args::{ServiceArgs, is_tp_attr, parse_service_args};
use teleport_codegen::ast::{self, Service};
use teleport_codegen::ctxt::Ctxt;
use teleport_codegen::{check, client};

use crate::{contract, describe, fallback, server};

/// Where the service is written.
#[derive(Clone, Copy)]
pub(crate) enum Form<'a> {
    /// `#[service] impl Math { .. }`: the routes call the type's own methods.
    Impl(&'a ItemImpl),
    /// `#[service] trait Math { .. }`: the contract; any implementation is served through
    /// the generated `MathServer`.
    Trait(&'a ItemTrait),
}

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
    let generated = generate(&service, Form::Impl(item), args, &cx);
    let errors = cx.into_compile_errors();
    quote!(#user #generated #errors)
}

fn trait_form(item: &ItemTrait, args: &ServiceArgs, mut cx: Ctxt) -> TokenStream {
    let service = ast::parse_trait(item, args, &mut cx);
    check::check(&service, &mut cx);
    let user = contract::rewrite(item);
    let server = if cx.has_errors() { quote!() } else { contract::server_type(&service) };
    let generated = generate(&service, Form::Trait(item), args, &cx);
    let errors = cx.into_compile_errors();
    quote!(#user #server #generated #errors)
}

/// The client and the `Service` implementation, or their empty fallback on error.
fn generate(service: &Service, form: Form<'_>, args: &ServiceArgs, cx: &Ctxt) -> TokenStream {
    if cx.has_errors() {
        return fallback::generated(service, form, &args.krate);
    }
    let client = client::client(service, &args.krate);
    let describe = describe::manifest_fn(service, &args.krate);
    let register = server::register(service, form, &args.krate, describe);
    quote!(#client #register)
}
