//! Checks across methods: duplicate route names and clashes with generated names.

use std::collections::HashMap;

use crate::args::Kind;
use crate::ast::Service;
use crate::ctxt::Ctxt;
use crate::names::unraw;

/// Reports duplicate route names and methods that clash with generated client functions.
pub fn check(service: &Service, cx: &mut Ctxt) {
    let mut names: HashMap<&str, &syn::Ident> = HashMap::new();
    for route in &service.routes {
        match names.get(route.name.as_str()) {
            Some(first) => cx.push(syn::Error::new(
                route.name_span,
                format!("duplicate route name `{}`: `{first}` has it too", route.name),
            )),
            None => {
                names.insert(&route.name, route.ident());
            }
        }
    }
    // Every route `x` generates client functions `x_with`, and a call `x_reply` too.
    let methods: HashMap<String, &syn::Ident> =
        service.methods.iter().map(|i| (unraw(i), i)).collect();
    for route in &service.routes {
        let mut suffixes = vec!["with"];
        if route.kind == Kind::Call {
            suffixes.push("reply");
        }
        for suffix in suffixes {
            let generated = format!("{}_{suffix}", unraw(route.ident()));
            if let Some(clash) = methods.get(&generated) {
                cx.error(
                    clash,
                    format!(
                        "`{generated}` clashes with the client function generated for `{}`: rename it",
                        route.ident()
                    ),
                );
            }
        }
    }
}
