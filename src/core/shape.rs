//! The shape of an answer the gateway could not read, told without its
//! values: member names at the top level and one level down, so a person
//! can see what Upscope sent instead of what was expected, and nothing it
//! sent (a URL, a token, an ID) is repeated.

use serde_json::Value;

/// At most this many names are told; the rest are counted.
const MAX_NAMES: usize = 24;

/// The member names told: those of Upscope's answers as docs/upscope-api.md
/// documents them (the envelope, the visitor object, `/usage`, and the
/// session URL names the gateway looks for), then a few words any JSON API
/// uses for its own structure. Nothing else is plainly a field name: an
/// answer may use data as member names (a session id, a customer's own ID
/// as a key), and a name merely shaped like a field (`cust_1001`,
/// `deadbeef`) may be one, so it is counted, never shown. Sorted, for a
/// binary search; the tests check that the documented ones are in the doc.
const FIELD_NAMES: &[&str] = &[
    "_type",
    "added_at",
    "agents",
    "browser_name",
    "call_name",
    "code",
    "data",
    "detail",
    "device_name",
    "device_type",
    "email",
    "error",
    "errors",
    "first_seen_at",
    "href",
    "id",
    "identities",
    "integration",
    "ip_address",
    "is_in_session",
    "is_online",
    "is_supported",
    "is_waiting_for_call",
    "last_seen_at",
    "last_url",
    "link",
    "location_city",
    "location_country",
    "location_country_name",
    "lookup_code",
    "message",
    "name",
    "proxy_session",
    "proxy_url",
    "redirect_url",
    "result",
    "results",
    "session",
    "session_counts",
    "session_seconds",
    "session_url",
    "sessions",
    "short_id",
    "status",
    "tags",
    "type",
    "unique_id",
    "url",
    "usage",
    "visitor",
    "visitors",
    "watch_url",
];

/// The structural words of `FIELD_NAMES`, which no Upscope document needs to name.
#[cfg(test)]
const GENERIC_NAMES: &[&str] =
    &["code", "data", "detail", "errors", "href", "link", "message", "name", "result", "results", "session", "type"];

/// What came back, in words: `a body that is not JSON (12 bytes)`, `a JSON
/// array`, or `the members status, session, session.id (and 2 other
/// members, not named: they may hold data)`.
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
        1 => format!("{listed} (and 1 other member, not named: it may hold data)"),
        n => format!("{listed} (and {n} other members, not named: they may hold data)"),
    }
}

fn is_field_name(name: &str) -> bool {
    FIELD_NAMES.binary_search(&name).is_ok()
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
            r#"{"status":"ok","session":{"id":"x1","link":"https://elsewhere.example/s/secret-token"},"usage":3}"#;
        let told = describe(body);
        // serde_json without preserve_order keeps members sorted by name.
        assert_eq!(told, "the members session, session.id, session.link, status, usage");
        for value in ["x1", "elsewhere", "secret-token", "ok", "3"] {
            assert!(!told.contains(value), "{value} leaked: {told}");
        }
    }

    #[test]
    fn an_arrays_first_object_is_named_too() {
        assert_eq!(
            describe(r#"{"visitors":[{"short_id":"a"},{"other":1}]}"#),
            "the members visitors, visitors[].short_id"
        );
    }

    #[test]
    fn names_shaped_like_data_are_counted_not_told() {
        let told = describe(r#"{"sessions":{"tok-4f9a/xyz":{"u":1},"https://x.example":2},"9abc":1}"#);
        assert_eq!(told, "the members sessions (and 3 other members, not named: they may hold data)");
        assert!(!told.contains("tok-4f9a") && !told.contains("x.example"));
        let long = format!(r#"{{"{}":1}}"#, "a".repeat(41));
        assert_eq!(describe(&long), "no members it can name (and 1 other member, not named: it may hold data)");
    }

    #[test]
    fn data_that_looks_like_a_field_name_is_counted_too() {
        // Issue 25, item 5: ids and own IDs used as keys read like identifiers.
        let body = r#"{"status":"ok","sessions":{"c0ffee00deadbeef":{"url":"u"}},"by_customer":{"cust_1001":1,"alice":2},"deadbeef":1}"#;
        let told = describe(body);
        assert_eq!(told, "the members sessions, status (and 5 other members, not named: they may hold data)");
        for data in ["c0ffee00", "cust_1001", "alice", "by_customer", "deadbeef"] {
            assert!(!told.contains(data), "{data} told: {told}");
        }
        // A documented name under a name that is not is not told either.
        assert_eq!(
            describe(r#"{"by_customer":{"status":1}}"#),
            "no members it can name (and 2 other members, not named: they may hold data)"
        );
    }

    #[test]
    fn the_names_told_are_sorted_and_documented_in_the_api_reference() {
        assert!(FIELD_NAMES.windows(2).all(|pair| pair[0] < pair[1]), "sorted, for the binary search");
        let reference = include_str!("../../docs/upscope-api.md");
        for name in FIELD_NAMES.iter().filter(|name| !GENERIC_NAMES.contains(name)) {
            let named = [format!("`{name}`"), format!("`{name}:"), format!("\"{name}\"")];
            assert!(named.iter().any(|form| reference.contains(form.as_str())), "{name} is not in docs/upscope-api.md");
        }
    }

    /// Issue 28: under a parent named like data (a token used as a key),
    /// the members are counted too, never named: `tok-4f9a.id` would repeat
    /// the token.
    #[test]
    fn members_under_a_data_shaped_parent_are_counted_not_named() {
        let told = describe(r#"{"tok-4f9a":{"id":1,"link":"x"},"status":"ok"}"#);
        assert_eq!(told, "the members status (and 3 other members, not named: they may hold data)");
        assert!(!told.contains("tok-4f9a"), "{told}");
        let told = describe(r#"{"https://x.example/s":[{"id":1}]}"#);
        assert_eq!(told, "no members it can name (and 2 other members, not named: they may hold data)");
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
        let members: Vec<String> = FIELD_NAMES.iter().take(30).map(|name| format!("\"{name}\":1")).collect();
        let told = describe(&format!("{{{}}}", members.join(",")));
        assert!(
            told.ends_with(&format!("{} (and 6 other members, not named: they may hold data)", FIELD_NAMES[23])),
            "{told}"
        );
    }
}
