//! `tp routes`: the peer's routes as a table (or its manifest as JSON).

use teleport::manifest::{Manifest, RouteKind, RouteManifest};

use crate::args::RoutesArgs;
use crate::connect::{self, Budget};
use crate::failure::Failure;
use crate::manifest::{self, NOT_SERVED};
use crate::output;

/// Runs `tp routes`.
pub(crate) async fn run(args: RoutesArgs) -> Result<(), Failure> {
    let budget = Budget::new(args.conn.timeout);
    let session = connect::dial(&args.conn, budget).await?;
    let fetched = manifest::fetch(&session, budget).await;
    session.close().await;
    let manifest = fetched?.ok_or_else(|| Failure::Other(NOT_SERVED.to_owned()))?;
    if args.json { output::pretty(&manifest) } else { output::print(&table(&manifest)).map(drop) }
}

/// One block per service: its name, mapper, codec and first doc line, then one line per
/// route: kind, route, `argument -> reply` types and first doc line, in aligned columns.
pub(crate) fn table(manifest: &Manifest) -> String {
    let routes = manifest.services.iter().flat_map(|s| &s.routes);
    let route_width = routes.clone().map(|r| r.route.len()).max().unwrap_or(0);
    let types_width = routes.map(|r| types(r).len()).max().unwrap_or(0);
    let mut out = String::new();
    for service in &manifest.services {
        out.push_str(&service.name);
        let mut about: Vec<String> = Vec::new();
        for (what, value) in [("mapper", &service.mapper), ("codec", &service.codec)] {
            if !value.is_empty() {
                about.push(format!("{what} {value}"));
            }
        }
        if !about.is_empty() {
            out.push_str(&format!(" ({})", about.join(", ")));
        }
        push_doc(&mut out, &service.docs);
        for route in &service.routes {
            let kind = match route.kind {
                RouteKind::Call => "call",
                RouteKind::Push => "push",
            };
            out.push_str(&format!("  {kind}  {:route_width$}  {}", route.route, types(route)));
            if !first_line(&route.docs).is_empty() {
                let pad = types_width - types(route).len();
                out.push_str(&" ".repeat(pad));
            }
            push_doc(&mut out, &route.docs);
        }
    }
    out
}

/// `Arg -> Reply` for calls, `Arg` for pushes.
fn types(route: &RouteManifest) -> String {
    match &route.reply {
        Some(reply) => format!("{} -> {}", route.arg.rust, reply.rust),
        None => route.arg.rust.clone(),
    }
}

fn first_line(docs: &str) -> &str {
    docs.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("")
}

/// Ends the line with the first line of `docs`, if any.
fn push_doc(out: &mut String, docs: &str) {
    let doc = first_line(docs);
    if !doc.is_empty() {
        out.push_str("  ");
        out.push_str(doc);
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_listed_in_aligned_columns() {
        let manifest: Manifest = serde_json::from_str(
            r#"{"manifest": 1, "services": [{
                "name": "Math", "docs": "Arithmetic.\nMore.", "mapper": "http", "prefix": "",
                "codec": "json", "routes": [
                  {"route": "/math/add", "method": "add", "kind": "call", "docs": "Adds.",
                   "arg": {"rust": "Vec<i64>"}, "reply": {"rust": "i64"}},
                  {"route": "/math/notify", "method": "notify", "kind": "push", "docs": "Tells.",
                   "arg": {"rust": "String"}},
                  {"route": "/math/x", "method": "x", "kind": "call",
                   "arg": {"rust": "()"}, "reply": {"rust": "()"}}]}]}"#,
        )
        .unwrap();
        let want = "\
Math (mapper http, codec json)  Arithmetic.
  call  /math/add     Vec<i64> -> i64  Adds.
  push  /math/notify  String           Tells.
  call  /math/x       () -> ()
";
        assert_eq!(table(&manifest), want);
    }
}
