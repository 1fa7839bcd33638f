//! The names generated code gives things, and the span helpers every generator uses.

use proc_macro2::{Span, TokenStream};
use quote::format_ident;

use crate::ast::{Route, Service};

/// `{Service}Client`.
pub fn client_ident(service: &Service) -> syn::Ident {
    format_ident!("{}Client", service.type_name)
}

/// `{Trait}Server`.
pub fn server_ident(service: &Service) -> syn::Ident {
    format_ident!("{}Server", service.type_name)
}

/// The route constant of a method: its name in upper case.
pub fn const_ident(route: &Route) -> syn::Ident {
    syn::Ident::new(&unraw(route.ident()).to_uppercase(), route.ident().span())
}

/// A name without its `r#`.
pub fn unraw(ident: &syn::Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map_or(name.clone(), str::to_owned)
}

/// Moves every token to the location of `span`, keeping how each name resolves (hygiene).
pub fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tt| {
            let located = tt.span().located_at(span);
            if let proc_macro2::TokenTree::Group(group) = &tt {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(located);
                tt = proc_macro2::TokenTree::Group(inner);
            } else {
                tt.set_span(located);
            }
            tt
        })
        .collect()
}

/// A type as Rust source text, spaced as people write it: `Vec<i64>`, `(i64, String)`,
/// `&'static str`, `[u8; 4]`.
pub fn type_text(ty: &syn::Type) -> String {
    let raw = quote::quote!(#ty).to_string();
    let mut out = String::with_capacity(raw.len());
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let chars: Vec<char> = raw.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c != ' ' {
            out.push(c);
            continue;
        }
        let before = out.chars().last().unwrap_or(' ');
        let after = chars.get(i + 1).copied().unwrap_or(' ');
        // A space stays between two words (`dyn Trait`, `mut T`), after `,` and `;`, and
        // around `+` and `=`.
        let spaced = |c: char| c == '+' || c == '=';
        if (word(before) && (word(after) || after == '\''))
            || matches!(before, ',' | ';')
            || spaced(before)
            || spaced(after)
        {
            out.push(' ');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::type_text;

    #[test]
    fn types_read_as_written() {
        for text in [
            "Vec<i64>",
            "(i64, String)",
            "&'static str",
            "[u8; 4]",
            "std::collections::HashMap<String, Vec<Point>>",
            "Option<Box<dyn std::error::Error + Send>>",
            "()",
        ] {
            let ty: syn::Type = syn::parse_str(text).unwrap();
            assert_eq!(type_text(&ty), text);
        }
    }
}
