//! Property tests of the pure parsers, validators and canonicalizers, with a
//! fixed budget (`CASES` inputs per property) so `make test` stays bounded.

use proptest::prelude::*;
use proptest::test_runner::Config;
use url::Url;

use crate::auth::jwt;
use crate::core::base64url;
use crate::core::canonical::{canonical_string, percent_encode};
use crate::core::choose::{choose_visitor, Wanted};
use crate::core::client_ip::rate_limit_key;
use crate::core::client_ip::tests::std_rate_limit_key;
use crate::core::fold::fold;
use crate::core::framing::FrameAncestors;
use crate::core::ids::{in_namespace, LookupCode, ShortId, UniqueId, VIEWER_AGENT_PREFIX};
use crate::core::page_url::{choose_page, with_unique_id, UrlPrefix, UNIQUE_ID_PARAM};
use crate::core::query::{visitor_ref, Params, VisitorIdKind};
use crate::upscope::models::{read_search, read_watch_url, Visitor};

const CASES: u32 = 512;

fn config() -> Config {
    Config { cases: CASES, failure_persistence: None, ..Config::default() }
}

/// Characters an ID must never contain: they could add search terms, path
/// segments, a query or a fragment, or hide as look-alikes.
fn dangerous(c: char) -> bool {
    c.is_whitespace() || c.is_control() || matches!(c, '/' | '\\' | '?' | '#' | '%' | '*' | '"' | '\'') || !c.is_ascii()
}

/// Query strings built from fragments hostile input tends to contain.
fn query_strings() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("visitorid=".to_owned()),
        Just("uniqueid=".to_owned()),
        Just("lookup=".to_owned()),
        Just("&".to_owned()),
        Just("=".to_owned()),
        Just("+".to_owned()),
        Just("%".to_owned()),
        Just("%2F".to_owned()),
        Just("%00".to_owned()),
        Just("%C0%AF".to_owned()),
        Just("%EF%BC%91".to_owned()),
        "[a-zA-Z0-9:@._~-]{0,8}",
        any::<String>(),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|pieces| pieces.concat())
}

/// `word` with each character in one of the spellings a lenient reader
/// takes for it (case, full-width, a styled letter, `%XX`, `%25XX`, `%uXXXX`),
/// invisible characters in between; `picks` chooses, character by character.
fn disguised(word: &str, picks: &[(u8, bool)]) -> String {
    let mut out = String::new();
    for (c, &(how, hidden)) in word.chars().zip(picks.iter().cycle()) {
        let code = u32::from(c);
        let styled = |base: u32| char::from_u32(base + code - u32::from('a')).map(String::from);
        let spelling = match (how % 8, c.is_ascii_lowercase()) {
            (1, _) => c.to_ascii_uppercase().to_string(),
            (2, _) => char::from_u32(code + 0xFEE0).unwrap().to_string(),
            (3, true) => styled(0x1D41A).unwrap(), // mathematical bold small
            (4, _) => format!("%{code:02X}"),
            (5, _) => format!("%25{code:02X}"),
            (6, _) => format!("%u{code:04X}"),
            (7, true) => styled(0x24D0).unwrap(), // circled small
            _ => c.to_string(),
        };
        out.push_str(&spelling);
        if hidden {
            out.push('\u{AD}');
        }
    }
    out
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn upscope_in_any_disguise_never_reaches_a_page(
        picks in prop::collection::vec((any::<u8>(), any::<bool>()), 1..16),
        before in "[a-z0-9_=&]{0,8}",
        in_fragment in any::<bool>(),
    ) {
        let default = Url::parse("https://shop.example.com/account").unwrap();
        let allowed = [UrlPrefix::parse("https://shop.example.com/help").unwrap()];
        let word = disguised("upscope", &picks);
        let page = format!("https://shop.example.com/help{}{before}{word}=victim", if in_fragment { '#' } else { '?' });
        let refused = choose_page(&default, Some(&page), &allowed);
        prop_assert_eq!(refused.map_err(|e| e.code), Err("url_not_allowed"), "{}", page);
    }

    #[test]
    fn pages_that_never_spell_upscope_are_not_refused_for_it(query in "[a-z0-9_=&.~-]{0,40}", fragment in "[a-zA-Z0-9/_-]{0,20}") {
        prop_assume!(!fold(&query).contains("upscope") && !fold(&fragment).contains("upscope"));
        let default = Url::parse("https://shop.example.com/account").unwrap();
        let allowed = [UrlPrefix::parse("https://shop.example.com/help").unwrap()];
        let page = format!("https://shop.example.com/help/faq?{query}#{fragment}");
        prop_assert!(choose_page(&default, Some(&page), &allowed).is_ok(), "{}", page);
    }

    #[test]
    fn a_staff_id_never_reads_as_a_viewer(
        picks in prop::collection::vec((0u8..3, any::<bool>()), 1..8),
        rest in "[A-Za-z0-9:_-]{0,12}",
        lead in "[ \t\u{3000}\u{200B}]{0,2}",
    ) {
        // Case, full-width and invisible characters only: Upscope reads ids as text, not as URLs.
        let prefix = disguised("viewer", &picks) + if picks[0].1 { "\u{FF1A}" } else { ":" };
        prop_assert!(in_namespace(&format!("{lead}{prefix}{rest}"), VIEWER_AGENT_PREFIX), "{lead}{prefix}{rest}");
        prop_assert_eq!(in_namespace(&rest, VIEWER_AGENT_PREFIX), rest.to_ascii_lowercase().starts_with("viewer:"));
    }

    #[test]
    fn rate_limit_keys_read_addresses_as_std_does(
        text in prop_oneof![
            "[0-9a-fA-F:.]{0,45}",
            "[0-9.]{0,16}",
            any::<std::net::Ipv4Addr>().prop_map(|a| a.to_string()),
            any::<std::net::Ipv6Addr>().prop_map(|a| a.to_string()),
            any::<[u16; 8]>().prop_map(|s| s.iter().map(|p| format!("{p:x}")).collect::<Vec<_>>().join(":")),
            any::<std::net::Ipv4Addr>().prop_map(|a| format!("::ffff:{a}")),
        ]
    ) {
        prop_assert_eq!(rate_limit_key(&text), std_rate_limit_key(&text));
    }

    #[test]
    fn base64url_round_trips(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        prop_assert_eq!(base64url::decode(&base64url::encode(&bytes)), Some(bytes));
    }

    #[test]
    fn base64url_decoding_is_canonical(text in "[A-Za-z0-9_=+/ -]{0,40}") {
        // Whatever decodes has exactly one spelling: the one it came from.
        if let Some(bytes) = base64url::decode(&text) {
            prop_assert_eq!(base64url::encode(&bytes), text);
        }
    }

    #[test]
    fn percent_encoding_is_rfc3986_and_reversible(text in any::<String>()) {
        let encoded = percent_encode(&text);
        let mut rest = encoded.as_bytes();
        while let Some((&b, tail)) = rest.split_first() {
            if b == b'%' {
                prop_assert!(tail.len() >= 2 && tail[..2].iter().all(|h| h.is_ascii_digit() || (b'A'..=b'F').contains(h)));
                rest = &tail[2..];
            } else {
                prop_assert!(b.is_ascii_alphanumeric() || b"-._~".contains(&b), "{} in {}", b as char, encoded);
                rest = tail;
            }
        }
        let decoded = url::form_urlencoded::parse(format!("x={encoded}").as_bytes()).next().unwrap().1.into_owned();
        prop_assert_eq!(decoded, text);
    }

    #[test]
    fn canonical_string_ignores_order_and_sig(
        pairs in prop::collection::btree_map("[a-z_%é]{1,6}", any::<String>(), 0..6),
        sig in any::<String>(),
        seed in any::<u64>(),
    ) {
        let mut list: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let sorted = canonical_string(list.clone());
        // A deterministic shuffle driven by the seed.
        let n = list.len();
        for i in (1..n).rev() {
            list.swap(i, (seed.wrapping_mul(i as u64 + 7) % (i as u64 + 1)) as usize);
        }
        list.push(("sig", sig.as_str()));
        prop_assert_eq!(canonical_string(list), sorted);
    }

    #[test]
    fn query_parsing_never_panics_and_never_lets_danger_into_an_id(query in query_strings()) {
        if let Ok(params) = Params::parse(Some(&query)) {
            for kind in [VisitorIdKind::Short, VisitorIdKind::Unique] {
                let _ = visitor_ref(&params, kind);
            }
            for (_, value) in params.iter() {
                if let Ok(id) = UniqueId::parse(value) {
                    prop_assert!(!id.as_str().chars().any(dangerous), "{:?}", id);
                    prop_assert!((1..=128).contains(&id.as_str().len()));
                }
                if let Ok(id) = ShortId::parse(value) {
                    prop_assert!(id.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
                }
                if let Ok(code) = LookupCode::parse(value) {
                    prop_assert!(code.as_str().len() == 4 && code.as_str().bytes().all(|b| b.is_ascii_digit()));
                }
            }
        }
    }

    #[test]
    fn the_unique_id_travels_exactly_once_and_the_page_keeps_the_rest(
        id in "[A-Za-z0-9._@+:=~-]{1,40}",
        query in prop::option::of("[a-z]{1,5}=[a-z0-9%+]{0,6}(&[a-z]{1,5}=[a-z0-9]{0,4}){0,3}"),
        fragment in prop::option::of("[a-z0-9]{0,8}"),
    ) {
        let id = UniqueId::parse(&id).unwrap();
        let mut page = Url::parse("https://shop.example.com/account").unwrap();
        page.set_query(query.as_deref());
        page.set_fragment(fragment.as_deref());
        let out = with_unique_id(&page, Some(&id));
        let ours: Vec<String> =
            out.query_pairs().filter(|(k, _)| k == UNIQUE_ID_PARAM).map(|(_, v)| v.into_owned()).collect();
        prop_assert_eq!(ours, vec![id.as_str().to_owned()]);
        let others = |u: &Url| -> Vec<(String, String)> {
            u.query_pairs().filter(|(k, _)| k != UNIQUE_ID_PARAM).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
        };
        prop_assert_eq!(others(&out), others(&page));
        prop_assert_eq!(out.fragment(), page.fragment());
        prop_assert_eq!(out.path(), page.path());
    }

    #[test]
    fn the_chosen_visitor_always_matches_exactly(
        visitors in prop::collection::vec(
            (prop::option::of("[a-z]{1,3}"), prop::option::of(prop_oneof![Just("ann"), Just("ANN"), Just("ann "), Just("anna")]), any::<Option<bool>>()),
            0..8,
        ),
    ) {
        let list: Vec<Visitor> = visitors
            .iter()
            .map(|(short, unique, online)| Visitor {
                short_id: short.clone(),
                unique_id: unique.map(str::to_owned),
                is_online: *online,
                ..Visitor::default()
            })
            .collect();
        let wanted = UniqueId::parse("ann").unwrap();
        if let Some(chosen) = choose_visitor(&list, Wanted::Unique(&wanted)) {
            prop_assert!(list.iter().any(|v| v.short_id.as_deref() == Some(chosen.as_str()) && v.unique_id.as_deref() == Some("ann")));
        } else {
            prop_assert!(!list.iter().any(|v| v.unique_id.as_deref() == Some("ann") && v.short_id.is_some()));
        }
    }

    #[test]
    fn untrusted_text_never_panics_the_readers(text in any::<String>(), parts in prop::collection::vec("[A-Za-z0-9_-]{0,30}", 0..5)) {
        let _ = jwt::parse(&text);
        let _ = jwt::parse(&parts.join("."));
        let _ = read_search(&text);
        let _ = read_watch_url(&text);
        let _ = ShortId::parse(&text);
        let _ = LookupCode::parse(&text);
        let _ = Params::parse(Some(&text));
    }

    #[test]
    fn a_framing_policy_is_one_header_line(entries in prop::collection::vec(any::<String>(), 0..4)) {
        if let Ok(policy) = FrameAncestors::parse(&entries) {
            let header = policy.content_security_policy();
            prop_assert!(!header.chars().any(|c| c.is_control()));
            prop_assert_eq!(header.matches(';').count(), 4);
        }
    }
}
