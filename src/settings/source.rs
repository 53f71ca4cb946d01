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

/// A setting that takes one of a few words (`choices`), or `None` when
/// unset. Anything else is refused naming the setting and the words it
/// takes, never the value: a secret pasted into the wrong setting would
/// otherwise reach `/readyz`.
pub(super) fn one_of<T: Copy>(src: &impl Source, name: &str, choices: &[(&str, T)]) -> Result<Option<T>, GatewayError> {
    let Some(value) = src.get(name) else { return Ok(None) };
    match choices.iter().find(|(word, _)| *word == value.trim()) {
        Some(&(_, chosen)) => Ok(Some(chosen)),
        None => Err(must_be(name, &choices.iter().map(|(word, _)| *word).collect::<Vec<_>>())),
    }
}

/// A `true`/`false` setting, or `None` when unset; anything else (`True`,
/// `yes`, `1`) is refused rather than guessed at.
pub(super) fn true_or_false(src: &impl Source, name: &str) -> Result<Option<bool>, GatewayError> {
    one_of(src, name, &[("true", true), ("false", false)])
}

/// "`name` must be a, b or c": apart from `one_of`, so that it is compiled
/// once rather than for each type of choice.
fn must_be(name: &str, words: &[&str]) -> GatewayError {
    let spoken = match words.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    };
    misconfigured(format!("{name} must be {spoken}"))
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

    /// Worker vars and secrets, as name/value pairs.
    pub fn vars(pairs: &[(&'static str, &'static str)]) -> HashMap<&'static str, &'static str> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn one_of_takes_its_words_trimmed_and_names_them_when_refusing() {
        #[derive(Debug, Clone, Copy, PartialEq)]
        enum Tint {
            Red,
            Green,
        }
        let tints = [("red", Tint::Red), ("green", Tint::Green), ("blue-ish", Tint::Red)];
        assert_eq!(one_of(&vars(&[]), "TINT", &tints).unwrap(), None);
        assert_eq!(one_of(&vars(&[("TINT", "  ")]), "TINT", &tints).unwrap(), None, "blank is unset");
        assert_eq!(one_of(&vars(&[("TINT", " green\n")]), "TINT", &tints).unwrap(), Some(Tint::Green));
        for bad in ["Red", "GREEN", "re d", "s3cret-pasted-here"] {
            let err = one_of(&vars(&[("TINT", bad)]), "TINT", &tints).unwrap_err();
            assert_eq!(err.status(), 500);
            assert_eq!(err.message(), "gateway misconfigured: TINT must be red, green or blue-ish", "{bad}");
        }
        let err = one_of(&vars(&[("ONE", "two")]), "ONE", &[("one", ())]).unwrap_err();
        assert_eq!(err.message(), "gateway misconfigured: ONE must be one");
    }

    #[test]
    fn true_or_false_is_exactly_that() {
        let flag = |value: &'static str| true_or_false(&vars(&[("FLAG", value)]), "FLAG");
        assert_eq!(true_or_false(&vars(&[]), "FLAG").unwrap(), None);
        assert_eq!((flag("true").unwrap(), flag(" false ").unwrap()), (Some(true), Some(false)));
        for typo in ["True", "FALSE", "yes", "no", "1", "0", "on"] {
            assert_eq!(
                flag(typo).unwrap_err().message(),
                "gateway misconfigured: FLAG must be true or false",
                "{typo}"
            );
        }
    }
}
