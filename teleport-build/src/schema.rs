//! Rust types from JSON Schemas: a struct per object schema, an enum per enumeration of
//! strings, standard types for the rest, and `serde_json::Value` where a schema says
//! nothing more precise (a value of any shape still reads and writes as JSON).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote};
use serde_json::{Map, Value};

use crate::error::{Error, key};

/// The named types of a manifest's schemas, and the items generated for them.
pub(crate) struct Schemas<'a> {
    file: &'a Path,
    krate: &'a syn::Path,
    /// Name → (schema, key where it is defined).
    defs: BTreeMap<String, (Value, String)>,
    /// Generated items, and the names they take (anonymous objects get names too).
    items: Vec<TokenStream>,
    taken: BTreeSet<String>,
}

impl<'a> Schemas<'a> {
    pub(crate) fn new(file: &'a Path, krate: &'a syn::Path) -> Self {
        Schemas { file, krate, defs: BTreeMap::new(), items: Vec::new(), taken: BTreeSet::new() }
    }

    fn error(&self, at: impl Into<String>, message: impl Into<String>) -> Error {
        Error::new(self.file, at, message)
    }

    /// Records the named types of one type's schema at `at`: its `$defs`, and the schema
    /// itself under `root_name` when the type is a named one.
    pub(crate) fn collect(
        &mut self,
        schema: &Value,
        root_name: Option<&str>,
        at: &str,
    ) -> Result<(), Error> {
        for defs_key in ["$defs", "definitions"] {
            let Some(defs) = schema.get(defs_key) else { continue };
            let defs = defs
                .as_object()
                .ok_or_else(|| self.error(key(at, defs_key), "expected an object of schemas"))?;
            for (name, def) in defs {
                self.define(name, def, key(&key(at, defs_key), name))?;
            }
        }
        if let Some(name) = root_name {
            let mut root = schema.clone();
            if let Some(obj) = root.as_object_mut() {
                obj.remove("$defs");
                obj.remove("definitions");
                obj.remove("$schema");
            }
            self.define(name, &root, at.to_owned())?;
        }
        Ok(())
    }

    fn define(&mut self, name: &str, schema: &Value, at: String) -> Result<(), Error> {
        if ident(name).is_none() {
            return Err(self.error(at, format!("`{name}` cannot be a Rust type name")));
        }
        match self.defs.get(name) {
            Some((first, _)) if same_shape(first, schema) => Ok(()),
            Some((_, first_at)) => Err(self.error(
                at,
                format!("`{name}` is defined differently at {first_at}: one name, one type"),
            )),
            None => {
                self.defs.insert(name.to_owned(), (schema.clone(), at));
                Ok(())
            }
        }
    }

    /// The names of every collected type.
    pub(crate) fn names(&self) -> BTreeSet<String> {
        self.defs.keys().cloned().collect()
    }

    /// Generates every collected type; returns them with the items made for anonymous
    /// objects on the way.
    pub(crate) fn generate(mut self) -> Result<Vec<TokenStream>, Error> {
        self.taken.extend(self.defs.keys().cloned());
        let defs = self.defs.clone();
        for (name, (schema, at)) in &defs {
            self.item(name, schema, at)?;
        }
        Ok(self.items)
    }

    /// The Rust type of an anonymous schema at `at` (a route type given by its schema
    /// only); an object in it is generated under the name `hint`.
    pub(crate) fn type_of_root(
        &mut self,
        schema: &Value,
        hint: &str,
        at: &str,
    ) -> Result<syn::Type, Error> {
        self.taken.extend(self.defs.keys().cloned());
        // An object is named by its title when it has a usable one; a title that names a
        // definition of the same shape is that type.
        let title = schema.get("title").and_then(Value::as_str).filter(|t| ident(t).is_some());
        if let Some((title, (def, _))) = title.and_then(|t| Some((t, self.defs.get(t)?))) {
            if same_shape(def, schema) {
                return Ok(syn::Type::Verbatim(format_ident!("{}", title).into_token_stream()));
            }
        }
        let tokens = self.type_of(schema, title.unwrap_or(hint), at)?;
        syn::parse2(tokens).map_err(|e| self.error(at, format!("cannot make a type of it: {e}")))
    }

    fn item(&mut self, name: &str, schema: &Value, at: &str) -> Result<(), Error> {
        let name_ident = format_ident!("{}", name);
        let docs = docs(schema, &format!("The `{name}` type of the manifest."));
        let p = &self.krate;
        let serde_crate = quote!(#p::__private::serde).to_string();
        let derive = quote! {
            #[derive(Clone, Debug, PartialEq, #p::__private::serde::Serialize, #p::__private::serde::Deserialize)]
            #[serde(crate = #serde_crate)]
        };
        if let Some(properties) = schema.get("properties") {
            let properties = properties.as_object().ok_or_else(|| {
                self.error(key(at, "properties"), "expected an object of schemas")
            })?;
            let required = required(schema);
            let mut fields = Vec::new();
            let mut used = BTreeSet::new();
            for (prop, prop_schema) in properties {
                let at = key(&key(at, "properties"), prop);
                fields.push(self.field(
                    name,
                    prop,
                    prop_schema,
                    required.contains(prop.as_str()),
                    &mut used,
                    &at,
                )?);
            }
            self.items.push(quote! {
                #(#docs)*
                #derive
                pub struct #name_ident { #(#fields)* }
            });
        } else if let Some(values) = string_enum(schema) {
            let mut used = BTreeSet::new();
            let variants = values.iter().map(|(value, doc)| {
                let variant = unique(pascal(value), &mut used);
                let variant = format_ident!("{}", variant);
                let doc = doc.clone().unwrap_or_else(|| format!("`{value}`."));
                let doc = format!(" {doc}");
                quote!(#[doc = #doc] #[serde(rename = #value)] #variant,)
            });
            self.items.push(quote! {
                #(#docs)*
                #derive
                pub enum #name_ident { #(#variants)* }
            });
        } else {
            let ty = self.type_of(schema, &format!("{name}Value"), at)?;
            self.items.push(quote! {
                #(#docs)*
                pub type #name_ident = #ty;
            });
        }
        Ok(())
    }

    fn field(
        &mut self,
        owner: &str,
        prop: &str,
        schema: &Value,
        required: bool,
        used: &mut BTreeSet<String>,
        at: &str,
    ) -> Result<TokenStream, Error> {
        let name = unique(snake(prop), used);
        let ident = field_ident(&name);
        let rename = (name != prop).then(|| quote!(#[serde(rename = #prop)]));
        let docs = docs(schema, &format!("`{prop}`."));
        let ty = self.type_of(schema, &format!("{owner}{}", pascal(prop)), at)?;
        let optional = ty.to_string().starts_with(":: core :: option :: Option");
        let (ty, default) = if required || optional {
            (ty, optional.then(|| quote!(#[serde(default)])))
        } else {
            (
                quote!(::core::option::Option<#ty>),
                Some(
                    quote!(#[serde(default, skip_serializing_if = "::core::option::Option::is_none")]),
                ),
            )
        };
        Ok(quote!(#(#docs)* #rename #default pub #ident: #ty,))
    }

    /// The type of a schema that is not a definition: references resolve to the defined
    /// names, objects with properties get a struct named `hint`.
    fn type_of(&mut self, schema: &Value, hint: &str, at: &str) -> Result<TokenStream, Error> {
        let obj = match schema {
            Value::Bool(_) => return Ok(self.value_type()),
            Value::Object(obj) => obj,
            _ => return Err(self.error(at, "expected a schema (an object or a boolean)")),
        };
        if let Some(reference) = obj.get("$ref") {
            return self.reference(reference, &key(at, "$ref"));
        }
        if let Some(inner) = nullable_alternative(obj) {
            let inner = self.type_of(inner, hint, at)?;
            return Ok(quote!(::core::option::Option<#inner>));
        }
        match obj.get("type") {
            Some(Value::String(ty)) => self.typed(ty, obj, hint, at),
            Some(Value::Array(types)) => {
                let types: Vec<&str> = types.iter().filter_map(Value::as_str).collect();
                match types.as_slice() {
                    [ty, "null"] | ["null", ty] => {
                        let inner = self.typed(ty, obj, hint, at)?;
                        Ok(quote!(::core::option::Option<#inner>))
                    }
                    [ty] => self.typed(ty, obj, hint, at),
                    _ => Ok(self.value_type()),
                }
            }
            Some(_) => Err(self.error(key(at, "type"), "expected a type name or an array of them")),
            None if obj.contains_key("properties") => self.anonymous(schema, hint, at),
            None => Ok(self.value_type()),
        }
    }

    fn typed(
        &mut self,
        ty: &str,
        obj: &Map<String, Value>,
        hint: &str,
        at: &str,
    ) -> Result<TokenStream, Error> {
        let format = obj.get("format").and_then(Value::as_str).unwrap_or("");
        Ok(match ty {
            "integer" => integer(format, obj),
            "number" if format == "float" => quote!(f32),
            "number" => quote!(f64),
            "string" => quote!(::std::string::String),
            "boolean" => quote!(bool),
            "null" => quote!(()),
            "array" => self.array(obj, hint, at)?,
            "object" if obj.contains_key("properties") => {
                self.anonymous(&Value::Object(obj.clone()), hint, at)?
            }
            "object" => {
                let values = match obj.get("additionalProperties") {
                    Some(schema @ Value::Object(_)) => self.type_of(
                        schema,
                        &format!("{hint}Value"),
                        &key(at, "additionalProperties"),
                    )?,
                    _ => self.value_type(),
                };
                quote!(::std::collections::HashMap<::std::string::String, #values>)
            }
            other => {
                return Err(self.error(
                    key(at, "type"),
                    format!("unknown JSON Schema type `{other}`: expected integer, number, string, boolean, null, array or object"),
                ));
            }
        })
    }

    fn array(
        &mut self,
        obj: &Map<String, Value>,
        hint: &str,
        at: &str,
    ) -> Result<TokenStream, Error> {
        if let Some(Value::Array(items)) = obj.get("prefixItems") {
            let mut elems = Vec::new();
            for (i, item) in items.iter().enumerate() {
                let at = format!("{}[{i}]", key(at, "prefixItems"));
                elems.push(self.type_of(item, &format!("{hint}{i}"), &at)?);
            }
            return Ok(quote!((#(#elems,)*)));
        }
        let item = match obj.get("items") {
            Some(items) => self.type_of(items, &format!("{hint}Item"), &key(at, "items"))?,
            None => self.value_type(),
        };
        Ok(quote!(::std::vec::Vec<#item>))
    }

    /// An object schema with properties met inside another: a struct named `hint`.
    fn anonymous(&mut self, schema: &Value, hint: &str, at: &str) -> Result<TokenStream, Error> {
        let name = unique(hint.to_owned(), &mut self.taken);
        self.item(&name, schema, at)?;
        let ident = format_ident!("{}", name);
        Ok(quote!(#ident))
    }

    fn reference(&self, reference: &Value, at: &str) -> Result<TokenStream, Error> {
        let text = reference.as_str().ok_or_else(|| self.error(at, "expected a string"))?;
        let name = text
            .strip_prefix("#/$defs/")
            .or_else(|| text.strip_prefix("#/definitions/"))
            .ok_or_else(|| {
                self.error(at, format!("unsupported reference `{text}`: expected `#/$defs/Name`"))
            })?;
        if !self.defs.contains_key(name) {
            return Err(
                self.error(at, format!("unknown type `{name}`: `{text}` is not in any `$defs`"))
            );
        }
        let ident = format_ident!("{}", name);
        Ok(quote!(#ident))
    }

    fn value_type(&self) -> TokenStream {
        let p = self.krate;
        quote!(#p::__private::serde_json::Value)
    }
}

fn integer(format: &str, obj: &Map<String, Value>) -> TokenStream {
    match format {
        "int8" => quote!(i8),
        "int16" => quote!(i16),
        "int32" => quote!(i32),
        "int128" => quote!(i128),
        "uint8" => quote!(u8),
        "uint16" => quote!(u16),
        "uint32" => quote!(u32),
        "uint64" => quote!(u64),
        "uint128" => quote!(u128),
        "uint" => quote!(usize),
        "int" => quote!(isize),
        _ if obj.get("minimum").and_then(Value::as_f64).is_some_and(|m| m >= 0.0) => quote!(u64),
        _ => quote!(i64),
    }
}

/// `anyOf`/`oneOf` of a schema and `{"type": "null"}`: the schema, to be an `Option`.
fn nullable_alternative(obj: &Map<String, Value>) -> Option<&Value> {
    let alternatives = obj.get("anyOf").or_else(|| obj.get("oneOf"))?.as_array()?;
    let is_null = |v: &Value| v.get("type").and_then(Value::as_str) == Some("null");
    match alternatives.as_slice() {
        [a, b] if is_null(b) => Some(a),
        [a, b] if is_null(a) => Some(b),
        _ => None,
    }
}

/// The values of a schema that enumerates strings (`enum`, or `oneOf` of `const`s with
/// their descriptions), with their docs.
fn string_enum(schema: &Value) -> Option<Vec<(String, Option<String>)>> {
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values.iter().map(|v| Some((v.as_str()?.to_owned(), None))).collect();
    }
    let alternatives = schema.get("oneOf").or_else(|| schema.get("anyOf"))?.as_array()?;
    alternatives
        .iter()
        .map(|alt| {
            let value = alt.get("const").or_else(|| {
                alt.get("enum").and_then(Value::as_array).filter(|e| e.len() == 1).map(|e| &e[0])
            })?;
            let doc = alt.get("description").and_then(Value::as_str).map(str::to_owned);
            Some((value.as_str()?.to_owned(), doc))
        })
        .collect()
}

fn required(schema: &Value) -> BTreeSet<&str> {
    let list = schema.get("required").and_then(Value::as_array);
    list.into_iter().flatten().filter_map(Value::as_str).collect()
}

/// The schema's description as doc lines, or `fallback`: every generated item has docs.
fn docs(schema: &Value, fallback: &str) -> Vec<TokenStream> {
    let text = schema.get("description").and_then(Value::as_str).unwrap_or("");
    let text = if text.trim().is_empty() { fallback } else { text };
    text.lines()
        .map(|line| {
            let line = format!(" {line}");
            quote!(#[doc = #line])
        })
        .collect()
}

/// Whether two definitions of one name describe the same type (titles and annotations
/// aside).
fn same_shape(a: &Value, b: &Value) -> bool {
    strip(a) == strip(b)
}

fn strip(v: &Value) -> Value {
    match v {
        Value::Object(obj) => Value::Object(
            obj.iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "title" | "description" | "$schema" | "$defs" | "definitions"
                    )
                })
                .map(|(k, v)| (k.clone(), strip(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(strip).collect()),
        other => other.clone(),
    }
}

/// `name` as an identifier, if it can be one.
pub(crate) fn ident(name: &str) -> Option<syn::Ident> {
    syn::parse_str::<syn::Ident>(name).ok()
}

/// A field name: keywords become raw identifiers (`r#type`); `self` and the like `self_`.
fn field_ident(name: &str) -> syn::Ident {
    match name {
        "self" | "Self" | "super" | "crate" | "_" => format_ident!("{}_", name),
        _ => syn::parse_str::<syn::Ident>(name).unwrap_or_else(|_| format_ident!("r#{}", name)),
    }
}

/// `snake_case` of a JSON key: `userId`, `UserID` and `user-id` all give `user_id`.
pub(crate) fn snake(name: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_alphanumeric() {
            let prev_lower =
                i > 0 && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit());
            let next_lower = chars.get(i + 1).is_some_and(char::is_ascii_lowercase);
            let boundary = c.is_ascii_uppercase()
                && i > 0
                && (prev_lower || (chars[i - 1].is_ascii_uppercase() && next_lower));
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_owned();
    match out.chars().next() {
        None => "field".to_owned(),
        Some(c) if c.is_ascii_digit() => format!("_{out}"),
        Some(_) => out,
    }
}

/// `PascalCase` of a value or key: `dark-red` and `dark_red` give `DarkRed`.
fn pascal(name: &str) -> String {
    let out: String = snake(name)
        .split('_')
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase())
                .into_iter()
                .chain(chars)
                .collect::<String>()
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{out}")
    } else {
        out
    }
}

/// `name`, or `name2`, `name3`... if taken; marks it taken.
fn unique(name: String, taken: &mut BTreeSet<String>) -> String {
    let mut candidate = name.clone();
    let mut n = 2;
    while !taken.insert(candidate.clone()) {
        candidate = format!("{name}{n}");
        n += 1;
    }
    candidate
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keys_become_rust_names() {
        assert_eq!(snake("userId"), "user_id");
        assert_eq!(snake("UserID"), "user_id");
        assert_eq!(snake("HTTPCode"), "http_code");
        assert_eq!(snake("user-id"), "user_id");
        assert_eq!(snake("A"), "a");
        assert_eq!(snake("2fa"), "_2fa");
        assert_eq!(pascal("dark-red"), "DarkRed");
        assert_eq!(pascal("ok"), "Ok");
    }
}
