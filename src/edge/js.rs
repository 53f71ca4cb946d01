//! Small pieces of JS every adapter here needs: plain option objects and
//! the settled value of a promise a binding returned.

use worker::js_sys::{Object, Promise, Reflect};
use worker::wasm_bindgen::JsValue;
use worker::wasm_bindgen_futures::JsFuture;

/// A plain JS object of these fields, built directly (no JSON text, no
/// `serde_json::Value` in the bundle).
pub fn object(fields: &[(&str, JsValue)]) -> Object {
    let object = Object::new();
    for (name, value) in fields {
        let _ = Reflect::set(&object, &JsValue::from_str(name), value);
    }
    object
}

/// A value `glue.js` sends as a line of its own: `"+value"`, or `"-"` when
/// there is none; `None` for any other line.
pub fn optional_line(line: &str) -> Option<Option<&str>> {
    match line {
        "-" => Some(None),
        _ => line.strip_prefix('+').map(Some),
    }
}

/// The settled value of the promise a call returned; a call that threw, or
/// a promise that rejected, is `Err`.
pub async fn settled(call: Result<Promise, JsValue>) -> Result<JsValue, JsValue> {
    JsFuture::from(call?).await
}

#[cfg(test)]
mod tests {
    use super::optional_line;

    #[test]
    fn optional_lines_are_a_value_or_none_and_nothing_else() {
        assert_eq!(optional_line("+30"), Some(Some("30")));
        assert_eq!(optional_line("+"), Some(Some("")));
        assert_eq!(optional_line("+-"), Some(Some("-")));
        assert_eq!(optional_line("-"), Some(None));
        for garbled in ["", "30", "--", "-x"] {
            assert_eq!(optional_line(garbled), None, "{garbled:?}");
        }
    }
}
