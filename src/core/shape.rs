//! The shape of an answer the gateway could not read, told without its
//! values: member names at the top level and one level down, so a person
//! can see what Upscope sent instead of what was expected, and nothing it
//! sent (a URL, a token, an ID) is repeated.

use serde_json::Value;

/// At most this many names are told; the rest are counted.
const MAX_NAMES: usize = 24;
/// A member name is told only if it looks like a field name: a name shaped
/// like data (an ID used as a key, a URL) is counted, never shown.
const MAX_NAME_CHARS: usize = 40;

/// What came back, in words: `a body that is not JSON (12 bytes)`, `a JSON
/// array`, or `the members status, session, session.id (and 2 other members)`.
pub fn describe(body: &str) -> String {
    let Ok(json) = serde_json::from_str::<Value>(body) else {
        return format!("a body that is not JSON ({} bytes)", body.len());
    };
    let Value::Object(top) = &json else {
        return format!("a JSON {}", kind(&json));
    };
    let (mut names, mut others) = (Vec::new(), 0usize);
    let mut tell = |name: String, plain: bool| {
        if plain && names.len() < MAX_NAMES {
            names.push(name);
        } else {
            others += 1;
        }
    };
    for (name, value) in top {
        let plain = is_field_name(name);
        tell(name.clone(), plain);
        // One level down: an object's members, or those of an array's first object.
        let (inner, mark) = match value {
            Value::Object(inner) => (Some(inner), ""),
            Value::Array(items) => (items.first().and_then(Value::as_object), "[]"),
            _ => (None, ""),
        };
        for sub in inner.into_iter().flat_map(|inner| inner.keys()) {
            tell(format!("{name}{mark}.{sub}"), plain && is_field_name(sub));
        }
    }
    let listed = if names.is_empty() {
        "no members it can name".to_owned()
    } else {
        format!("the members {}", names.join(", "))
    };
    match others {
        0 => listed,
        1 => format!("{listed} (and 1 other member)"),
        n => format!("{listed} (and {n} other members)"),
    }
}

fn is_field_name(name: &str) -> bool {
    let mut chars = name.chars();
    name.len() <= MAX_NAME_CHARS
        && chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_members_two_levels_deep_never_values() {
        let body =
            r#"{"status":"ok","session":{"id":"x1","link":"https://elsewhere.example/s/secret-token"},"count":3}"#;
        let told = describe(body);
        // serde_json without preserve_order keeps members sorted by name.
        assert_eq!(told, "the members count, session, session.id, session.link, status");
        for value in ["x1", "elsewhere", "secret-token", "ok", "3"] {
            assert!(!told.contains(value), "{value} leaked: {told}");
        }
    }

    #[test]
    fn an_arrays_first_object_is_named_too() {
        assert_eq!(describe(r#"{"results":[{"sid":"a"},{"other":1}]}"#), "the members results, results[].sid");
    }

    #[test]
    fn names_shaped_like_data_are_counted_not_told() {
        let told = describe(r#"{"sessions":{"tok-4f9a/xyz":{"u":1},"https://x.example":2},"9abc":1}"#);
        assert_eq!(told, "the members sessions (and 3 other members)");
        assert!(!told.contains("tok-4f9a") && !told.contains("x.example"));
        let long = format!(r#"{{"{}":1}}"#, "a".repeat(41));
        assert_eq!(describe(&long), "no members it can name (and 1 other member)");
    }

    /// Issue 28: under a parent named like data (a token used as a key),
    /// the members are counted too, never named: `tok-4f9a.id` would repeat
    /// the token.
    #[test]
    fn members_under_a_data_shaped_parent_are_counted_not_named() {
        let told = describe(r#"{"tok-4f9a":{"id":1,"link":"x"},"status":"ok"}"#);
        assert_eq!(told, "the members status (and 3 other members)");
        assert!(!told.contains("tok-4f9a"), "{told}");
        let told = describe(r#"{"https://x.example/s":[{"id":1}]}"#);
        assert_eq!(told, "no members it can name (and 2 other members)");
    }

    #[test]
    fn what_is_not_an_object_is_named_by_its_kind() {
        assert_eq!(describe("<html>oops</html>"), "a body that is not JSON (17 bytes)");
        assert_eq!(describe(""), "a body that is not JSON (0 bytes)");
        assert_eq!(describe(r#"["https://x.example"]"#), "a JSON array");
        assert_eq!(describe(r#""https://x.example""#), "a JSON string");
    }

    #[test]
    fn many_members_are_cut_and_counted() {
        let members: Vec<String> = (0..30).map(|i| format!("\"m{i:02}\":1")).collect();
        let told = describe(&format!("{{{}}}", members.join(",")));
        assert!(told.ends_with("m23 (and 6 other members)"), "{told}");
    }
}
