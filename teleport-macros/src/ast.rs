//! The model of a service: its methods as routes, read from the impl block.

use proc_macro2::Span;
use syn::{
    FnArg, GenericArgument, ImplItem, ImplItemFn, ItemImpl, PathArguments, ReturnType, Type,
};

use crate::args::{Kind, ServiceArgs, parse_method_args};
use crate::ctxt::Ctxt;

/// A service: the impl block and the routes of its methods.
pub(crate) struct Service<'a> {
    pub(crate) original: &'a ItemImpl,
    pub(crate) type_name: syn::Ident,
    pub(crate) routes: Vec<Route<'a>>,
}

/// One method that becomes a route.
pub(crate) struct Route<'a> {
    pub(crate) original: &'a ImplItemFn,
    pub(crate) kind: Kind,
    pub(crate) name: String,
    pub(crate) name_span: Span,
    pub(crate) ctx: bool,
    pub(crate) arg: Option<&'a Type>,
    pub(crate) ret: Ret<'a>,
}

/// What a method returns.
pub(crate) enum Ret<'a> {
    /// Nothing.
    Unit,
    /// A value, always a success.
    Plain(&'a Type),
    /// `Result<T, E>` with `E: Into<Status>`.
    Result(&'a Type),
}

impl Ret<'_> {
    /// The type of the reply value.
    pub(crate) fn ok_type(&self) -> Type {
        match self {
            Ret::Unit => syn::parse_quote!(()),
            Ret::Plain(ty) | Ret::Result(ty) => (*ty).clone(),
        }
    }
}

impl Route<'_> {
    pub(crate) fn ident(&self) -> &syn::Ident {
        &self.original.sig.ident
    }
}

pub(crate) fn parse<'a>(
    item: &'a ItemImpl,
    args: &ServiceArgs,
    cx: &mut Ctxt,
) -> Option<Service<'a>> {
    let generic = check_impl(item, cx);
    let type_name = self_type_name(&item.self_ty, generic, cx)?;
    let mut routes = Vec::new();
    for impl_item in &item.items {
        match impl_item {
            ImplItem::Fn(method) => {
                if let Some(route) = parse_method(method, &type_name, args, cx) {
                    routes.push(route);
                }
            }
            other => cx.error(
                other,
                "#[service] impl blocks hold only methods: move this item to another impl block",
            ),
        }
    }
    Some(Service { original: item, type_name, routes })
}

/// Checks the impl block itself; returns whether it is generic (already reported).
fn check_impl(item: &ItemImpl, cx: &mut Ctxt) -> bool {
    if let Some((_, path, _)) = &item.trait_ {
        cx.error(path, "#[service] goes on an inherent impl block, not a trait impl");
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

fn parse_method<'a>(
    method: &'a ImplItemFn,
    type_name: &syn::Ident,
    args: &ServiceArgs,
    cx: &mut Ctxt,
) -> Option<Route<'a>> {
    let margs = parse_method_args(&method.attrs, cx);
    if margs.skip {
        return None;
    }
    let sig = &method.sig;
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        cx.error(
            &sig.generics,
            "service methods cannot be generic: the route needs concrete types",
        );
    }
    check_receiver(method, cx);
    let (ctx, arg) = parse_inputs(method, margs.kind, cx);
    let ret = parse_return(&sig.output);
    let returns_unit = match &ret {
        Ret::Unit => true,
        Ret::Result(Type::Tuple(t)) => t.elems.is_empty(),
        _ => false,
    };
    if margs.kind == Kind::Push && !returns_unit {
        let span_of: &dyn quote::ToTokens = match &sig.output {
            ReturnType::Type(_, ty) => ty,
            ReturnType::Default => &sig.ident,
        };
        cx.error(span_of, "push methods return nothing: use `()` or `Result<(), E>`");
    }
    let (name, name_span) = match margs.route {
        Some(route) => route,
        None => {
            let method_name = sig.ident.to_string();
            let method_name = method_name.strip_prefix("r#").unwrap_or(&method_name);
            let name = teleport_mapper::route_name(
                args.mapper,
                &args.prefix,
                &type_name.to_string(),
                method_name,
            );
            (name, sig.ident.span())
        }
    };
    Some(Route { original: method, kind: margs.kind, name, name_span, ctx, arg, ret })
}

fn check_receiver(method: &ImplItemFn, cx: &mut Ctxt) {
    match method.sig.inputs.first() {
        Some(FnArg::Receiver(receiver)) => {
            if receiver.reference.is_none() {
                cx.error(receiver, "service methods take `&self`, not `self` by value: the service is shared by all calls");
            } else if receiver.mutability.is_some() {
                cx.error(receiver, "service methods take `&self`, not `&mut self`: the service is shared by all calls (use a lock inside)");
            } else if receiver.colon_token.is_some() {
                cx.error(receiver, "service methods take a plain `&self`");
            }
        }
        _ => cx.error(
            &method.sig.ident,
            "service methods take `&self`; mark helper functions #[tp(skip)] or move them to another impl block",
        ),
    }
}

/// Reads the optional context parameter and the optional argument.
fn parse_inputs<'a>(method: &'a ImplItemFn, kind: Kind, cx: &mut Ctxt) -> (bool, Option<&'a Type>) {
    let mut ctx = false;
    let mut arg = None;
    for input in method.sig.inputs.iter().skip(1) {
        let FnArg::Typed(pat_type) = input else { continue };
        let ty = &*pat_type.ty;
        match context_kind(ty) {
            Some(found) if arg.is_none() && !ctx => {
                if found != kind {
                    let want = if kind == Kind::Call { "&CallCtx" } else { "&PushCtx" };
                    cx.error(ty, format!("this method's context is `{want}`"));
                }
                ctx = true;
            }
            Some(_) => cx.error(ty, "the context comes first, once"),
            None if arg.is_none() => arg = Some(ty),
            None => cx.error(
                input,
                "service methods take at most one argument besides the context: group them in a struct or tuple",
            ),
        }
    }
    (ctx, arg)
}

/// `&CallCtx` / `&PushCtx` (by any path) mark the context parameter.
fn context_kind(ty: &Type) -> Option<Kind> {
    let Type::Reference(reference) = ty else { return None };
    let Type::Path(path) = &*reference.elem else { return None };
    match path.path.segments.last()?.ident.to_string().as_str() {
        "CallCtx" | "UnknownCallCtx" => Some(Kind::Call),
        "PushCtx" | "UnknownPushCtx" => Some(Kind::Push),
        _ => None,
    }
}

fn parse_return(output: &ReturnType) -> Ret<'_> {
    let ReturnType::Type(_, ty) = output else { return Ret::Unit };
    if let Type::Tuple(tuple) = &**ty {
        if tuple.elems.is_empty() {
            return Ret::Unit;
        }
    }
    if let Type::Path(path) = &**ty {
        if let Some(last) = path.path.segments.last() {
            if last.ident == "Result" {
                if let PathArguments::AngleBracketed(generics) = &last.arguments {
                    if let Some(GenericArgument::Type(ok)) = generics.args.first() {
                        return Ret::Result(ok);
                    }
                }
            }
        }
    }
    Ret::Plain(ty)
}
