//! Choosing the visitor among search results. Upscope's search is fuzzy, so
//! only exact matches count (and for a lookup code, only online visitors);
//! among several, online beats offline, then the most recently seen wins.
//! Two exceptions are never guessed at: an own ID online on several devices
//! (the agent picks one) and a lookup code shown by several visitors at once
//! (refused: they are different people).

use super::ids::{LookupCode, ShortId, UniqueId};
use super::sort::stable_sort_by;
use super::visitor::Visitor;

/// What the agent asked for, to compare search results against.
#[derive(Debug, Clone, Copy)]
pub enum Wanted<'a> {
    Unique(&'a UniqueId),
    Lookup(&'a LookupCode),
}

impl Wanted<'_> {
    fn matches(&self, v: &Visitor) -> bool {
        match self {
            Wanted::Unique(id) => v.unique_id.as_deref() == Some(id.as_str()),
            // A code is read out "right now": one shown by a visitor who has
            // since left names nobody, however recently it was seen.
            Wanted::Lookup(code) => v.lookup_code.as_deref() == Some(code.as_str()) && v.is_online == Some(true),
        }
    }
}

/// The search results that match exactly and carry a usable Short ID, in Upscope's order.
fn exact_matches<'v>(visitors: &'v [Visitor], wanted: Wanted<'v>) -> impl Iterator<Item = (&'v Visitor, ShortId)> {
    visitors
        .iter()
        .filter(move |v| wanted.matches(v))
        .filter_map(|v| Some((v, v.short_id.as_deref().and_then(|s| ShortId::parse(s).ok())?)))
}

/// The Short ID of the best exact match, or `None` when nothing matches exactly.
pub fn choose_visitor(visitors: &[Visitor], wanted: Wanted<'_>) -> Option<ShortId> {
    let mut best: Option<(ShortId, _)> = None;
    for (v, short_id) in exact_matches(visitors, wanted) {
        let r = (v.is_online == Some(true), v.last_seen_ms);
        // Strictly greater: on a tie the earlier result (Upscope's own order) wins.
        if best.as_ref().is_none_or(|(_, best_rank)| r > *best_rank) {
            best = Some((short_id, r));
        }
    }
    best.map(|(id, _)| id)
}

/// One of several devices a person is online on, for the agent to pick.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub short_id: ShortId,
    pub device: Option<String>,
    pub browser: Option<String>,
    pub last_seen_ms: Option<i64>,
}

/// What `/agent` does with search results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    One(ShortId),
    /// Several exact matches online at once: the agent picks, most recently seen first.
    Several(Vec<Candidate>),
    /// A lookup code shown by several visitors online at once. Four digits
    /// collide, and these are different people: a chooser would show the
    /// agent a stranger's device and ask them to guess, so nobody is picked.
    Ambiguous,
}

/// Like `choose_visitor`, except that an own ID online on several devices at
/// once is not guessed at (those devices are offered to the agent), and
/// neither is a lookup code that several online visitors show.
pub fn choose_for_agent(visitors: &[Visitor], wanted: Wanted<'_>) -> Option<Choice> {
    if let Wanted::Lookup(_) = wanted {
        // Every exact lookup match is online (see `Wanted::matches`); the
        // same visitor listed twice is still one.
        let mut matches = exact_matches(visitors, wanted).map(|(_, short_id)| short_id);
        let first = matches.next()?;
        if matches.any(|other| other != first) {
            return Some(Choice::Ambiguous);
        }
        return Some(Choice::One(first));
    }
    if let Wanted::Unique(_) = wanted {
        let mut online: Vec<Candidate> = Vec::new();
        for (v, short_id) in exact_matches(visitors, wanted).filter(|(v, _)| v.is_online == Some(true)) {
            if online.iter().all(|c| c.short_id != short_id) {
                online.push(Candidate {
                    short_id,
                    device: describe(&[v.device_name.as_deref(), v.device_type.as_deref()]),
                    browser: describe(&[v.browser_name.as_deref()]),
                    last_seen_ms: v.last_seen_ms,
                });
            }
        }
        if online.len() >= 2 {
            // Stable: equal times keep Upscope's order.
            stable_sort_by(&mut online, |a, b| b.last_seen_ms.cmp(&a.last_seen_ms));
            return Some(Choice::Several(online));
        }
    }
    choose_visitor(visitors, wanted).map(Choice::One)
}

/// The first non-blank of `fields`, trimmed and cut to 60 characters.
fn describe(fields: &[Option<&str>]) -> Option<String> {
    fields.iter().flatten().map(|f| f.trim()).find(|f| !f.is_empty()).map(|f| f.chars().take(60).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(short: &str, unique: Option<&str>, code: Option<&str>, online: Option<bool>, seen: Option<&str>) -> Visitor {
        Visitor {
            short_id: Some(short.into()),
            unique_id: unique.map(Into::into),
            lookup_code: code.map(Into::into),
            is_online: online,
            last_seen_ms: seen.and_then(crate::core::time::parse_last_seen_millis),
            ..Visitor::default()
        }
    }

    #[test]
    fn only_exact_unique_id_matches() {
        let id = UniqueId::parse("alice").unwrap();
        let list = [
            v("fuzzy1", Some("alice2"), None, Some(true), None),
            v("fuzzy2", Some("ALICE"), None, Some(true), None),
            v("fuzzy3", None, None, Some(true), None),
            v("exact", Some("alice"), None, Some(false), None),
        ];
        assert_eq!(choose_visitor(&list, Wanted::Unique(&id)).unwrap().as_str(), "exact");
        assert_eq!(choose_visitor(&list[..3], Wanted::Unique(&id)), None);
    }

    #[test]
    fn only_exact_lookup_code_matches() {
        let code = LookupCode::parse("4821").unwrap();
        let list = [
            v("other", Some("4821"), Some("1111"), Some(true), None),
            v("right", None, Some("4821"), Some(true), None),
        ];
        assert_eq!(choose_visitor(&list, Wanted::Lookup(&code)).unwrap().as_str(), "right");
    }

    #[test]
    fn lookup_codes_name_online_visitors_only() {
        let code = LookupCode::parse("5930").unwrap();
        let gone = v("gone", None, Some("5930"), Some(false), Some("2026-11-24T10:00:00Z"));
        let unknown = v("unknown", None, Some("5930"), None, None);
        assert_eq!(choose_visitor(&[gone.clone(), unknown.clone()], Wanted::Lookup(&code)), None);
        let here = v("here", None, Some("5930"), Some(true), Some("2026-11-20T00:00:00Z"));
        assert_eq!(choose_visitor(&[gone, here, unknown], Wanted::Lookup(&code)).unwrap().as_str(), "here");
    }

    #[test]
    fn numeric_last_seen_orders_with_iso_times() {
        let id = UniqueId::parse("5005").unwrap();
        // 1795515330 s is 2026-11-24T10:15:30Z: later than the ISO entry.
        let list = [
            v("iso", Some("5005"), None, Some(false), Some("2026-11-24T10:00:00Z")),
            v("secs", Some("5005"), None, Some(false), Some("1795515330")),
            v("old-ms", Some("5005"), None, Some(false), Some("1795510000000")),
        ];
        assert_eq!(choose_visitor(&list, Wanted::Unique(&id)).unwrap().as_str(), "secs");
    }

    #[test]
    fn online_beats_recent_and_recent_beats_old() {
        let id = UniqueId::parse("carol").unwrap();
        let list = [
            v("old", Some("carol"), None, Some(false), Some("2026-11-24T09:00:00Z")),
            v("recent", Some("carol"), None, Some(false), Some("2026-11-24T10:00:00Z")),
            v("online", Some("carol"), None, Some(true), Some("2026-11-20T00:00:00Z")),
        ];
        assert_eq!(choose_visitor(&list, Wanted::Unique(&id)).unwrap().as_str(), "online");
        assert_eq!(choose_visitor(&list[..2], Wanted::Unique(&id)).unwrap().as_str(), "recent");
        // Offsets are honoured: 10:30+01:00 is 09:30Z, older than 10:00Z.
        let mixed = [
            v("later-text", Some("carol"), None, None, Some("2026-11-24T10:30:00+01:00")),
            v("later-time", Some("carol"), None, None, Some("2026-11-24T10:00:00Z")),
        ];
        assert_eq!(choose_visitor(&mixed, Wanted::Unique(&id)).unwrap().as_str(), "later-time");
    }

    #[test]
    fn nulls_and_bad_short_ids_are_tolerated() {
        let id = UniqueId::parse("dan").unwrap();
        let mut no_short = v("x", Some("dan"), None, Some(true), None);
        no_short.short_id = None;
        let list = [
            no_short,
            v("../evil", Some("dan"), None, Some(true), None),
            v("ok", Some("dan"), None, None, Some("garbage")),
        ];
        assert_eq!(choose_visitor(&list, Wanted::Unique(&id)).unwrap().as_str(), "ok");
    }

    #[test]
    fn ties_keep_upscope_order() {
        let id = UniqueId::parse("eve").unwrap();
        let list = [v("first", Some("eve"), None, Some(true), None), v("second", Some("eve"), None, Some(true), None)];
        assert_eq!(choose_visitor(&list, Wanted::Unique(&id)).unwrap().as_str(), "first");
    }

    #[test]
    fn several_online_devices_are_offered_not_guessed() {
        let id = UniqueId::parse("carol").unwrap();
        let mut desk = v("desk", Some("carol"), None, Some(true), Some("2026-11-24T10:00:00Z"));
        desk.device_name = Some("  ".into());
        desk.device_type = Some("desktop".into());
        desk.browser_name = Some("Firefox".into());
        let mut phone = v("phone", Some("carol"), None, Some(true), Some("2026-11-24T10:05:00Z"));
        phone.device_name = Some("Pixel 9".into());
        let list = [
            desk,
            v("old", Some("carol"), None, Some(false), None),
            phone.clone(),
            phone,
            v("twin", Some("CAROL"), None, Some(true), None),
        ];
        let Some(Choice::Several(candidates)) = choose_for_agent(&list, Wanted::Unique(&id)) else {
            panic!("expected a choice")
        };
        let summary: Vec<_> =
            candidates.iter().map(|c| (c.short_id.as_str(), c.device.as_deref(), c.browser.as_deref())).collect();
        assert_eq!(summary, [("phone", Some("Pixel 9"), None), ("desk", Some("desktop"), Some("Firefox"))]);
        // One online device: no question asked.
        assert_eq!(
            choose_for_agent(&list[..2], Wanted::Unique(&id)),
            Some(Choice::One(ShortId::parse("desk").unwrap()))
        );
        assert_eq!(choose_for_agent(&[], Wanted::Unique(&id)), None);
    }

    #[test]
    fn a_lookup_code_shown_by_several_online_visitors_names_nobody() {
        let code = LookupCode::parse("9111").unwrap();
        let victim = v("sVictim", None, Some("9111"), Some(true), Some("2026-11-24T10:00:00Z"));
        let mallory = v("sMallory", None, Some("9111"), Some(true), Some("2026-11-24T10:05:00Z"));
        let gone = v("sGone", None, Some("9111"), Some(false), Some("2026-11-24T10:09:00Z"));
        // Never a chooser, never the more recently seen one.
        assert_eq!(choose_for_agent(&[victim.clone(), mallory], Wanted::Lookup(&code)), Some(Choice::Ambiguous));
        // One online visitor, listed twice or beside an offline one, is named.
        let one = Some(Choice::One(ShortId::parse("sVictim").unwrap()));
        assert_eq!(choose_for_agent(&[victim.clone(), victim.clone()], Wanted::Lookup(&code)), one);
        assert_eq!(choose_for_agent(&[gone.clone(), victim], Wanted::Lookup(&code)), one);
        assert_eq!(choose_for_agent(&[gone], Wanted::Lookup(&code)), None);
    }
}
