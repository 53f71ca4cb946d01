//! Query-string parsing that refuses ambiguity: a repeated parameter is an
//! error (never first-wins), and the visitor is named by exactly one parameter.

use super::ids::{LookupCode, ShortId, UniqueId};
use super::InvalidInput;

/// Longest query string the gateway reads; anything longer is refused unread.
pub const MAX_QUERY_LEN: usize = 4096;

/// Decoded query parameters, each present at most once, ordered by name
/// (a sorted list: a query holds a handful, and a `BTreeMap` of its own
/// would cost the wasm several kilobytes).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Result<Self, InvalidInput> {
        let query = query.unwrap_or("");
        if query.len() > MAX_QUERY_LEN {
            return Err(InvalidInput::new(
                "query_too_long",
                format!("The link's query string is longer than {MAX_QUERY_LEN} characters."),
            ));
        }
        let mut params: Vec<(String, String)> = Vec::new();
        for (name, value) in url::form_urlencoded::parse(query.as_bytes()) {
            if name.is_empty() && value.is_empty() {
                continue;
            }
            match params.binary_search_by(|(n, _)| n.as_str().cmp(&name)) {
                Ok(_) => {
                    return Err(InvalidInput::new(
                        "repeated_parameter",
                        format!("The parameter '{}' appears more than once; give it once.", echoable_name(&name)),
                    ))
                }
                Err(at) => params.insert(at, (name.into_owned(), value.into_owned())),
            }
        }
        Ok(Self(params))
    }

    /// Every parameter, decoded, ordered by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// These parameters without the named ones.
    pub fn without(&self, names: &[&str]) -> Self {
        let mut kept = self.clone();
        kept.0.retain(|(name, _)| !names.contains(&name.as_str()));
        kept
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        let at = self.0.binary_search_by(|(n, _)| n.as_str().cmp(name)).ok()?;
        Some(self.0[at].1.as_str())
    }

    pub fn require(&self, name: &str) -> Result<&str, InvalidInput> {
        self.get(name).ok_or_else(|| {
            InvalidInput::new("missing_parameter", format!("The link is missing the '{name}' parameter."))
        })
    }
}

/// A query string from name/value pairs, form-encoded (the inverse of `Params::parse`).
pub fn encode(pairs: &[(String, String)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

/// A parameter name as it may be echoed back: short and without control characters.
pub fn echoable_name(name: &str) -> String {
    let clean: String = name.chars().filter(|c| !c.is_control()).take(40).collect();
    if clean.len() < name.len() {
        format!("{clean}…")
    } else {
        clean
    }
}

/// How the agent names the visitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VisitorRef {
    Short(ShortId),
    Unique(UniqueId),
    Lookup(LookupCode),
}

/// What `visitorid=` means for this deployment (setting `VISITOR_ID_KIND`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VisitorIdKind {
    /// Upscope's Short ID, as in Upscope's integration guide.
    #[default]
    Short,
    /// The company's own ID, for links that already carry it as `visitorid`.
    Unique,
}

/// `shortid` always means Upscope's Short ID, whatever `VISITOR_ID_KIND`
/// says; the chooser's links use it.
pub const VISITOR_PARAMS: [&str; 4] = ["visitorid", "uniqueid", "lookup", "shortid"];

/// How the agent named the visitor, for the audit record: `short`, `unique`,
/// `lookup`, or `chooser` (the device chooser's links carry `shortid`).
pub fn named_by(params: &Params, visitor: &VisitorRef) -> &'static str {
    match visitor {
        VisitorRef::Short(_) if params.get("shortid").is_some() => "chooser",
        VisitorRef::Short(_) => "short",
        VisitorRef::Unique(_) => "unique",
        VisitorRef::Lookup(_) => "lookup",
    }
}

/// Reads the one parameter that names the visitor; `Ok(None)` when none is given.
pub fn visitor_ref(params: &Params, kind: VisitorIdKind) -> Result<Option<VisitorRef>, InvalidInput> {
    let given: Vec<(&str, &str)> =
        VISITOR_PARAMS.iter().filter_map(|&name| params.get(name).map(|v| (name, v))).collect();
    let (name, value) = match given.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        _ => {
            return Err(InvalidInput::new(
                "conflicting_parameters",
                "Name the visitor with exactly one of visitorid, uniqueid or lookup.",
            ))
        }
    };
    let invalid = |e: super::ids::InvalidId| InvalidInput::new("invalid_parameter", format!("{name}: {e}"));
    let parsed = match (name, kind) {
        ("visitorid", VisitorIdKind::Short) | ("shortid", _) => {
            VisitorRef::Short(ShortId::parse(value).map_err(invalid)?)
        }
        ("visitorid", VisitorIdKind::Unique) | ("uniqueid", _) => {
            VisitorRef::Unique(UniqueId::parse(value).map_err(invalid)?)
        }
        _ => VisitorRef::Lookup(LookupCode::parse(value).map_err(invalid)?),
    };
    Ok(Some(parsed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Params {
        Params::parse(Some(q)).unwrap()
    }

    #[test]
    fn decodes_once() {
        let p = params("uniqueid=alice%40example.com&agent_name=Ann+Lee");
        assert_eq!(p.get("uniqueid"), Some("alice@example.com"));
        assert_eq!(p.get("agent_name"), Some("Ann Lee"));
        assert_eq!(params("x=%252F").get("x"), Some("%2F"));
    }

    #[test]
    fn repeated_parameters_are_refused_even_when_equal() {
        for q in ["lookup=1234&lookup=1234", "a=1&b=2&a=3", "uniqueid=a&uniqueid"] {
            let err = Params::parse(Some(q)).unwrap_err();
            assert_eq!(err.code, "repeated_parameter", "{q}");
        }
    }

    #[test]
    fn overlong_query_is_refused() {
        let q = format!("x={}", "a".repeat(MAX_QUERY_LEN));
        assert_eq!(Params::parse(Some(&q)).unwrap_err().code, "query_too_long");
        assert!(Params::parse(Some(&q[..MAX_QUERY_LEN])).is_ok());
    }

    #[test]
    fn missing_parameter_names_it() {
        let err = params("").require("agent_id").unwrap_err();
        assert_eq!(err.code, "missing_parameter");
        assert!(err.message.contains("agent_id"));
    }

    /// Issue 28 (cargo-mutants): a repeated parameter is named, as it came
    /// when it is short and clean, else cut to 40 characters with an ellipsis.
    #[test]
    fn a_repeated_parameter_is_named_short_and_clean() {
        let err = Params::parse(Some("agent_id=a&agent_id=b")).unwrap_err();
        assert_eq!(err.message, "The parameter 'agent_id' appears more than once; give it once.");
        assert_eq!(echoable_name(&"n".repeat(40)), "n".repeat(40));
        assert_eq!(echoable_name(&"n".repeat(41)), format!("{}…", "n".repeat(40)));
        assert_eq!(echoable_name("a\u{7}b"), "ab…");
        assert_eq!(echoable_name(""), "");
    }

    #[test]
    fn exactly_one_visitor_parameter() {
        let k = VisitorIdKind::Short;
        assert_eq!(visitor_ref(&params(""), k).unwrap(), None);
        assert_eq!(
            visitor_ref(&params("visitorid=abc123"), k).unwrap(),
            Some(VisitorRef::Short(ShortId::parse("abc123").unwrap()))
        );
        assert_eq!(
            visitor_ref(&params("uniqueid=crm:7"), k).unwrap(),
            Some(VisitorRef::Unique(UniqueId::parse("crm:7").unwrap()))
        );
        assert_eq!(
            visitor_ref(&params("lookup=0042"), k).unwrap(),
            Some(VisitorRef::Lookup(LookupCode::parse("0042").unwrap()))
        );
        for q in ["visitorid=a&uniqueid=b", "lookup=1234&uniqueid=b", "visitorid=a&lookup=1234&uniqueid=c"] {
            assert_eq!(visitor_ref(&params(q), k).unwrap_err().code, "conflicting_parameters");
        }
    }

    #[test]
    fn query_strings_are_form_encoded() {
        let q = encode(&[("agent_name".into(), "Ann Lee&x=1".into()), ("shortid".into(), "s1".into())]);
        assert_eq!(q, "agent_name=Ann+Lee%26x%3D1&shortid=s1");
        assert_eq!(Params::parse(Some(&q)).unwrap().get("agent_name"), Some("Ann Lee&x=1"));
    }

    #[test]
    fn named_by_says_how_the_visitor_was_named() {
        let named = |q: &str, kind| {
            let p = params(q);
            named_by(&p, &visitor_ref(&p, kind).unwrap().unwrap())
        };
        assert_eq!(named("visitorid=s1", VisitorIdKind::Short), "short");
        assert_eq!(named("visitorid=alice", VisitorIdKind::Unique), "unique");
        assert_eq!(named("uniqueid=alice", VisitorIdKind::Short), "unique");
        assert_eq!(named("lookup=4821", VisitorIdKind::Short), "lookup");
        assert_eq!(named("shortid=s1", VisitorIdKind::Unique), "chooser");
    }

    #[test]
    fn shortid_is_always_a_short_id() {
        for kind in [VisitorIdKind::Short, VisitorIdKind::Unique] {
            let got = visitor_ref(&params("shortid=sCarolDesk"), kind).unwrap();
            assert_eq!(got, Some(VisitorRef::Short(ShortId::parse("sCarolDesk").unwrap())));
        }
        assert_eq!(
            visitor_ref(&params("shortid=a&lookup=1234"), VisitorIdKind::Short).unwrap_err().code,
            "conflicting_parameters"
        );
        assert_eq!(params("a=1&b=2&c=3").without(&["b", "x"]), params("a=1&c=3"));
    }

    #[test]
    fn visitor_id_kind_unique_reads_visitorid_as_own_id() {
        let got = visitor_ref(&params("visitorid=alice@example.com"), VisitorIdKind::Unique).unwrap();
        assert_eq!(got, Some(VisitorRef::Unique(UniqueId::parse("alice@example.com").unwrap())));
        // The same value is not a valid Short ID.
        let err = visitor_ref(&params("visitorid=alice@example.com"), VisitorIdKind::Short).unwrap_err();
        assert_eq!(err.code, "invalid_parameter");
        assert!(err.message.starts_with("visitorid: visitor Short ID is not valid"));
    }

    #[test]
    fn invalid_values_say_what_is_allowed() {
        let err = visitor_ref(&params("lookup=12a4"), VisitorIdKind::Short).unwrap_err();
        assert_eq!(err.message, "lookup: lookup code is not valid: enter the four digits (0-9) the visitor reads out");
        let err = visitor_ref(&params("uniqueid=a%20id:b"), VisitorIdKind::Short).unwrap_err();
        assert_eq!(err.code, "invalid_parameter");
    }
}
