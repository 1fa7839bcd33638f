//! Rust names for what JSON names: fields, variants and types, unique within their scope.

use std::collections::BTreeSet;

use quote::format_ident;

/// `name` as an identifier, if it can be one.
pub(crate) fn ident(name: &str) -> Option<syn::Ident> {
    syn::parse_str::<syn::Ident>(name).ok()
}

/// A field name: keywords become raw identifiers (`r#type`); `self` and the like `self_`.
pub(crate) fn field_ident(name: &str) -> syn::Ident {
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
pub(crate) fn pascal(name: &str) -> String {
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
pub(crate) fn unique(name: String, taken: &mut BTreeSet<String>) -> String {
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
