//! One method of a service read as a route: receiver, context, argument and return type.

use syn::{Attribute, FnArg, GenericArgument, PathArguments, ReturnType, Signature, Type};

use crate::args::{Kind, MethodArgs, ServiceArgs};
use crate::ast::{Ret, Route};
use crate::ctxt::Ctxt;

/// Reads one method as a route, reporting what is wrong with it in `cx`.
pub fn parse(
    attrs: &[Attribute],
    sig: &Signature,
    margs: MethodArgs,
    type_name: &syn::Ident,
    args: &ServiceArgs,
    cx: &mut Ctxt,
) -> Route {
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        cx.error(
            &sig.generics,
            "service methods cannot be generic: the route needs concrete types",
        );
    }
    check_receiver(sig, cx);
    let (ctx, arg) = parse_inputs(sig, margs.kind, cx);
    let ret = parse_return(&sig.output);
    let returns_unit = match &ret {
        Ret::Unit => true,
        Ret::Result { ok: Type::Tuple(t), .. } => t.elems.is_empty(),
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
    if let (true, Some(asyncness)) = (margs.blocking, &sig.asyncness) {
        cx.error(
            asyncness,
            "`#[tp(blocking)]` is for methods that are not `async`: an async method waits \
             without blocking a thread; remove `async` to run it on the blocking pool",
        );
    }
    if margs.idempotent && margs.kind == Kind::Push {
        cx.error(
            &sig.ident,
            "`#[tp(idempotent)]` marks calls that are safe to run twice, so that a balancer may \
             retry them; a push is never retried",
        );
    }
    let (blocking, idempotent) = (margs.blocking, margs.idempotent);
    Route {
        ident: sig.ident.clone(),
        doc_attrs: crate::ast::doc_attrs(attrs),
        kind: margs.kind,
        name,
        name_span,
        ctx,
        arg: arg.cloned(),
        ret,
        is_async: sig.asyncness.is_some(),
        span: syn::spanned::Spanned::span(sig),
        blocking,
        idempotent,
    }
}

fn check_receiver(sig: &Signature, cx: &mut Ctxt) {
    match sig.inputs.first() {
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
            &sig.ident,
            "service methods take `&self`; mark helper functions #[tp(skip)] or move them to another impl block",
        ),
    }
}

/// Reads the optional context parameter and the optional argument.
fn parse_inputs<'a>(sig: &'a Signature, kind: Kind, cx: &mut Ctxt) -> (bool, Option<&'a Type>) {
    let mut ctx = false;
    let mut arg = None;
    for input in sig.inputs.iter().skip(1) {
        let FnArg::Typed(pat_type) = input else { continue };
        let ty = &*pat_type.ty;
        match context_kind(ty) {
            Some((found, by_ref)) if arg.is_none() && !ctx => {
                let want = if kind == Kind::Call { "&CallCtx" } else { "&PushCtx" };
                if !by_ref {
                    cx.error(
                        ty,
                        format!("take the context by reference, `{want}`: it lives as long as the call, and the method borrows it"),
                    );
                } else if found != kind {
                    cx.error(ty, format!("this method's context is `{want}`"));
                }
                ctx = true;
            }
            Some(_) => cx.error(ty, "the context comes first, once"),
            None if arg.is_none() => {
                check_owned(ty, cx);
                arg = Some(ty);
            }
            None => cx.error(
                input,
                "service methods take at most one argument besides the context: group them in a struct or tuple",
            ),
        }
    }
    (ctx, arg)
}

/// An argument is decoded from the message body into a value the handler owns: a borrowed
/// one would have nothing to borrow from once the body is gone.
fn check_owned(ty: &Type, cx: &mut Ctxt) {
    let Type::Reference(reference) = ty else { return };
    let owned = match &*reference.elem {
        Type::Path(p) if p.path.is_ident("str") => "String".to_owned(),
        Type::Slice(s) => {
            let elem = &s.elem;
            format!("Vec<{}>", quote::quote!(#elem))
        }
        other => quote::quote!(#other).to_string(),
    };
    cx.error(
        ty,
        format!(
            "arguments are owned: take `{owned}`; the argument is decoded from the message into a value the method owns (the client stub still takes it by reference)"
        ),
    );
}

/// `&CallCtx` / `&PushCtx` (by any path) mark the context parameter; also found by value,
/// to say that it is taken by reference. Returns the kind and whether it is a reference.
fn context_kind(ty: &Type) -> Option<(Kind, bool)> {
    let (path, by_ref) = match ty {
        Type::Reference(reference) => (&*reference.elem, true),
        other => (other, false),
    };
    let Type::Path(path) = path else { return None };
    let kind = match path.path.segments.last()?.ident.to_string().as_str() {
        "CallCtx" | "UnknownCallCtx" => Kind::Call,
        "PushCtx" | "UnknownPushCtx" => Kind::Push,
        _ => return None,
    };
    Some((kind, by_ref))
}

fn parse_return(output: &ReturnType) -> Ret {
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
                    let mut types = generics.args.iter().filter_map(|a| match a {
                        GenericArgument::Type(t) => Some(t),
                        _ => None,
                    });
                    if let Some(ok) = types.next() {
                        return Ret::Result {
                            ok: ok.clone(),
                            err: types.next().cloned().map(Box::new),
                            whole: ty.clone(),
                        };
                    }
                }
            }
        }
    }
    Ret::Plain((**ty).clone())
}
