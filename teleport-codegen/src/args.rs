//! The arguments of `#[service(...)]` and of the per-method `#[tp(...)]` attributes.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::{Attribute, LitStr, Path};
use teleport_mapper::Mapper;

use crate::ctxt::Ctxt;

/// What `#[service(...)]` says.
pub struct ServiceArgs {
    /// `mapper = "http" | "rpc"`; default http.
    pub mapper: Mapper,
    /// `prefix = ".."`; default none.
    pub prefix: String,
    /// The path of the teleport crate (`::teleport` unless renamed).
    pub krate: Path,
}

/// Reads `#[service(...)]`'s arguments, reporting unknown ones in `cx`.
pub fn parse_service_args(args: TokenStream, cx: &mut Ctxt) -> ServiceArgs {
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
pub enum Kind {
    /// A call: answered with a reply.
    Call,
    /// A push: one-way.
    Push,
}

/// What the `#[tp(...)]` attributes of one method say.
pub struct MethodArgs {
    /// `push` or `call` (the default).
    pub kind: Kind,
    /// `skip`: the method is no route.
    pub skip: bool,
    /// `route = ".."`: the route name, overriding the mapper's.
    pub route: Option<(String, Span)>,
    /// `#[tp(blocking)]`: the method runs on the blocking thread pool.
    pub blocking: bool,
    /// `#[tp(idempotent)]`: the call may run twice safely, so it may be retried.
    pub idempotent: bool,
}

/// Whether `attr` is a `#[tp(...)]` attribute.
pub fn is_tp_attr(attr: &Attribute) -> bool {
    attr.path().is_ident("tp")
}

/// Reads the `#[tp(...)]` attributes of one method, reporting unknown keys in `cx`.
pub fn parse_method_args(attrs: &[Attribute], cx: &mut Ctxt) -> MethodArgs {
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
