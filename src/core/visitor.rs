//! A visitor as Upscope's search returns it, reduced to the fields the
//! gateway reasons about, and read tolerantly: unknown fields are ignored,
//! any field may be null or missing, and identifiers and `last_seen_at` are
//! read as text whether Upscope sends a string or a number (a uniqueId "can
//! be a string or number"), so no such visitor is dropped.

use serde_json::Value;

use super::json::{member, nullable, text};
use super::time::{parse_last_seen_millis, unix_millis};

/// The fields of a visitor the gateway uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Visitor {
    pub short_id: Option<String>,
    pub unique_id: Option<String>,
    pub lookup_code: Option<String>,
    pub is_online: Option<bool>,
    /// `last_seen_at` as Unix milliseconds, read once here from ISO 8601
    /// text or Unix seconds or milliseconds (as a number or its text);
    /// `None` when absent or unreadable.
    pub last_seen_ms: Option<i64>,
    pub browser_name: Option<String>,
    pub device_name: Option<String>,
    pub device_type: Option<String>,
}

impl Visitor {
    /// A visitor from one item of a search answer's list: a JSON object
    /// whose unknown members are ignored and whose known ones may be null or
    /// missing. `None` (the visitor is unreadable) when the item is no object
    /// or a known member holds a type it cannot have.
    ///
    /// Read by hand from the `Value` the answer was parsed into, rather than
    /// through a derived `Deserialize` over `&Value`: the same rules in far
    /// less wasm.
    pub fn from_json(item: &Value) -> Option<Visitor> {
        let item = item.as_object()?;
        Some(Visitor {
            short_id: text_or_number(member(item, "short_id"), Field::Id)?,
            unique_id: text_or_number(member(item, "unique_id"), Field::Id)?,
            lookup_code: text_or_number(member(item, "lookup_code"), Field::LookupCode)?,
            is_online: nullable(member(item, "is_online"), Value::as_bool)?,
            last_seen_ms: last_seen(member(item, "last_seen_at"))?,
            browser_name: text(item, "browser_name")?,
            device_name: text(item, "device_name")?,
            device_type: text(item, "device_type")?,
        })
    }
}

/// What a field holds, for reading it from a string or a number.
#[derive(Clone, Copy)]
enum Field {
    Id,
    /// Four digits: a number gets back the leading zeros it cannot carry (`421` is `0421`).
    LookupCode,
}

/// A string as it is, a whole number as its decimal text (a fraction-free
/// float below 10^15 counts as one), null as unknown; any other type makes
/// the visitor unreadable.
fn text_or_number(value: &Value, field: Field) -> Option<Option<String>> {
    let whole = |n: u64| match field {
        Field::LookupCode if n <= 9999 => format!("{n:04}"),
        _ => n.to_string(),
    };
    nullable(value, |value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(n), _, _) => Some(whole(n)),
            (None, Some(n), _) => Some(n.to_string()),
            (None, None, Some(f)) if f.fract() == 0.0 && (0.0..1e15).contains(&f) => Some(whole(f as u64)),
            _ => None,
        },
        _ => None,
    })
}

/// `last_seen_at` in whatever form it comes; a value that is no time reads
/// as unknown rather than dropping the visitor (a list or an object does).
fn last_seen(value: &Value) -> Option<Option<i64>> {
    match value {
        Value::String(text) => Some(parse_last_seen_millis(text)),
        Value::Number(n) => Some(n.as_f64().and_then(unix_millis)),
        Value::Null | Value::Bool(_) => Some(None),
        Value::Array(_) | Value::Object(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_the_known_fields_of_an_object() {
        let v = Visitor::from_json(&json!({
            "short_id": "s1", "unique_id": -7, "lookup_code": 42, "is_online": false, "last_seen_at": "2026-11-24T10:00:00Z",
            "browser_name": "Firefox", "device_name": null, "device_type": "desktop", "extra": [1, {"x": 2}]
        }))
        .unwrap();
        assert_eq!(
            v,
            Visitor {
                short_id: Some("s1".into()),
                unique_id: Some("-7".into()),
                lookup_code: Some("0042".into()),
                is_online: Some(false),
                last_seen_ms: Some(1_795_514_400_000),
                browser_name: Some("Firefox".into()),
                device_name: None,
                device_type: Some("desktop".into()),
            }
        );
        assert_eq!(Visitor::from_json(&json!({})), Some(Visitor::default()));
        assert_eq!(Visitor::from_json(&json!({"lookup_code": 12345})).unwrap().lookup_code.as_deref(), Some("12345"));
        assert_eq!(Visitor::from_json(&json!({"last_seen_at": true})).unwrap().last_seen_ms, None);
    }

    #[test]
    fn a_field_of_the_wrong_type_makes_the_visitor_unreadable() {
        for item in [
            json!({"short_id": true}),
            json!({"unique_id": 1.5}),
            json!({"unique_id": 1e15}),
            json!({"lookup_code": {"a": 1}}),
            json!({"is_online": "yes"}),
            json!({"last_seen_at": [1]}),
            json!({"browser_name": 3}),
            json!({"device_type": false}),
            json!(["s1"]),
            json!("s1"),
            json!(null),
        ] {
            assert_eq!(Visitor::from_json(&item), None, "{item}");
        }
    }
}
