//! The arguments of `#[service(...)]` and of the per-method `#[tp(...)]` attributes.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::{Attribute, LitStr, Path};
use teleport_mapper::Mapper;

use crate::ctxt::Ctxt;

/// What `#[service(...)]` says.
pub(crate) struct ServiceArgs {
    pub(crate) mapper: Mapper,
    pub(crate) prefix: String,
    /// The path of the teleport crate (`::teleport` unless renamed).
    pub(crate) krate: Path,
}

pub(crate) fn parse_service_args(args: TokenStream, cx: &mut Ctxt) -> ServiceArgs {
    let mut out = ServiceArgs {
        mapper: Mapper::Http,
        prefix: String::new(),
        krate: syn::parse_quote!(::teleport),
    };
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("mapper") {
            let lit: LitStr = meta.value()?.parse()?;
            match lit.value().as_str() {
                "http" => out.mapper = Mapper::Http,
                "rpc" => out.mapper = Mapper::Rpc,
                _ => cx.error(&lit, "unknown mapper: expected \"http\" or \"rpc\""),
            }
        } else if meta.path.is_ident("prefix") {
            out.prefix = meta.value()?.parse::<LitStr>()?.value();
        } else if meta.path.is_ident("crate") {
            out.krate = meta.value()?.parse()?;
        } else {
            cx.error(
                &meta.path,
                "unknown #[service] argument: expected `mapper`, `prefix` or `crate`",
            );
            // Skip the value so parsing goes on with the next argument.
            if meta.input.peek(syn::Token![=]) {
                let _: syn::Expr = meta.value()?.parse()?;
            }
        }
        Ok(())
    });
    if let Err(e) = parser.parse2(args) {
        cx.push(e);
    }
    out
}

/// The kind of route a method becomes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Call,
    Push,
}

/// What the `#[tp(...)]` attributes of one method say.
pub(crate) struct MethodArgs {
    pub(crate) kind: Kind,
    pub(crate) skip: bool,
    pub(crate) route: Option<(String, Span)>,
    /// `#[tp(blocking)]`: the method runs on the blocking thread pool.
    pub(crate) blocking: bool,
    /// `#[tp(idempotent)]`: the call may run twice safely, so it may be retried.
    pub(crate) idempotent: bool,
}

pub(crate) fn is_tp_attr(attr: &Attribute) -> bool {
    attr.path().is_ident("tp")
}

pub(crate) fn parse_method_args(attrs: &[Attribute], cx: &mut Ctxt) -> MethodArgs {
    let mut out = MethodArgs {
        kind: Kind::Call,
        skip: false,
        route: None,
        blocking: false,
        idempotent: false,
    };
    for attr in attrs.iter().filter(|a| is_tp_attr(a)) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("push") {
                out.kind = Kind::Push;
            } else if meta.path.is_ident("call") {
                out.kind = Kind::Call;
            } else if meta.path.is_ident("skip") {
                out.skip = true;
            } else if meta.path.is_ident("blocking") {
                out.blocking = true;
            } else if meta.path.is_ident("idempotent") {
                out.idempotent = true;
            } else if meta.path.is_ident("route") {
                let lit: LitStr = meta.value()?.parse()?;
                if lit.value().is_empty() || lit.value().len() > 255 {
                    cx.error(&lit, "a route name is 1 to 255 bytes long");
                }
                out.route = Some((lit.value(), lit.span()));
            } else {
                cx.error(
                    &meta.path,
                    "unknown #[tp] key: expected `push`, `call`, `skip`, `blocking`, `idempotent` or `route = \"...\"`",
                );
                if meta.input.peek(syn::Token![=]) {
                    let _: syn::Expr = meta.value()?.parse()?;
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            cx.push(e);
        }
    }
    out
}
