//! What a watcher may do in a session: Upscope's `allow_*` permissions, as
//! configured (`WATCH_PERMISSIONS`, `VIEWER_PERMISSIONS`) and as a link may
//! narrow them (`permissions=`). A link can only take powers away.

use std::collections::BTreeMap;

use super::query::echoable_name;
use super::text::list_items;

/// Upscope's permission names, without their `allow_` prefix.
pub const NAMES: [&str; 7] = ["console", "click", "draw", "scroll", "audio", "type", "agent_redirect"];

/// The `allow_*` flags sent to Upscope. Empty means Upscope's own defaults;
/// otherwise exactly these flags are sent.
pub type Grant = BTreeMap<String, bool>;

/// Reads a list of permission names separated by commas and/or spaces
/// (`allow_` prefixes optional), or `none`. The error says what is wrong in
/// words a person can act on, naming the vocabulary.
pub fn parse_list(text: &str) -> Result<Vec<&'static str>, String> {
    let names: Vec<&str> = list_items(text).map(|p| p.strip_prefix("allow_").unwrap_or(p)).collect();
    let vocabulary = || format!("use {}, or none", NAMES.join(", "));
    match names.as_slice() {
        [] => Err(format!("list the permissions to keep ({})", vocabulary())),
        ["none"] => Ok(Vec::new()),
        _ if names.contains(&"none") => {
            Err("none stands alone: list the permissions to keep, or give none by itself".into())
        }
        _ => names
            .iter()
            .map(|name| {
                NAMES
                    .iter()
                    .copied()
                    .find(|known| known == name)
                    .ok_or_else(|| format!("unknown permission '{}' ({})", echoable_name(name), vocabulary()))
            })
            .collect(),
    }
}

/// Exactly `granted`, every other permission denied.
pub fn exactly(granted: &[&str]) -> Grant {
    NAMES.iter().map(|p| (format!("allow_{p}"), granted.contains(p))).collect()
}

/// `configured` narrowed to `requested`: a permission stays granted only if
/// both grant it. Over Upscope's defaults (an empty grant) the permissions
/// not requested are denied and the requested ones are left to Upscope, so
/// a link can never turn on what the defaults leave off.
pub fn narrow(configured: &Grant, requested: &[&str]) -> Grant {
    NAMES
        .iter()
        .filter_map(|p| {
            let flag = format!("allow_{p}");
            let keep = requested.contains(p);
            match configured.get(&flag) {
                Some(&granted) => Some((flag, granted && keep)),
                None if configured.is_empty() && !keep => Some((flag, false)),
                None => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(grant: &Grant) -> Vec<&str> {
        grant.iter().filter(|(_, &on)| on).map(|(name, _)| name.as_str()).collect()
    }

    #[test]
    fn parses_names_with_or_without_prefix_and_none() {
        assert_eq!(parse_list("click, allow_scroll").unwrap(), ["click", "scroll"]);
        assert_eq!(parse_list(" click\tdraw,,scroll ").unwrap(), ["click", "draw", "scroll"]);
        assert_eq!(parse_list("none").unwrap(), Vec::<&str>::new());
        assert_eq!(parse_list("allow_none").unwrap(), Vec::<&str>::new());
        let err = parse_list("click,teleport").unwrap_err();
        assert!(err.contains("'teleport'") && err.contains("agent_redirect, or none"), "{err}");
        assert!(parse_list("none,click").unwrap_err().contains("none stands alone"));
        assert!(parse_list(" , ").unwrap_err().starts_with("list the permissions"));
        let odd = parse_list(&format!("x\u{7}{}", "y".repeat(100))).unwrap_err();
        assert!(!odd.contains('\u{7}') && odd.len() < 200, "the echo is short and printable: {odd}");
    }

    #[test]
    fn narrowing_keeps_only_what_both_grant() {
        let configured = exactly(&["click", "scroll", "draw"]);
        let narrowed = narrow(&configured, &["scroll", "console", "type"]);
        assert_eq!(granted(&narrowed), ["allow_scroll"], "console and type were never granted: no widening");
        assert_eq!(narrowed.len(), 7, "every flag is still sent");
        assert!(narrow(&configured, &[]).values().all(|on| !on), "none takes everything away");
        assert_eq!(narrow(&configured, &NAMES), configured, "asking for everything changes nothing");
    }

    #[test]
    fn narrowing_upscope_defaults_only_denies() {
        let narrowed = narrow(&Grant::new(), &["click", "console"]);
        assert!(narrowed.values().all(|on| !on), "nothing is switched on over the defaults");
        assert!(!narrowed.contains_key("allow_click") && !narrowed.contains_key("allow_console"));
        assert_eq!(narrowed.len(), 5);
    }
}
