//! What a watcher may do in a session: Upscope's `allow_*` permissions, as
//! configured (`WATCH_PERMISSIONS`, `VIEWER_PERMISSIONS`) and as a link may
//! narrow them (`permissions=`). A link can only take powers away.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::text::list_items;

/// Upscope's permission names, without their `allow_` prefix.
pub const NAMES: [&str; 7] = ["console", "click", "draw", "scroll", "audio", "type", "agent_redirect"];

/// The `allow_*` flags, in the order they are sent (by name).
const FLAGS: [&str; 7] =
    ["allow_agent_redirect", "allow_audio", "allow_click", "allow_console", "allow_draw", "allow_scroll", "allow_type"];

/// The `allow_*` flags sent to Upscope. Empty means Upscope's own defaults;
/// otherwise exactly these flags are sent, as a JSON object ordered by name.
/// A fixed slot per permission rather than a map: the names are known.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Grant([Option<bool>; 7]);

impl Grant {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether no flag is set (Upscope's defaults).
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }

    /// How many flags are set.
    pub fn len(&self) -> usize {
        self.0.iter().flatten().count()
    }

    /// The flag `allow_<name>`, when set.
    #[cfg(test)]
    pub fn get(&self, flag: &str) -> Option<bool> {
        FLAGS.iter().position(|f| *f == flag).and_then(|at| self.0[at])
    }

    /// Sets the flag for permission `name` (one of `NAMES`).
    fn set(&mut self, name: &str, granted: bool) {
        if let Some(at) = FLAGS.iter().position(|flag| flag.strip_prefix("allow_") == Some(name)) {
            self.0[at] = Some(granted);
        }
    }

    /// The set flags and their values, ordered by flag name.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, bool)> + '_ {
        FLAGS.iter().zip(self.0).filter_map(|(flag, on)| Some((*flag, on?)))
    }
}

impl Serialize for Grant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (flag, on) in self.iter() {
            map.serialize_entry(flag, &on)?;
        }
        map.end()
    }
}

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
            .enumerate()
            .map(|(i, name)| {
                NAMES.iter().copied().find(|known| known == name).ok_or_else(|| {
                    // Quoted only when it is a word: the list may be a setting's,
                    // whose errors are public, and a pasted URL may hold a password.
                    let word = name.len() <= 40 && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_');
                    let what = if word {
                        format!("unknown permission '{name}'")
                    } else {
                        format!("entry {} is no permission", i + 1)
                    };
                    format!("{what} ({})", vocabulary())
                })
            })
            .collect(),
    }
}

/// Exactly `granted`, every other permission denied.
pub fn exactly(granted: &[&str]) -> Grant {
    let mut grant = Grant::new();
    for name in NAMES {
        grant.set(name, granted.contains(&name));
    }
    grant
}

/// `configured` narrowed to `requested`: a permission stays granted only if
/// both grant it. Over Upscope's defaults (an empty grant) the permissions
/// not requested are denied and the requested ones are left to Upscope, so
/// a link can never turn on what the defaults leave off.
pub fn narrow(configured: &Grant, requested: &[&str]) -> Grant {
    let mut narrowed = Grant::new();
    for (at, flag) in FLAGS.iter().enumerate() {
        let keep = requested.iter().any(|name| flag.strip_prefix("allow_") == Some(name));
        narrowed.0[at] = match configured.0[at] {
            Some(granted) => Some(granted && keep),
            None if configured.is_empty() && !keep => Some(false),
            None => None,
        };
    }
    narrowed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn granted(grant: &Grant) -> Vec<&str> {
        grant.iter().filter(|&(_, on)| on).map(|(name, _)| name).collect()
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
        assert!(odd.starts_with("entry 1 is no permission (use "), "only a word is quoted: {odd}");
        let pasted = parse_list("click https://user:hunter2@shop.example.com/?token=s3cret").unwrap_err();
        assert!(pasted.starts_with("entry 2 is no permission") && !pasted.contains("hunter2"), "{pasted}");
        // Issue 28 (cargo-mutants): short is not enough, and a word may hold underscores.
        let short = parse_list("click pw=Hunter2").unwrap_err();
        assert!(short.starts_with("entry 2 is no permission") && !short.contains("Hunter2"), "{short}");
        assert!(parse_list("tele_port").unwrap_err().starts_with("unknown permission 'tele_port'"));
        let long = parse_list(&"a".repeat(41)).unwrap_err();
        assert!(long.starts_with("entry 1 is no permission"), "{long}");
        assert!(parse_list(&"a".repeat(40))
            .unwrap_err()
            .starts_with(&format!("unknown permission '{}'", "a".repeat(40))));
    }

    #[test]
    fn narrowing_keeps_only_what_both_grant() {
        let configured = exactly(&["click", "scroll", "draw"]);
        let narrowed = narrow(&configured, &["scroll", "console", "type"]);
        assert_eq!(granted(&narrowed), ["allow_scroll"], "console and type were never granted: no widening");
        assert_eq!(narrowed.len(), 7, "every flag is still sent");
        assert!(narrow(&configured, &[]).iter().all(|(_, on)| !on), "none takes everything away");
        assert_eq!(narrow(&configured, &NAMES), configured, "asking for everything changes nothing");
    }

    #[test]
    fn narrowing_upscope_defaults_only_denies() {
        let narrowed = narrow(&Grant::new(), &["click", "console"]);
        assert!(narrowed.iter().all(|(_, on)| !on), "nothing is switched on over the defaults");
        assert!(narrowed.get("allow_click").is_none() && narrowed.get("allow_console").is_none());
        assert_eq!(narrowed.len(), 5);
    }

    #[test]
    fn sent_as_an_object_ordered_by_flag_name() {
        let json = |grant: &Grant| serde_json::to_string(grant).unwrap();
        assert_eq!(json(&Grant::new()), "{}");
        assert_eq!(
            json(&exactly(&["type", "click"])),
            r#"{"allow_agent_redirect":false,"allow_audio":false,"allow_click":true,"allow_console":false,"allow_draw":false,"allow_scroll":false,"allow_type":true}"#
        );
        assert_eq!(json(&narrow(&Grant::new(), &NAMES[1..])), r#"{"allow_console":false}"#);
        let mut sorted = FLAGS;
        sorted.sort();
        assert_eq!(sorted, FLAGS, "flags are listed in the order a map would sort them");
        assert!(NAMES.iter().all(|name| FLAGS.contains(&format!("allow_{name}").as_str())));
    }
}
