//! A visitor as Upscope's search returns it, reduced to the fields the
//! gateway reasons about, and read tolerantly: unknown fields are ignored,
//! any field may be null or missing, and identifiers and `last_seen_at` are
//! read as text whether Upscope sends a string or a number (a uniqueId "can
//! be a string or number"), so no such visitor is dropped.

use std::fmt;

use serde::de;
use serde::{Deserialize, Deserializer};

use super::time::{parse_last_seen_millis, unix_millis};

/// The fields of a visitor the gateway uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Visitor {
    #[serde(deserialize_with = "text_or_number")]
    pub short_id: Option<String>,
    #[serde(deserialize_with = "text_or_number")]
    pub unique_id: Option<String>,
    #[serde(deserialize_with = "lookup_code")]
    pub lookup_code: Option<String>,
    pub is_online: Option<bool>,
    /// `last_seen_at` as Unix milliseconds, read once here from ISO 8601
    /// text or Unix seconds or milliseconds (as a number or its text);
    /// `None` when absent or unreadable.
    #[serde(rename = "last_seen_at", deserialize_with = "last_seen")]
    pub last_seen_ms: Option<i64>,
    pub browser_name: Option<String>,
    pub device_name: Option<String>,
    pub device_type: Option<String>,
}

/// What a field holds, for reading it from a string or a number.
#[derive(Clone, Copy)]
enum Field {
    Id,
    /// Four digits: a number gets back the leading zeros it cannot carry (`421` is `0421`).
    LookupCode,
}

/// A string as it is, an integer as its decimal text, null as `None`; any
/// other type makes the visitor unreadable. A hand-written visitor, not a
/// detour through `serde_json::Value`: it costs the wasm less.
impl<'de> de::Visitor<'de> for Field {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(match self {
            Field::LookupCode if v <= 9999 => format!("{v:04}"),
            _ => v.to_string(),
        }))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        match v {
            _ if v.fract() == 0.0 && (0.0..1e15).contains(&v) => self.visit_u64(v as u64),
            _ => Err(E::invalid_type(de::Unexpected::Float(v), &self)),
        }
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn text_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_option(Field::Id)
}

fn lookup_code<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_option(Field::LookupCode)
}

/// `last_seen_at` in whatever form it comes; a value that is no time reads
/// as unknown rather than dropping the visitor.
struct LastSeen;

impl<'de> de::Visitor<'de> for LastSeen {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a date-time or a Unix time")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(parse_last_seen_millis(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(unix_millis(v as f64))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(unix_millis(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(unix_millis(v))
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

fn last_seen<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_option(LastSeen)
}
