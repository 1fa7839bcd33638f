//! The argument checked against the route's JSON Schema before it is sent.

use std::fmt::Write;

use serde_json::Value;
use teleport::manifest::{RouteKind, RouteManifest};

use crate::failure::Failure;

/// The most schema errors listed in one refusal.
const MAX_LISTED: usize = 8;

/// Refuses to send `arg` to `route` as a `kind` message when the manifest says the route is
/// of the other kind, or when `arg` does not match the route's argument schema. A route
/// without a schema (a peer built without it) takes anything; a schema the validator cannot
/// read is reported on standard error and not applied (the peer decides).
pub(crate) fn check(route: &RouteManifest, kind: RouteKind, arg: &Value) -> Result<(), Failure> {
    if route.kind != kind {
        let (is, use_) = match route.kind {
            RouteKind::Call => ("a call", "tp call"),
            RouteKind::Push => ("a push", "tp push"),
        };
        return Err(Failure::Input(format!("{} is {is} route: use {use_}", route.route)));
    }
    let Some(schema) = route.arg.schema.as_ref().filter(|s| !s.is_null()) else {
        return Ok(());
    };
    let validator = match jsonschema::validator_for(schema) {
        Ok(validator) => validator,
        Err(e) => {
            eprintln!(
                "tp: not checking the argument: the schema of {} is unusable: {e}",
                route.route
            );
            return Ok(());
        }
    };
    let errors: Vec<_> = validator.iter_errors(arg).collect();
    if errors.is_empty() {
        return Ok(());
    }
    let mut message = format!(
        "the argument does not match the schema of {} ({}), not sent:",
        route.route, route.arg.rust
    );
    for error in errors.iter().take(MAX_LISTED) {
        let at = error.instance_path().to_string();
        let at = if at.is_empty() { "/" } else { at.as_str() };
        let _ = write!(message, "\n  at {at}: {error} (schema path {})", error.schema_path());
    }
    if errors.len() > MAX_LISTED {
        let _ = write!(message, "\n  and {} more", errors.len() - MAX_LISTED);
    }
    Err(Failure::Input(message))
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use teleport::manifest::TypeManifest;

    use super::*;

    fn route(kind: RouteKind, schema: Option<Value>) -> RouteManifest {
        RouteManifest {
            route: "/math/add".into(),
            method: "add".into(),
            kind,
            docs: String::new(),
            arg: TypeManifest { rust: "Vec<i64>".into(), schema },
            reply: None,
        }
    }

    #[test]
    fn a_mismatch_names_the_instance_and_schema_paths() {
        let schema = json!({"type": "array", "items": {"type": "integer", "format": "int64"}});
        let add = route(RouteKind::Call, Some(schema));
        check(&add, RouteKind::Call, &json!([1, 2, 3])).unwrap();
        let err = check(&add, RouteKind::Call, &json!([1, "x"])).unwrap_err().to_string();
        assert!(err.contains("schema of /math/add (Vec<i64>)"), "{err}");
        assert!(err.contains("at /1:"), "{err}");
        assert!(err.contains("schema path /items/type"), "{err}");
        let err = check(&add, RouteKind::Call, &json!({"a": 1})).unwrap_err().to_string();
        assert!(err.contains("at /:") && err.contains("schema path /type"), "{err}");
    }

    #[test]
    fn no_schema_takes_anything_and_the_kind_must_match() {
        check(&route(RouteKind::Call, None), RouteKind::Call, &json!("x")).unwrap();
        check(&route(RouteKind::Call, Some(Value::Null)), RouteKind::Call, &json!(1)).unwrap();
        let err = check(&route(RouteKind::Push, None), RouteKind::Call, &json!(1)).unwrap_err();
        assert_eq!(err.to_string(), "/math/add is a push route: use tp push");
    }

    #[test]
    fn refs_into_defs_are_followed() {
        let schema = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": "#/$defs/Point",
            "$defs": {"Point": {"type": "object", "required": ["x"],
                                "properties": {"x": {"type": "integer"}}}}
        });
        let point = route(RouteKind::Call, Some(schema));
        check(&point, RouteKind::Call, &json!({"x": 1})).unwrap();
        let err = check(&point, RouteKind::Call, &json!({"x": true})).unwrap_err().to_string();
        assert!(err.contains("at /x:"), "{err}");
    }
}
