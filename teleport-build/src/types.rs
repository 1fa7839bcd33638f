//! Which Rust type each name in a route's types is: a standard one, one mapped by
//! `extern_path`, or one generated from the manifest's schemas. Any other name is an error,
//! found here rather than by the compiler in the generated file.

use std::collections::BTreeSet;

use syn::{GenericArgument, PathArguments, Type};

/// Names that need no definition: the prelude's, the primitives, and the collections (which
/// are written out in full, as the generated file imports nothing).
const PRELUDE: &[&str] = &[
    "bool", "char", "str", "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64",
    "u128", "usize", "f32", "f64", "String", "Vec", "Option", "Box",
];
const COLLECTIONS: &[&str] = &["HashMap", "BTreeMap", "HashSet", "BTreeSet", "VecDeque"];
const STD_ROOTS: &[&str] = &["std", "core", "alloc"];

/// The names a route's types may use besides the standard ones.
pub(crate) struct TypeMap<'a> {
    /// `(name as written, Rust path)` pairs from `Builder::extern_path`.
    pub(crate) extern_paths: &'a [(String, String)],
    /// The names of the types generated from schemas.
    pub(crate) defined: &'a BTreeSet<String>,
    /// The runtime crate's path, for `serde_json::Value`.
    pub(crate) krate: &'a syn::Path,
}

impl TypeMap<'_> {
    /// `ty` with every name resolved, or why a name cannot be.
    pub(crate) fn resolve(&self, ty: &Type) -> Result<Type, String> {
        Ok(match ty {
            Type::Path(p) if p.qself.is_none() => {
                Type::Path(syn::TypePath { qself: None, path: self.resolve_path(&p.path)? })
            }
            Type::Tuple(t) => {
                let mut t = t.clone();
                for elem in &mut t.elems {
                    *elem = self.resolve(elem)?;
                }
                Type::Tuple(t)
            }
            Type::Array(a) => {
                let mut a = a.clone();
                *a.elem = self.resolve(&a.elem)?;
                Type::Array(a)
            }
            Type::Slice(s) => {
                let mut s = s.clone();
                *s.elem = self.resolve(&s.elem)?;
                Type::Slice(s)
            }
            Type::Reference(r) => {
                let mut r = r.clone();
                *r.elem = self.resolve(&r.elem)?;
                Type::Reference(r)
            }
            Type::Paren(p) => self.resolve(&p.elem)?,
            Type::Group(g) => self.resolve(&g.elem)?,
            other => {
                return Err(format!(
                    "unsupported type `{}`: use a named type, a tuple, an array or a reference",
                    quote::quote!(#other)
                ));
            }
        })
    }

    fn resolve_path(&self, path: &syn::Path) -> Result<syn::Path, String> {
        let written = path_text(path);
        let mut out = if let Some((_, to)) =
            self.extern_paths.iter().find(|(from, _)| from.trim_start_matches("::") == written)
        {
            syn::parse_str::<syn::Path>(to)
                .map_err(|e| format!("extern_path for `{written}`: `{to}` is not a path: {e}"))?
        } else if written == "serde_json::Value" || written == "Value" {
            let krate = self.krate;
            syn::parse_quote!(#krate::__private::serde_json::Value)
        } else if COLLECTIONS.contains(&written.as_str()) {
            syn::parse_str(&format!("::std::collections::{written}")).expect("a valid path")
        } else if PRELUDE.contains(&written.as_str())
            || self.defined.contains(&written)
            || STD_ROOTS.contains(&path.segments[0].ident.to_string().as_str())
        {
            path.clone()
        } else {
            return Err(format!(
                "unknown type `{written}`: give it a schema in the manifest, or map it to a \
                 Rust type with `extern_path(\"{written}\", \"path::to::{written}\")`"
            ));
        };
        let last = path.segments.last().expect("a path has a segment");
        let mut args = last.arguments.clone();
        if let PathArguments::AngleBracketed(generics) = &mut args {
            for arg in &mut generics.args {
                if let GenericArgument::Type(ty) = arg {
                    *ty = self.resolve(ty)?;
                }
            }
        }
        out.segments.last_mut().expect("a path has a segment").arguments = args;
        Ok(out)
    }
}

/// `a::b::C` for a path, without its generic arguments or leading `::`.
pub(crate) fn path_text(path: &syn::Path) -> String {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    names.join("::")
}

/// The name a schema must define for `ty`: a single-segment name that is not standard.
pub(crate) fn outer_name(ty: &Type) -> Option<String> {
    let Type::Path(p) = ty else { return None };
    let text = path_text(&p.path);
    let standard = PRELUDE.contains(&text.as_str())
        || COLLECTIONS.contains(&text.as_str())
        || STD_ROOTS.contains(&p.path.segments[0].ident.to_string().as_str());
    (!standard && p.path.segments.len() == 1).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(
        text: &str,
        extern_paths: &[(String, String)],
        defined: &[&str],
    ) -> Result<String, String> {
        let defined: BTreeSet<String> = defined.iter().map(|s| s.to_string()).collect();
        let krate: syn::Path = syn::parse_quote!(::teleport);
        let map = TypeMap { extern_paths, defined: &defined, krate: &krate };
        let ty: Type = syn::parse_str(text).unwrap();
        map.resolve(&ty).map(|t| teleport_codegen::names::type_text(&t))
    }

    #[test]
    fn standard_names_defined_names_and_mapped_names_resolve() {
        let paths = [("api::Point".to_owned(), "::my_api::geo::Point".to_owned())];
        assert_eq!(resolve("Vec<Option<i64>>", &[], &[]).unwrap(), "Vec<Option<i64>>");
        assert_eq!(
            resolve("HashMap<String, Args>", &[], &["Args"]).unwrap(),
            "::std::collections::HashMap<String, Args>"
        );
        assert_eq!(
            resolve("(api::Point, [u8; 4])", &paths, &[]).unwrap(),
            "(::my_api::geo::Point, [u8; 4])"
        );
        assert_eq!(
            resolve("Vec<serde_json::Value>", &[], &[]).unwrap(),
            "Vec<::teleport::__private::serde_json::Value>"
        );
    }

    #[test]
    fn an_unknown_name_says_how_to_fix_it() {
        let err = resolve("Vec<Point>", &[], &["Other"]).unwrap_err();
        assert!(err.contains("unknown type `Point`"), "{err}");
        assert!(err.contains("extern_path(\"Point\""), "{err}");
    }
}
