//! Client code from a manifest (the JSON a peer serves at `/_tp/manifest`, or one written
//! by hand for a Go service): the argument and reply types from their schemas, and the
//! clients from the one generator the macro uses.

use std::collections::BTreeSet;
use std::path::Path;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use serde_json::{Map, Value};
use teleport_codegen::Mapper;
use teleport_codegen::args::Kind;
use teleport_codegen::ast::{Ret, Route, Service};

use crate::Options;
use crate::error::{Error, index, key};
use crate::schema::{Schemas, ident, snake};
use crate::types::{TypeMap, outer_name};

/// A type as the manifest gives it.
struct TypeSpec {
    rust: Option<syn::Type>,
    schema: Option<Value>,
    at: String,
}

struct RouteSpec {
    route: String,
    method: syn::Ident,
    kind: Kind,
    docs: String,
    arg: TypeSpec,
    reply: Option<TypeSpec>,
}

struct ServiceSpec {
    name: syn::Ident,
    docs: String,
    mapper: Mapper,
    routes: Vec<RouteSpec>,
    at: String,
}

/// The generated code of the manifest `text`, read from `file`.
pub(crate) fn generate(text: &str, file: &Path, options: &Options) -> Result<TokenStream, Error> {
    let root: Value = serde_json::from_str(text).map_err(|e| {
        Error::new(
            file,
            format!("line {} column {}", e.line(), e.column()),
            format!("not a JSON manifest: {e}"),
        )
    })?;
    let reader = Reader { file };
    let specs = reader.manifest(&root)?;
    let krate = options.krate()?;
    let mut schemas = Schemas::new(file, &krate);
    for spec in
        specs.iter().flat_map(|s| &s.routes).flat_map(|r| std::iter::once(&r.arg).chain(&r.reply))
    {
        if let Some(schema) = &spec.schema {
            let root_name = spec.rust.as_ref().and_then(outer_name);
            schemas.collect(schema, root_name.as_deref(), &key(&spec.at, "schema"))?;
        }
    }
    let defined = schemas.names();
    let mut clients = Vec::new();
    for spec in &specs {
        let service = service(spec, &mut schemas, &defined, options, &krate, file)?;
        clients.push(teleport_codegen::client::client(&service, &krate));
    }
    let types = schemas.generate()?;
    Ok(quote!(#(#types)* #(#clients)*))
}

fn service(
    spec: &ServiceSpec,
    schemas: &mut Schemas<'_>,
    defined: &BTreeSet<String>,
    options: &Options,
    krate: &syn::Path,
    file: &Path,
) -> Result<Service, Error> {
    let map = TypeMap { extern_paths: &options.extern_paths, defined, krate };
    let mut resolve = |ty: &TypeSpec, hint: String| -> Result<syn::Type, Error> {
        match (&ty.rust, &ty.schema) {
            (Some(rust), _) => {
                map.resolve(rust).map_err(|m| Error::new(file, key(&ty.at, "rust"), m))
            }
            (None, Some(schema)) => schemas.type_of_root(schema, &hint, &key(&ty.at, "schema")),
            (None, None) => {
                Err(Error::new(file, &ty.at, "a type needs `rust` (its Rust name) or `schema`"))
            }
        }
    };
    let mut routes = Vec::new();
    for r in &spec.routes {
        let stem = pascal_ident(&r.method);
        let arg = resolve(&r.arg, format!("{}{stem}Arg", spec.name))?;
        let ret = match &r.reply {
            Some(reply) => Ret::Plain(resolve(reply, format!("{}{stem}Reply", spec.name))?),
            None => Ret::Unit,
        };
        let unit = matches!(&arg, syn::Type::Tuple(t) if t.elems.is_empty());
        routes.push(Route {
            ident: r.method.clone(),
            doc_attrs: doc_attrs(&r.docs),
            kind: r.kind,
            name: r.route.clone(),
            name_span: Span::call_site(),
            ctx: false,
            arg: (!unit).then_some(arg),
            ret,
            is_async: true,
            span: Span::call_site(),
            blocking: false,
            idempotent: false,
        });
    }
    let mut cx = teleport_codegen::ctxt::Ctxt::default();
    let service = Service {
        type_name: spec.name.clone(),
        vis: syn::parse_quote!(pub),
        docs: spec.docs.clone(),
        mapper: spec.mapper,
        prefix: String::new(),
        methods: routes.iter().map(|r| r.ident.clone()).collect(),
        routes,
    };
    teleport_codegen::check::check(&service, &mut cx);
    if let Some(e) = cx.into_errors().first() {
        return Err(Error::new(file, key(&spec.at, "routes"), e.to_string()));
    }
    Ok(service)
}

fn pascal_ident(ident: &syn::Ident) -> String {
    let name = teleport_codegen::names::unraw(ident);
    name.split('_')
        .map(|part| {
            let mut c = part.chars();
            c.next().map(|f| f.to_ascii_uppercase()).into_iter().chain(c).collect::<String>()
        })
        .collect()
}

fn doc_attrs(docs: &str) -> Vec<syn::Attribute> {
    docs.lines()
        .map(|line| {
            let line = format!(" {line}");
            syn::parse_quote!(#[doc = #line])
        })
        .collect()
}

/// Reads the manifest's JSON, every error at its key.
struct Reader<'a> {
    file: &'a Path,
}

impl Reader<'_> {
    fn error(&self, at: impl Into<String>, message: impl Into<String>) -> Error {
        Error::new(self.file, at, message)
    }

    fn object<'v>(&self, v: &'v Value, at: &str) -> Result<&'v Map<String, Value>, Error> {
        v.as_object().ok_or_else(|| self.error(at, "expected an object"))
    }

    fn string<'v>(
        &self,
        obj: &'v Map<String, Value>,
        name: &str,
        at: &str,
    ) -> Result<Option<&'v str>, Error> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(self.error(key(at, name), "expected a string")),
        }
    }

    fn required<'v>(
        &self,
        obj: &'v Map<String, Value>,
        name: &str,
        at: &str,
    ) -> Result<&'v str, Error> {
        self.string(obj, name, at)?.ok_or_else(|| self.error(key(at, name), "missing"))
    }

    fn array<'v>(
        &self,
        obj: &'v Map<String, Value>,
        name: &str,
        at: &str,
    ) -> Result<&'v [Value], Error> {
        match obj.get(name) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(_) => Err(self.error(key(at, name), "expected an array")),
        }
    }

    fn manifest(&self, root: &Value) -> Result<Vec<ServiceSpec>, Error> {
        let obj = self.object(root, "")?;
        match obj.get("manifest") {
            Some(v) if v.as_u64() == Some(1) => {}
            Some(v) => {
                return Err(self.error(
                    "manifest",
                    format!(
                        "unsupported manifest version {v}: this teleport-build reads version 1"
                    ),
                ));
            }
            None => {
                return Err(
                    self.error("manifest", "missing: a manifest starts with `\"manifest\": 1`")
                );
            }
        }
        let services = self.array(obj, "services", "")?;
        services.iter().enumerate().map(|(i, s)| self.service(s, &index("services", i))).collect()
    }

    fn service(&self, v: &Value, at: &str) -> Result<ServiceSpec, Error> {
        let obj = self.object(v, at)?;
        let name = self.required(obj, "name", at)?;
        let name = ident(name).ok_or_else(|| {
            self.error(key(at, "name"), format!("`{name}` cannot be a Rust type name"))
        })?;
        let mapper = match self.string(obj, "mapper", at)? {
            Some("rpc") => Mapper::Rpc,
            _ => Mapper::Http,
        };
        let routes_at = key(at, "routes");
        let routes = self.array(obj, "routes", at)?;
        let routes = routes
            .iter()
            .enumerate()
            .map(|(i, r)| self.route(r, &index(&routes_at, i)))
            .collect::<Result<_, _>>()?;
        let docs = self.string(obj, "docs", at)?.unwrap_or("").to_owned();
        Ok(ServiceSpec { name, docs, mapper, routes, at: at.to_owned() })
    }

    fn route(&self, v: &Value, at: &str) -> Result<RouteSpec, Error> {
        let obj = self.object(v, at)?;
        let route = self.required(obj, "route", at)?;
        if route.len() > 255 {
            return Err(self.error(key(at, "route"), "a route name is 1 to 255 bytes long"));
        }
        let method = self.required(obj, "method", at)?;
        let method = method_ident(method).ok_or_else(|| {
            self.error(key(at, "method"), format!("`{method}` cannot be a Rust function name"))
        })?;
        let kind = match self.required(obj, "kind", at)? {
            "call" => Kind::Call,
            "push" => Kind::Push,
            other => {
                return Err(self
                    .error(key(at, "kind"), format!("`{other}`: expected \"call\" or \"push\"")));
            }
        };
        let arg = match obj.get("arg") {
            None | Some(Value::Null) => {
                TypeSpec { rust: Some(syn::parse_quote!(())), schema: None, at: key(at, "arg") }
            }
            Some(v) => self.type_spec(v, &key(at, "arg"))?,
        };
        let reply = match (kind, obj.get("reply")) {
            (Kind::Push, _) => None,
            (Kind::Call, Some(v)) if !v.is_null() => Some(self.type_spec(v, &key(at, "reply"))?),
            (Kind::Call, _) => {
                return Err(self.error(
                    key(at, "reply"),
                    "missing: a call has a reply type (`{\"rust\": \"()\"}` for none)",
                ));
            }
        };
        let docs = self.string(obj, "docs", at)?.unwrap_or("").to_owned();
        Ok(RouteSpec { route: route.to_owned(), method, kind, docs, arg, reply })
    }

    fn type_spec(&self, v: &Value, at: &str) -> Result<TypeSpec, Error> {
        let obj = self.object(v, at)?;
        let rust = match self.string(obj, "rust", at)? {
            Some(text) => Some(syn::parse_str::<syn::Type>(text).map_err(|e| {
                self.error(key(at, "rust"), format!("`{text}` is not a Rust type: {e}"))
            })?),
            None => None,
        };
        let schema = obj.get("schema").filter(|s| !s.is_null()).cloned();
        Ok(TypeSpec { rust, schema, at: at.to_owned() })
    }
}

/// A stub's name from a manifest's method name: Go's `SayHello` becomes `say_hello`.
fn method_ident(name: &str) -> Option<syn::Ident> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let snake = if name.contains("__") { name.to_owned() } else { snake(name) };
    syn::parse_str::<syn::Ident>(&snake)
        .ok()
        .or_else(|| syn::parse_str::<syn::Ident>(&format!("r#{snake}")).ok())
}
