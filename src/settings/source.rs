//! Where settings come from (`Source`) and the readers every loader shares.
//! A reader's error names the setting and never quotes its value: the
//! message reaches the public `/readyz` and error pages.

use std::ops::RangeInclusive;

use url::Url;

use crate::core::page_url::check_web_url;
use crate::core::text::list_items;
use crate::error::GatewayError;

/// Where settings come from: Worker vars and secrets in production
/// (`edge::env`), a map in tests, a JSON object in the pre-deploy check.
pub trait Source {
    /// The value, or `None` when unset or blank.
    fn get(&self, name: &str) -> Option<String>;
}

/// A secret as stored, without the whitespace around it: `echo … | wrangler
/// secret put` stores a trailing newline that would otherwise silently
/// become part of the key.
pub(super) fn secret(src: &impl Source, name: &str) -> Option<String> {
    src.get(name).map(|value| value.trim().to_owned())
}

pub(super) fn misconfigured(message: impl Into<String>) -> GatewayError {
    GatewayError::Misconfigured(message.into())
}

/// A list setting: entries separated by commas and/or whitespace.
pub(super) fn list(src: &impl Source, name: &str) -> Vec<String> {
    src.get(name).map(|v| list_items(&v).map(str::to_owned).collect()).unwrap_or_default()
}

/// A URL setting; an error says what is wrong and never quotes the value.
pub(super) fn web_url(src: &impl Source, name: &str) -> Result<Option<Url>, GatewayError> {
    src.get(name).map(|v| check_web_url(v.trim()).map_err(|why| misconfigured(format!("{name} {why}")))).transpose()
}

/// A whole-number setting: `default` when unset, otherwise a number within
/// `range`; anything else is refused with "`name` must be `expected`".
pub(super) fn whole_number(
    src: &impl Source,
    name: &str,
    default: u64,
    range: RangeInclusive<u64>,
    expected: &str,
) -> Result<u64, GatewayError> {
    match src.get(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| misconfigured(format!("{name} must be {expected}"))),
    }
}

/// A `true`/`false` setting, or `None` when unset; anything else is refused.
pub(super) fn true_or_false(src: &impl Source, name: &str) -> Result<Option<bool>, GatewayError> {
    match src.get(name).as_deref().map(str::trim) {
        None => Ok(None),
        Some("true") => Ok(Some(true)),
        Some("false") => Ok(Some(false)),
        Some(_) => Err(misconfigured(format!("{name} must be 'true' or 'false'"))),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::HashMap;

    use super::*;

    impl Source for HashMap<&str, &str> {
        fn get(&self, name: &str) -> Option<String> {
            self.get(name).map(|v| v.to_string()).filter(|t| !t.trim().is_empty())
        }
    }

    /// Settings from name/value pairs.
    pub fn src(pairs: &[(&'static str, &'static str)]) -> HashMap<&'static str, &'static str> {
        pairs.iter().copied().collect()
    }
}
