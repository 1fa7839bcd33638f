//! Client code from the Rust source of `#[service]` traits and impl blocks: read with the
//! macro's own parser, so the routes and stubs are those the macro makes.

use std::collections::BTreeSet;
use std::path::Path;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Item};
use teleport_codegen::args::parse_service_args;
use teleport_codegen::ast::{self, Ret, Service};
use teleport_codegen::ctxt::Ctxt;

use crate::Options;
use crate::error::Error;
use crate::types::TypeMap;

/// The clients of every `#[service]` item in the source `text`, read from `file`.
pub(crate) fn generate(text: &str, file: &Path, options: &Options) -> Result<TokenStream, Error> {
    let parsed =
        syn::parse_file(text).map_err(|e| Error::new(file, "", format!("not Rust source: {e}")))?;
    let krate = options.krate()?;
    let mut clients = Vec::new();
    collect(&parsed.items, file, options, &krate, &mut clients)?;
    if clients.is_empty() {
        return Err(Error::new(file, "", "no `#[service]` trait or impl block in it"));
    }
    Ok(quote!(#(#clients)*))
}

/// Walks the items, inline modules included.
fn collect(
    items: &[Item],
    file: &Path,
    options: &Options,
    krate: &syn::Path,
    clients: &mut Vec<TokenStream>,
) -> Result<(), Error> {
    for item in items {
        let (attrs, what) = match item {
            Item::Trait(t) => (&t.attrs, format!("trait {}", t.ident)),
            Item::Impl(i) => {
                let ty = &i.self_ty;
                (&i.attrs, format!("impl {}", quote!(#ty)))
            }
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect(items, file, options, krate, clients)?;
                }
                continue;
            }
            _ => continue,
        };
        let Some(attr) = attrs.iter().find(|a| is_service_attr(a)) else { continue };
        let mut service = parse(item, attr).map_err(|e| Error::new(file, &what, e))?;
        map_types(&mut service, options, krate).map_err(|e| Error::new(file, &what, e))?;
        clients.push(teleport_codegen::client::client(&service, krate));
    }
    Ok(())
}

/// `#[service]`, `#[tp::service]`, `#[teleport::service(..)]`...
fn is_service_attr(attr: &Attribute) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == "service")
}

fn parse(item: &Item, attr: &Attribute) -> Result<Service, String> {
    let mut cx = Ctxt::default();
    let args = match &attr.meta {
        syn::Meta::List(list) => list.tokens.clone(),
        _ => TokenStream::new(),
    };
    let args = parse_service_args(args, &mut cx);
    let service = match item {
        Item::Trait(t) => Some(ast::parse_trait(t, &args, &mut cx)),
        Item::Impl(i) => ast::parse_impl(i, &args, &mut cx),
        _ => None,
    };
    if let Some(service) = &service {
        teleport_codegen::check::check(service, &mut cx);
    }
    let errors: Vec<String> = cx.into_errors().iter().map(ToString::to_string).collect();
    match service {
        Some(service) if errors.is_empty() => Ok(service),
        _ => Err(errors.join("; ")),
    }
}

/// The argument and reply types with their names resolved for the client's crate, and
/// the client public: the including crate decides how far it is seen.
fn map_types(service: &mut Service, options: &Options, krate: &syn::Path) -> Result<(), String> {
    service.vis = syn::parse_quote!(pub);
    let defined = BTreeSet::new();
    let map = TypeMap { extern_paths: &options.extern_paths, defined: &defined, krate };
    for route in &mut service.routes {
        let at = |e: String| format!("`{}`: {e}", route.ident);
        if let Some(arg) = &route.arg {
            route.arg = Some(map.resolve(arg).map_err(at)?);
        }
        if let Some(value) = route.ret.value() {
            route.ret = Ret::Plain(map.resolve(value).map_err(at)?);
        }
    }
    Ok(())
}
