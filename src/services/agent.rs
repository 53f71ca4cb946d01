//! `/agent`: find the visitor the agent named, then start a session for that
//! agent. Own IDs go through the optional short-id cache.

use crate::cache::ShortIdCache;
use crate::core::choose::{choose_for_agent, Candidate, Choice, Wanted};
use crate::core::query::VisitorRef;
use crate::error::GatewayError;
use crate::outbound::Transport;
use crate::upscope::models::{SessionUrl, WatchUrlRequest};
use crate::upscope::{Client, UpstreamError};

/// Results asked of each search: enough to see one person's several devices
/// and the fuzzy neighbours that must be filtered out.
pub const SEARCH_MAX_RESULTS: u32 = 10;

/// Where the agent goes next.
#[derive(Debug)]
pub enum Watch {
    Session(SessionUrl),
    /// The person is online on several devices: the agent picks one.
    Choose(Vec<Candidate>),
}

pub async fn start_watching<T: Transport, C: ShortIdCache>(
    client: &Client<T>,
    cache: &C,
    visitor: &VisitorRef,
    request: &WatchUrlRequest,
) -> Result<Watch, GatewayError> {
    let short_id = match visitor {
        VisitorRef::Short(short_id) => short_id.clone(),
        VisitorRef::Lookup(code) => match find(client, code.as_str(), Wanted::Lookup(code)).await? {
            Choice::One(short_id) => short_id,
            Choice::Several(candidates) => return Ok(Watch::Choose(candidates)),
        },
        VisitorRef::Unique(id) => {
            if let Some(cached) = cache.get(id).await {
                match client.watch_url(&cached, request).await {
                    // A stale entry: the visitor's Short ID changed. Search once more.
                    Err(UpstreamError::NotFound) => cache.forget(id).await,
                    other => return other.map(Watch::Session).map_err(|e| not_found_as(e, visitor)),
                }
            }
            match find(client, &format!("id:{}", id.as_str()), Wanted::Unique(id)).await? {
                Choice::One(short_id) => {
                    cache.put(id, &short_id).await;
                    short_id
                }
                // No single answer to remember.
                Choice::Several(candidates) => return Ok(Watch::Choose(candidates)),
            }
        }
    };
    client.watch_url(&short_id, request).await.map(Watch::Session).map_err(|e| not_found_as(e, visitor))
}

async fn find<T: Transport>(client: &Client<T>, query: &str, wanted: Wanted<'_>) -> Result<Choice, GatewayError> {
    let visitors = client.search(query, SEARCH_MAX_RESULTS).await?;
    choose_for_agent(&visitors, wanted).ok_or_else(|| not_found(wanted_ref(wanted)))
}

fn wanted_ref(wanted: Wanted<'_>) -> VisitorRef {
    match wanted {
        Wanted::Unique(id) => VisitorRef::Unique(id.clone()),
        Wanted::Lookup(code) => VisitorRef::Lookup(code.clone()),
    }
}

/// Upscope's 404 on watch_url means the visitor is unknown.
fn not_found_as(error: UpstreamError, visitor: &VisitorRef) -> GatewayError {
    match error {
        UpstreamError::NotFound => not_found(visitor.clone()),
        other => other.into(),
    }
}

fn not_found(visitor: VisitorRef) -> GatewayError {
    GatewayError::VisitorNotFound(match visitor {
        VisitorRef::Short(id) => format!(
            "Upscope does not know a visitor with the Short ID '{}'. Check the link, or ask the visitor for the four-digit code.",
            id.as_str()
        ),
        VisitorRef::Unique(id) => format!(
            "No visitor with the ID '{}' was found. They may not have opened a page with co-browsing yet; ask them for the four-digit code instead.",
            id.as_str()
        ),
        VisitorRef::Lookup(code) => format!(
            "No visitor is showing the code {} right now. Ask the visitor to read the code out again.",
            code.as_str()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::cache_key;
    use crate::cache::testing::MemoryCache;
    use crate::core::ids::{LookupCode, ShortId, UniqueId};
    use crate::upscope::client::testing::{block_on, client, FakeTransport};
    use crate::upscope::models::{Agent, Branding};

    const WATCH_OK: (u16, &str) = (200, r#"{"watch_url":"https://watch.example/w/secret"}"#);
    const NOT_FOUND: (u16, &str) = (404, r#"{"status":"error","error":"not_found"}"#);

    fn request() -> WatchUrlRequest {
        WatchUrlRequest {
            agent: Agent { id: "a1".into(), name: "Ann".into() },
            branding: Branding::default(),
            permissions: Default::default(),
        }
    }
    fn unique(id: &str) -> VisitorRef {
        VisitorRef::Unique(UniqueId::parse(id).unwrap())
    }
    fn run(fake: &FakeTransport, cache: &MemoryCache, visitor: &VisitorRef) -> Result<SessionUrl, GatewayError> {
        match block_on(start_watching(&client(fake), &cache, visitor, &request()))? {
            Watch::Session(url) => Ok(url),
            Watch::Choose(c) => panic!("unexpected chooser: {c:?}"),
        }
    }

    #[test]
    fn an_own_id_online_on_two_devices_asks_the_agent_and_caches_nothing() {
        let fake = FakeTransport::answering([(
            200,
            r#"{"visitors":[{"short_id":"desk","unique_id":"carol","is_online":true},{"short_id":"phone","unique_id":"carol","is_online":true}]}"#,
        )]);
        let cache = MemoryCache::default();
        let got = block_on(start_watching(&client(&fake), &&cache, &unique("carol"), &request())).unwrap();
        let Watch::Choose(candidates) = got else { panic!("expected a chooser") };
        assert_eq!(candidates.len(), 2);
        assert_eq!(fake.calls().len(), 1, "no session is started before the agent picks");
        assert_eq!(*cache.log.borrow(), ["get carol"]);
    }

    #[test]
    fn short_id_goes_straight_to_watch_url() {
        let fake = FakeTransport::answering([WATCH_OK]);
        let visitor = VisitorRef::Short(ShortId::parse("abc").unwrap());
        assert_eq!(run(&fake, &MemoryCache::default(), &visitor).unwrap().expose(), "https://watch.example/w/secret");
        assert_eq!(fake.calls(), ["POST /v1.3/visitors/abc/watch_url"]);
    }

    #[test]
    fn unknown_short_id_is_visitor_not_found() {
        let fake = FakeTransport::answering([NOT_FOUND]);
        let err = run(&fake, &MemoryCache::default(), &VisitorRef::Short(ShortId::parse("gone").unwrap())).unwrap_err();
        assert_eq!((err.status(), err.code()), (404, "visitor_not_found"));
    }

    #[test]
    fn own_id_searches_exactly_then_caches() {
        let fake = FakeTransport::answering([
            (
                200,
                r#"{"visitors":[{"short_id":"fuzzy","unique_id":"alice2","is_online":true},{"short_id":"s1","unique_id":"alice"}]}"#,
            ),
            WATCH_OK,
        ]);
        let cache = MemoryCache::default();
        run(&fake, &cache, &unique("alice")).unwrap();
        assert_eq!(
            fake.calls(),
            ["GET /v1.3/list?search=id%3Aalice&max_results=10", "POST /v1.3/visitors/s1/watch_url"]
        );
        assert_eq!(*cache.log.borrow(), ["get alice", "put alice s1"]);
    }

    #[test]
    fn cache_hit_skips_the_search() {
        let fake = FakeTransport::answering([WATCH_OK]);
        let cache = MemoryCache::default();
        cache.entries.borrow_mut().insert(cache_key(&UniqueId::parse("alice").unwrap()), "s1".into());
        run(&fake, &cache, &unique("alice")).unwrap();
        assert_eq!(fake.calls(), ["POST /v1.3/visitors/s1/watch_url"]);
    }

    #[test]
    fn stale_cache_entry_is_forgotten_and_searched_again() {
        let fake = FakeTransport::answering([
            NOT_FOUND,
            (200, r#"{"visitors":[{"short_id":"s2","unique_id":"alice"}]}"#),
            WATCH_OK,
        ]);
        let cache = MemoryCache::default();
        cache.entries.borrow_mut().insert(cache_key(&UniqueId::parse("alice").unwrap()), "s1".into());
        run(&fake, &cache, &unique("alice")).unwrap();
        assert_eq!(
            fake.calls(),
            [
                "POST /v1.3/visitors/s1/watch_url",
                "GET /v1.3/list?search=id%3Aalice&max_results=10",
                "POST /v1.3/visitors/s2/watch_url"
            ]
        );
        assert_eq!(*cache.log.borrow(), ["get alice", "forget alice", "put alice s2"]);
    }

    #[test]
    fn cached_short_id_with_other_upstream_error_is_not_forgotten() {
        let fake = FakeTransport::answering([(503, "")]);
        let cache = MemoryCache::default();
        cache.entries.borrow_mut().insert(cache_key(&UniqueId::parse("alice").unwrap()), "s1".into());
        assert_eq!(run(&fake, &cache, &unique("alice")).unwrap_err().status(), 503);
        assert_eq!(*cache.log.borrow(), ["get alice"]);
    }

    #[test]
    fn no_exact_match_is_not_found_and_not_cached() {
        let fake = FakeTransport::answering([(200, r#"{"visitors":[{"short_id":"x","unique_id":"alicia"}]}"#)]);
        let cache = MemoryCache::default();
        let err = run(&fake, &cache, &unique("alice")).unwrap_err();
        assert_eq!(err.code(), "visitor_not_found");
        assert!(err.message().contains("'alice'"));
        assert_eq!(*cache.log.borrow(), ["get alice"]);
    }

    #[test]
    fn lookup_code_searches_the_code_and_is_never_cached() {
        let fake = FakeTransport::answering([
            (
                200,
                r#"{"visitors":[{"short_id":"other","lookup_code":"1111","unique_id":"4821"},{"short_id":"s9","lookup_code":"4821"}]}"#,
            ),
            WATCH_OK,
        ]);
        let cache = MemoryCache::default();
        run(&fake, &cache, &VisitorRef::Lookup(LookupCode::parse("4821").unwrap())).unwrap();
        assert_eq!(fake.calls(), ["GET /v1.3/list?search=4821&max_results=10", "POST /v1.3/visitors/s9/watch_url"]);
        assert!(cache.log.borrow().is_empty());
    }

    #[test]
    fn search_failure_is_an_upstream_error_not_not_found() {
        let fake = FakeTransport::answering([NOT_FOUND]);
        let err =
            run(&fake, &MemoryCache::default(), &VisitorRef::Lookup(LookupCode::parse("4821").unwrap())).unwrap_err();
        assert_eq!((err.status(), err.code()), (502, "upstream_not_found"));
    }
}
