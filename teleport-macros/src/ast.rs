//! The model of a service: its routes, read from an impl block or from a trait.

use proc_macro2::Span;
use syn::{Attribute, ImplItem, ItemImpl, ItemTrait, Signature, TraitItem, Type, Visibility};

use crate::args::{Kind, ServiceArgs, parse_method_args};
use crate::ctxt::Ctxt;
use crate::method;

/// Where the service is written.
pub(crate) enum Form<'a> {
    /// `#[service] impl Math { .. }`: the routes call the type's own methods.
    Impl(&'a ItemImpl),
    /// `#[service] trait Math { .. }`: the contract; any implementation is served through
    /// the generated `MathServer`.
    Trait(&'a ItemTrait),
}

/// A service: where it is written, its name and the routes of its methods.
pub(crate) struct Service<'a> {
    pub(crate) form: Form<'a>,
    pub(crate) type_name: syn::Ident,
    /// The visibility of the generated types: the trait's, or `pub` for an impl block.
    pub(crate) vis: Visibility,
    pub(crate) routes: Vec<Route<'a>>,
    /// Every method name, routed or not, to find clashes with generated names.
    pub(crate) methods: Vec<&'a syn::Ident>,
}

/// One method that becomes a route.
pub(crate) struct Route<'a> {
    pub(crate) attrs: &'a [Attribute],
    pub(crate) sig: &'a Signature,
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) ctx: bool,
    pub(crate) arg: Option<&'a Type>,
    pub(crate) ret: Ret<'a>,
    /// Runs on the blocking thread pool (`#[tp(blocking)]`, methods that are not `async`).
    pub(crate) blocking: bool,
    /// May be retried after its request was written (`#[tp(idempotent)]`, calls only).
    pub(crate) idempotent: bool,
}

/// What a method returns.
pub(crate) enum Ret<'a> {
    /// Nothing.
    Unit,
    /// A value, always a success.
    Plain(&'a Type),
    /// A `Result` (or an alias of one): the value type, the error type when it is
    /// written, and the whole type.
    Result { ok: &'a Type, err: Option<&'a Type>, whole: &'a Type },
}

impl Ret<'_> {
    /// The type of the reply value.
    pub(crate) fn ok_type(&self) -> Type {
        match self {
            Ret::Unit => syn::parse_quote!(()),
            Ret::Plain(ty) | Ret::Result { ok: ty, .. } => (*ty).clone(),
        }
    }

    /// The reply value's type as the user wrote it, if there is one.
    pub(crate) fn value(&self) -> Option<&Type> {
        match self {
            Ret::Unit => None,
            Ret::Plain(ty) | Ret::Result { ok: ty, .. } => Some(ty),
        }
    }
}

impl Route<'_> {
    pub(crate) fn ident(&self) -> &syn::Ident {
        &self.sig.ident
    }

    pub(crate) fn is_async(&self) -> bool {
        self.sig.asyncness.is_some()
    }
}

pub(crate) fn parse_impl<'a>(
    item: &'a ItemImpl,
    args: &ServiceArgs,
    cx: &mut Ctxt,
) -> Option<Service<'a>> {
    let generic = check_impl(item, cx);
    let type_name = self_type_name(&item.self_ty, generic, cx)?;
    let mut service = Service {
        form: Form::Impl(item),
        type_name,
        vis: syn::parse_quote!(pub),
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

pub(crate) fn parse_trait<'a>(
    item: &'a ItemTrait,
    args: &ServiceArgs,
    cx: &mut Ctxt,
) -> Service<'a> {
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
        form: Form::Trait(item),
        type_name: item.ident.clone(),
        vis: item.vis.clone(),
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

impl<'a> Service<'a> {
    fn add_method(
        &mut self,
        attrs: &'a [Attribute],
        sig: &'a Signature,
        args: &ServiceArgs,
        cx: &mut Ctxt,
    ) {
        self.methods.push(&sig.ident);
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
