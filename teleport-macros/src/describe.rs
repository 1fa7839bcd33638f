//! The service's manifest: `Service::manifest`, describing its routes as data (names,
//! kinds, types with their JSON Schemas when the runtime has the `schema` feature, docs).

use proc_macro2::TokenStream;
use quote::quote;
use teleport_codegen::Mapper;
use teleport_codegen::args::Kind;
use teleport_codegen::ast::{Route, Service};
use teleport_codegen::names::{type_text, unraw};

/// `fn manifest(&self) -> Option<ServiceManifest>`, inside the `Service` implementation.
pub(crate) fn manifest_fn(service: &Service, krate: &syn::Path) -> TokenStream {
    let p = quote!(#krate::__private);
    let name = service.type_name.to_string();
    let docs = &service.docs;
    let mapper = match service.mapper {
        Mapper::Http => "http",
        Mapper::Rpc => "rpc",
    };
    let prefix = &service.prefix;
    let routes = service.routes.iter().map(|route| route_manifest(route, krate));
    quote! {
        fn manifest(&self) -> ::core::option::Option<#p::ServiceManifest> {
            ::core::option::Option::Some(#p::service_manifest(
                #name, #docs, #mapper, #prefix, [#(#routes),*],
            ))
        }
    }
}

fn route_manifest(route: &Route, krate: &syn::Path) -> TokenStream {
    let p = quote!(#krate::__private);
    let (name, method, docs) = (&route.name, unraw(route.ident()), route.docs());
    let unit: syn::Type = syn::parse_quote!(());
    let arg = type_manifest(route.arg.as_ref().unwrap_or(&unit), krate);
    let (kind, reply) = match route.kind {
        Kind::Call => {
            let reply = type_manifest(&route.ret.ok_type(), krate);
            (quote!(Call), quote!(::core::option::Option::Some(#reply)))
        }
        Kind::Push => (quote!(Push), quote!(::core::option::Option::None)),
    };
    quote!(#p::route_manifest(#name, #method, #p::RouteKind::#kind, #docs, #arg, #reply))
}

/// The Rust name of `ty`, and its schema if the runtime can make one: with the `schema`
/// feature, for a type that implements `JsonSchema` (the probe's method resolution picks
/// the schema where the bound holds, and `None` elsewhere).
fn type_manifest(ty: &syn::Type, krate: &syn::Path) -> TokenStream {
    let p = quote!(#krate::__private);
    let text = type_text(ty);
    quote! {
        #p::type_manifest(#text, {
            #[allow(unused_imports)]
            use #p::{NoSchema as _, WithSchema as _};
            (&#p::SchemaProbe::<#ty>::NEW).schema()
        })
    }
}
