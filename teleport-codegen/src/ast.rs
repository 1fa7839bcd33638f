//! The model of a service: its routes, read from an impl block or from a trait.

use proc_macro2::Span;
use syn::{Attribute, ImplItem, ItemImpl, ItemTrait, Signature, TraitItem, Type, Visibility};
use teleport_mapper::Mapper;

use crate::args::{Kind, ServiceArgs, parse_method_args};
use crate::ctxt::Ctxt;
use crate::method;

/// A service: its name, docs, naming rules and the routes of its methods. Read from an
/// impl block or a trait by [`parse_impl`] / [`parse_trait`], or built from a manifest.
pub struct Service {
    /// The type or trait the service is written on (`Math`).
    pub type_name: syn::Ident,
    /// The visibility of the generated types: the trait's, or `pub` for an impl block.
    pub vis: Visibility,
    /// The doc comment of the impl block or trait.
    pub docs: String,
    /// The mapper that named the routes.
    pub mapper: Mapper,
    /// The prefix of `#[service(prefix = ..)]`, or `""`.
    pub prefix: String,
    /// The routes, in the order the methods are written.
    pub routes: Vec<Route>,
    /// Every method name, routed or not, to find clashes with generated names.
    pub methods: Vec<syn::Ident>,
}

/// One method that becomes a route.
pub struct Route {
    /// The method's name: the client stub's name.
    pub ident: syn::Ident,
    /// The method's `#[doc]` attributes.
    pub doc_attrs: Vec<Attribute>,
    /// Whether it is a call or a push.
    pub kind: Kind,
    /// The full route name.
    pub name: String,
    /// Where the route name comes from (the method's name or its `route = ".."`).
    pub name_span: Span,
    /// Whether the method takes a context.
    pub ctx: bool,
    /// The argument's type, if the method takes one.
    pub arg: Option<Type>,
    /// What the method returns.
    pub ret: Ret,
    /// Whether the method is `async`.
    pub is_async: bool,
    /// The span of the method's signature.
    pub span: Span,
    /// Runs on the blocking thread pool (`#[tp(blocking)]`, methods that are not `async`).
    pub blocking: bool,
    /// May be retried after its request was written (`#[tp(idempotent)]`, calls only).
    pub idempotent: bool,
}

/// What a method returns.
pub enum Ret {
    /// Nothing.
    Unit,
    /// A value, always a success.
    Plain(Type),
    /// A `Result` (or an alias of one): the value type, the error type when it is
    /// written, and the whole type.
    Result {
        /// The value type.
        ok: Type,
        /// The error type, when written.
        err: Option<Box<Type>>,
        /// The whole type.
        whole: Box<Type>,
    },
}

impl Ret {
    /// The type of the reply value.
    pub fn ok_type(&self) -> Type {
        match self {
            Ret::Unit => syn::parse_quote!(()),
            Ret::Plain(ty) | Ret::Result { ok: ty, .. } => ty.clone(),
        }
    }

    /// The reply value's type as the user wrote it, if there is one.
    pub fn value(&self) -> Option<&Type> {
        match self {
            Ret::Unit => None,
            Ret::Plain(ty) | Ret::Result { ok: ty, .. } => Some(ty),
        }
    }
}

impl Route {
    /// The method's name.
    pub fn ident(&self) -> &syn::Ident {
        &self.ident
    }

    /// The method's doc comment as text: one line per `///` line, the leading space removed.
    pub fn docs(&self) -> String {
        doc_text(&self.doc_attrs)
    }
}

/// The text of `#[doc = ".."]` attributes, one line each, with the one space `///` leaves
/// removed, trimmed as a whole.
pub fn doc_text(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter_map(|attr| match &attr.meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| line.strip_prefix(' ').map(str::to_owned).unwrap_or(line))
        .collect();
    lines.join("\n").trim().to_owned()
}

/// The `#[doc]` attributes of `attrs`.
pub fn doc_attrs(attrs: &[Attribute]) -> Vec<Attribute> {
    attrs.iter().filter(|a| a.path().is_ident("doc")).cloned().collect()
}

/// Reads the service of an impl block; `None` when it has no usable type name (reported).
pub fn parse_impl(item: &ItemImpl, args: &ServiceArgs, cx: &mut Ctxt) -> Option<Service> {
    let generic = check_impl(item, cx);
    let type_name = self_type_name(&item.self_ty, generic, cx)?;
    let mut service = Service {
        type_name,
        vis: syn::parse_quote!(pub),
        docs: doc_text(&item.attrs),
        mapper: args.mapper,
        prefix: args.prefix.clone(),
        routes: Vec::new(),
        methods: Vec::new(),
    };
    for impl_item in &item.items {
        match impl_item {
            ImplItem::Fn(f) => service.add_method(&f.attrs, &f.sig, args, cx),
            other => cx.error(
                other,
                "#[service] impl blocks hold only methods: move this item to another impl block",
            ),
        }
    }
    Some(service)
}

/// Reads the service of a trait.
pub fn parse_trait(item: &ItemTrait, args: &ServiceArgs, cx: &mut Ctxt) -> Service {
    if !item.generics.params.is_empty() || item.generics.where_clause.is_some() {
        cx.error(
            &item.generics,
            "#[service] traits cannot be generic: every route needs concrete types",
        );
    }
    if let Some(unsafety) = &item.unsafety {
        cx.error(unsafety, "#[service] traits cannot be `unsafe`");
    }
    let mut service = Service {
        type_name: item.ident.clone(),
        vis: item.vis.clone(),
        docs: doc_text(&item.attrs),
        mapper: args.mapper,
        prefix: args.prefix.clone(),
        routes: Vec::new(),
        methods: Vec::new(),
    };
    for trait_item in &item.items {
        match trait_item {
            TraitItem::Fn(f) => service.add_method(&f.attrs, &f.sig, args, cx),
            TraitItem::Type(ty) => cx.error(
                ty,
                "#[service] traits have no associated types: the routes of a contract need concrete types",
            ),
            TraitItem::Const(c) => cx.error(
                c,
                "#[service] traits have no associated consts: move the constant out of the trait",
            ),
            other => cx.error(other, "#[service] traits hold only methods"),
        }
    }
    service
}

impl Service {
    fn add_method(
        &mut self,
        attrs: &[Attribute],
        sig: &Signature,
        args: &ServiceArgs,
        cx: &mut Ctxt,
    ) {
        self.methods.push(sig.ident.clone());
        let margs = parse_method_args(attrs, cx);
        if margs.skip {
            return;
        }
        let route = method::parse(attrs, sig, margs, &self.type_name, args, cx);
        self.routes.push(route);
    }
}

/// Checks the impl block itself; returns whether it is generic (already reported).
fn check_impl(item: &ItemImpl, cx: &mut Ctxt) -> bool {
    if let Some((_, path, _)) = &item.trait_ {
        cx.error(
            path,
            "#[service] goes on an inherent impl block, not a trait impl: put it on the trait itself and register the implementation with the generated `{Trait}Server`",
        );
    }
    let generic = !item.generics.params.is_empty() || item.generics.where_clause.is_some();
    if generic {
        cx.error(&item.generics, "#[service] does not support generic impl blocks");
    }
    generic
}

fn self_type_name(ty: &Type, generic: bool, cx: &mut Ctxt) -> Option<syn::Ident> {
    if let Type::Path(path) = ty {
        if path.qself.is_none() {
            if let Some(last) = path.path.segments.last() {
                if last.arguments.is_empty() || generic {
                    return Some(last.ident.clone());
                }
            }
        }
    }
    cx.error(ty, "#[service] needs a plain type name, such as `impl Math`");
    None
}
