//! Reading members of JSON that others send (Upscope's answers, Access
//! tokens and keys) from a `serde_json::Value`: a missing member reads as
//! null, null as unknown (`Some(None)`), and a value of the wrong type makes
//! the whole object unreadable (`None`).

use serde_json::{Map, Value};

/// Member `name` of `object`; a missing one reads as null.
pub fn member<'a>(object: &'a Map<String, Value>, name: &str) -> &'a Value {
    object.get(name).unwrap_or(&Value::Null)
}

/// Null as `Some(None)`, a value `read` accepts as `Some(Some(_))`, and
/// anything else as `None` (unreadable).
pub fn nullable<T>(value: &Value, read: impl Fn(&Value) -> Option<T>) -> Option<Option<T>> {
    match value {
        Value::Null => Some(None),
        _ => read(value).map(Some),
    }
}

/// Member `name` as text, read as `nullable` reads.
pub fn text(object: &Map<String, Value>, name: &str) -> Option<Option<String>> {
    nullable(member(object, name), |value| value.as_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn missing_and_null_are_unknown_and_a_wrong_type_is_unreadable() {
        let object = json!({"s": "x", "n": 3, "z": null});
        let object = object.as_object().unwrap();
        assert_eq!(text(object, "s"), Some(Some("x".to_owned())));
        assert_eq!(text(object, "z"), Some(None));
        assert_eq!(text(object, "missing"), Some(None));
        assert_eq!(text(object, "n"), None);
        assert_eq!(nullable(member(object, "n"), Value::as_f64), Some(Some(3.0)));
        assert_eq!(nullable(member(object, "s"), Value::as_f64), None);
    }
}
