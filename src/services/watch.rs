//! What `/agent` and `/view` share once they know who is watching: the
//! permissions a link may narrow, and the session itself, or the chooser
//! when the person is online on several devices.

use super::agent::{start_watching, Watch};
use crate::auth::PERMISSIONS_PARAM;
use crate::core::choose::Candidate;
use crate::core::permissions::{self, Grant};
use crate::core::query::{encode, named_by, Params, VisitorRef};
use crate::error::GatewayError;
use crate::observe::{Audit, Watcher};
use crate::outbound::Transport;
use crate::short_id_cache::ShortIdCache;
use crate::upscope::models::{SessionUrl, WatchUrlRequest};
use crate::upscope::Client;

/// A watcher's request for a session, once verified.
pub struct WatchRequest<'a> {
    /// The person to watch.
    pub visitor: &'a VisitorRef,
    /// What Upscope is asked: the agent it names, branding, permissions.
    pub session: WatchUrlRequest,
    /// Who the audit says was handed the session.
    pub watcher: Watcher,
    /// The link's parameters: how it named the visitor goes in the audit.
    pub link: &'a Params,
}

/// Where the watcher goes next.
#[derive(Debug)]
pub enum Watched {
    /// Sent to this session, recorded as this audit.
    Session(SessionUrl, Audit),
    /// The person is online on several devices: each one, with the query
    /// of its link back to the same route.
    Choose(Vec<(Candidate, String)>),
}

/// Starts a session for `request`, or, when the person is online on several
/// devices, lists them with the link `link_to` builds for each one's Short ID.
pub async fn watch_or_choose<T: Transport, C: ShortIdCache>(
    client: &Client<'_, T>,
    cache: &C,
    request: WatchRequest<'_>,
    link_to: impl AsyncFn(&str) -> Result<Vec<(String, String)>, GatewayError>,
) -> Result<Watched, GatewayError> {
    let WatchRequest { visitor, session, watcher, link } = request;
    match start_watching(client, cache, visitor, &session).await? {
        Watch::Session(short_id, url) => {
            let audit = Audit { watcher, short_id: short_id.as_str().to_owned(), named_by: named_by(link, visitor) };
            Ok(Watched::Session(url, audit))
        }
        Watch::Choose(candidates) => {
            let mut links = Vec::with_capacity(candidates.len());
            for candidate in candidates {
                let carry = link_to(candidate.short_id.as_str()).await?;
                links.push((candidate, encode(&carry)));
            }
            Ok(Watched::Choose(links))
        }
    }
}

/// The configured grant, narrowed by the link's `permissions=` when it has one.
pub fn narrowed(configured: &Grant, link: &Params) -> Result<Grant, GatewayError> {
    let Some(requested) = link.get(PERMISSIONS_PARAM) else {
        return Ok(configured.clone());
    };
    let refuse = |why: String| GatewayError::bad_request("invalid_parameter", format!("{PERMISSIONS_PARAM}: {why}"));
    Ok(permissions::narrow(configured, &permissions::parse_list(requested).map_err(refuse)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::query::VisitorIdKind;
    use crate::short_id_cache::testing::MemoryCache;
    use crate::upscope::client::testing::{block_on, client, FakeTransport};
    use crate::upscope::models::{Agent, Branding};

    const WATCH_OK: (u16, &str) = (200, r#"{"watch_url":"https://watch.example/w/secret"}"#);
    const CAROL_ON_TWO_DEVICES: (u16, &str) = (
        200,
        r#"{"visitors":[{"short_id":"desk","unique_id":"carol","is_online":true},{"short_id":"phone","unique_id":"carol","is_online":true}]}"#,
    );

    fn session() -> WatchUrlRequest {
        WatchUrlRequest {
            agent: Agent { id: "a1".into(), name: "Ann".into() },
            branding: Branding::default(),
            permissions: Grant::new(),
        }
    }

    fn params(query: &str) -> Params {
        Params::parse(Some(query)).unwrap()
    }

    fn watch(fake: &FakeTransport, link: &Params, link_to: &str) -> Result<Watched, GatewayError> {
        let visitor = crate::core::query::visitor_ref(link, VisitorIdKind::Short).unwrap().unwrap();
        let request =
            WatchRequest { visitor: &visitor, session: session(), watcher: Watcher::Agent("a1".into()), link };
        let refuse = link_to == "refuse";
        let link_to = async |short_id: &str| {
            if refuse {
                return Err(GatewayError::bad_request("link_refused", "no link"));
            }
            Ok(vec![("shortid".to_owned(), short_id.to_owned()), ("agent_id".to_owned(), "a1".to_owned())])
        };
        block_on(watch_or_choose(&client(fake), &&MemoryCache::default(), request, link_to))
    }

    #[test]
    fn a_session_comes_back_with_its_audit() {
        let fake = FakeTransport::answering([WATCH_OK]);
        let Watched::Session(url, audit) = watch(&fake, &params("visitorid=sBob&agent_id=a1"), "").unwrap() else {
            panic!("expected a session")
        };
        assert_eq!(url.expose(), "https://watch.example/w/secret");
        assert_eq!(audit, Audit { watcher: Watcher::Agent("a1".into()), short_id: "sBob".into(), named_by: "short" });
        let chosen = FakeTransport::answering([WATCH_OK]);
        let Watched::Session(_, audit) = watch(&chosen, &params("shortid=phone"), "").unwrap() else {
            panic!("expected a session")
        };
        assert_eq!(audit.named_by, "chooser", "a device picked in the chooser is audited as such");
    }

    #[test]
    fn several_devices_get_one_link_each_and_no_session() {
        let fake = FakeTransport::answering([CAROL_ON_TWO_DEVICES]);
        let Watched::Choose(links) = watch(&fake, &params("uniqueid=carol"), "").unwrap() else {
            panic!("expected the chooser")
        };
        let queries: Vec<(&str, &str)> = links.iter().map(|(c, q)| (c.short_id.as_str(), q.as_str())).collect();
        assert_eq!(queries, [("desk", "shortid=desk&agent_id=a1"), ("phone", "shortid=phone&agent_id=a1")]);
        assert_eq!(fake.calls().len(), 1, "the search only");
        let refused = FakeTransport::answering([CAROL_ON_TWO_DEVICES]);
        assert_eq!(watch(&refused, &params("uniqueid=carol"), "refuse").unwrap_err().code(), "link_refused");
    }

    #[test]
    fn a_link_narrows_the_configured_grant_and_never_widens_it() {
        let configured = permissions::exactly(&["scroll", "draw"]);
        assert_eq!(narrowed(&configured, &params("visitorid=s1")).unwrap(), configured);
        let narrow = narrowed(&configured, &params("permissions=scroll,console")).unwrap();
        assert_eq!(narrow, permissions::exactly(&["scroll"]));
        let err = narrowed(&configured, &params("permissions=fly")).unwrap_err();
        assert_eq!((err.code(), err.message().starts_with("permissions: ")), ("invalid_parameter", true));
    }
}
