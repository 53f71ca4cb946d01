//! `/agent`: find the visitor the agent named, then start a session for that
//! agent. Own IDs may use the optional short-id cache for a head start.

use super::{both, search_with_head_start, Raced};
use crate::core::choose::{choose_for_agent, Candidate, Choice, Wanted};
use crate::core::ids::{ShortId, UniqueId};
use crate::core::query::VisitorRef;
use crate::error::GatewayError;
use crate::outbound::Transport;
use crate::short_id_cache::ShortIdCache;
use crate::upscope::models::{SessionUrl, WatchUrlRequest};
use crate::upscope::{Client, UpstreamError};

/// Results asked of each search: enough to see one person's several devices
/// and the fuzzy neighbours that must be filtered out.
pub const SEARCH_MAX_RESULTS: u32 = 10;

/// Where the agent goes next.
#[derive(Debug)]
pub enum Watch {
    /// A session for the agent on this visitor.
    Session(ShortId, SessionUrl),
    /// The person is online on several devices: the agent picks one.
    Choose(Vec<Candidate>),
}

pub async fn start_watching<T: Transport, C: ShortIdCache>(
    client: &Client<'_, T>,
    cache: &C,
    visitor: &VisitorRef,
    request: &WatchUrlRequest,
) -> Result<Watch, GatewayError> {
    let choice = match visitor {
        VisitorRef::Short(short_id) => Choice::One(short_id.clone()),
        VisitorRef::Lookup(code) => find(client, code.as_str(), Wanted::Lookup(code)).await?,
        VisitorRef::Unique(id) => return watch_own_id(client, cache, id, visitor, request).await,
    };
    match choice {
        Choice::One(short_id) => watch(client, &short_id, visitor, request).await,
        Choice::Several(candidates) => Ok(Watch::Choose(candidates)),
        Choice::Ambiguous => Err(ambiguous(visitor)),
    }
}

/// An own ID: the search always decides, so the answer is the same with the
/// cache as without it. The cache look-up runs alongside the search; a hit
/// that arrives first starts the session for the cached Short ID alongside
/// it too. That session is used when the search picks the same visitor,
/// and otherwise dropped unseen, without waiting for it.
async fn watch_own_id<T: Transport, C: ShortIdCache>(
    client: &Client<'_, T>,
    cache: &C,
    id: &UniqueId,
    visitor: &VisitorRef,
    request: &WatchUrlRequest,
) -> Result<Watch, GatewayError> {
    let query = format!("id:{}", id.as_str());
    let raced = search_with_head_start(
        find(client, &query, Wanted::Unique(id)),
        cache.get(id),
        async |cached: ShortId| client.watch_url(&cached, request).await,
        |found, cached| matches!(found, Ok(Choice::One(short_id)) if short_id == cached),
    )
    .await;
    let Raced { found, hit, late_lookup, head_start } = raced;
    let picked = match &found {
        Ok(Choice::One(short_id)) => Some(short_id.clone()),
        _ => None,
    };
    // A read that lost the race to the search finishes alongside what
    // follows (the cache bounds it), so the entry is written only when it
    // differs from what the search found.
    let update = async {
        let cached = match late_lookup {
            Some(read) => read.await,
            None => hit,
        };
        remember(cache, id, cached.as_ref(), &found).await;
    };
    match (picked, head_start) {
        (Some(short_id), Some(head_start)) => {
            update.await;
            head_start.map(|url| Watch::Session(short_id, url)).map_err(|e| not_found_as(e, visitor))
        }
        // The cache work overlaps the session call instead of delaying it.
        (Some(short_id), None) => both(update, watch(client, &short_id, visitor, request)).await.1,
        (None, _) => {
            update.await;
            match found? {
                Choice::Several(candidates) => Ok(Watch::Choose(candidates)),
                Choice::One(short_id) => watch(client, &short_id, visitor, request).await,
                Choice::Ambiguous => Err(ambiguous(visitor)),
            }
        }
    }
}

/// Keeps the cache in line with what the search found: the one Short ID it
/// picked, or no entry when it found nobody or several devices. A failed
/// search says nothing about the entry.
async fn remember<C: ShortIdCache>(
    cache: &C,
    id: &UniqueId,
    cached: Option<&ShortId>,
    found: &Result<Choice, GatewayError>,
) {
    match found {
        Ok(Choice::One(short_id)) if cached != Some(short_id) => cache.put(id, short_id).await,
        Ok(Choice::Several(_)) | Err(GatewayError::VisitorNotFound(_)) if cached.is_some() => cache.forget(id).await,
        _ => {}
    }
}

async fn watch<T: Transport>(
    client: &Client<'_, T>,
    short_id: &ShortId,
    visitor: &VisitorRef,
    request: &WatchUrlRequest,
) -> Result<Watch, GatewayError> {
    match client.watch_url(short_id, request).await {
        Ok(url) => Ok(Watch::Session(short_id.clone(), url)),
        Err(e) => Err(not_found_as(e, visitor)),
    }
}

async fn find<T: Transport>(client: &Client<'_, T>, query: &str, wanted: Wanted<'_>) -> Result<Choice, GatewayError> {
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

/// Several visitors online show the code the agent gave: asking again for
/// something that tells them apart is the only safe answer.
fn ambiguous(visitor: &VisitorRef) -> GatewayError {
    let code = match visitor {
        VisitorRef::Lookup(code) => code.as_str(),
        _ => "",
    };
    GatewayError::AmbiguousVisitor(format!(
        "More than one visitor online is showing the code {code} right now, so the gateway will not guess which one is your customer. Ask your customer for the ID they have with you, or ask them to reload the page and read out the code it shows then."
    ))
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
            "No visitor online is showing the code {} right now. Ask the visitor to keep the page open and read the code out again.",
            code.as_str()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ids::{LookupCode, ShortId, UniqueId};
    use crate::short_id_cache::cache_key;
    use crate::short_id_cache::testing::MemoryCache;
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
            Watch::Session(_, url) => Ok(url),
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

    fn cached(alice: &str) -> MemoryCache {
        let cache = MemoryCache::default();
        cache.entries.borrow_mut().insert(cache_key(&UniqueId::parse("alice").unwrap()), alice.into());
        cache
    }

    fn watch(fake: &FakeTransport, cache: &MemoryCache, visitor: &VisitorRef) -> Result<Watch, GatewayError> {
        block_on(start_watching(&client(fake), &cache, visitor, &request()))
    }

    const SEARCH_ALICE_S1: (u16, &str) =
        (200, r#"{"visitors":[{"short_id":"s1","unique_id":"alice","is_online":true}]}"#);

    #[test]
    fn cache_hit_starts_the_session_alongside_the_search_and_uses_it_when_the_search_agrees() {
        let fake = FakeTransport::answering([SEARCH_ALICE_S1, WATCH_OK]);
        let cache = cached("s1");
        assert_eq!(run(&fake, &cache, &unique("alice")).unwrap().expose(), "https://watch.example/w/secret");
        assert_eq!(
            fake.calls(),
            ["GET /v1.3/list?search=id%3Aalice&max_results=10", "POST /v1.3/visitors/s1/watch_url"]
        );
        assert_eq!(*cache.log.borrow(), ["get alice"], "an entry that still holds is left alone");
    }

    #[test]
    fn a_cached_short_id_now_worn_by_someone_else_is_never_used() {
        let fake = FakeTransport::answering([
            (
                200,
                r#"{"visitors":[{"short_id":"s1","unique_id":"mallory","is_online":true},{"short_id":"s9","unique_id":"alice","is_online":true}]}"#,
            ),
            (200, r#"{"watch_url":"https://watch.example/w/mallory"}"#),
            (200, r#"{"watch_url":"https://watch.example/w/alice"}"#),
        ]);
        let cache = cached("s1");
        assert_eq!(run(&fake, &cache, &unique("alice")).unwrap().expose(), "https://watch.example/w/alice");
        assert_eq!(
            fake.calls(),
            [
                "GET /v1.3/list?search=id%3Aalice&max_results=10",
                "POST /v1.3/visitors/s1/watch_url",
                "POST /v1.3/visitors/s9/watch_url"
            ]
        );
        assert_eq!(*cache.log.borrow(), ["get alice", "put alice s9"]);
    }

    #[test]
    fn stale_cache_entry_is_replaced_by_what_the_search_finds() {
        let fake = FakeTransport::answering([
            (200, r#"{"visitors":[{"short_id":"s2","unique_id":"alice"}]}"#),
            NOT_FOUND,
            WATCH_OK,
        ]);
        let cache = cached("s1");
        run(&fake, &cache, &unique("alice")).unwrap();
        assert_eq!(
            fake.calls(),
            [
                "GET /v1.3/list?search=id%3Aalice&max_results=10",
                "POST /v1.3/visitors/s1/watch_url",
                "POST /v1.3/visitors/s2/watch_url"
            ]
        );
        assert_eq!(*cache.log.borrow(), ["get alice", "put alice s2"]);
    }

    #[test]
    fn a_hit_still_offers_the_chooser_when_a_second_device_is_online() {
        let fake = FakeTransport::answering([
            (
                200,
                r#"{"visitors":[{"short_id":"s1","unique_id":"alice","is_online":true},{"short_id":"s2","unique_id":"alice","is_online":true}]}"#,
            ),
            WATCH_OK,
        ]);
        let cache = cached("s1");
        let Watch::Choose(candidates) = watch(&fake, &cache, &unique("alice")).unwrap() else {
            panic!("expected a chooser")
        };
        assert_eq!(candidates.len(), 2);
        assert_eq!(*cache.log.borrow(), ["get alice", "forget alice"]);
    }

    #[test]
    fn a_hit_for_someone_no_longer_found_is_not_found_and_forgotten() {
        let fake =
            FakeTransport::answering([(200, r#"{"visitors":[{"short_id":"s1","unique_id":"mallory"}]}"#), WATCH_OK]);
        let cache = cached("s1");
        assert_eq!(watch(&fake, &cache, &unique("alice")).unwrap_err().code(), "visitor_not_found");
        assert_eq!(*cache.log.borrow(), ["get alice", "forget alice"]);
    }

    #[test]
    fn a_hit_whose_search_fails_fails_as_it_would_uncached_and_keeps_the_entry() {
        let fake = FakeTransport::answering([(401, r#"{"status":"error","error":"invalid_api_key"}"#), WATCH_OK]);
        let cache = cached("s1");
        assert_eq!(watch(&fake, &cache, &unique("alice")).unwrap_err().code(), "upstream_unauthorized");
        assert_eq!(*cache.log.borrow(), ["get alice"]);
    }

    #[test]
    fn cached_short_id_with_other_upstream_error_is_not_forgotten() {
        let fake = FakeTransport::answering([SEARCH_ALICE_S1, (503, "")]);
        let cache = cached("s1");
        assert_eq!(run(&fake, &cache, &unique("alice")).unwrap_err().status(), 503);
        assert_eq!(*cache.log.borrow(), ["get alice"]);
    }

    #[test]
    fn with_and_without_the_cache_the_answer_is_the_same() {
        // Each scripted search, answered identically to a cold and a warm request.
        let searches = [
            r#"{"visitors":[{"short_id":"s1","unique_id":"alice","is_online":true}]}"#,
            r#"{"visitors":[{"short_id":"s1","unique_id":"mallory"},{"short_id":"s9","unique_id":"alice"}]}"#,
            r#"{"visitors":[{"short_id":"s1","unique_id":"alice","is_online":true},{"short_id":"s2","unique_id":"alice","is_online":true}]}"#,
            r#"{"visitors":[]}"#,
        ];
        let outcome = |result: Result<Watch, GatewayError>| match result {
            Ok(Watch::Session(short_id, _)) => format!("session {}", short_id.as_str()),
            Ok(Watch::Choose(c)) => {
                format!("choose {}", c.iter().map(|c| c.short_id.as_str()).collect::<Vec<_>>().join(","))
            }
            Err(e) => e.code().to_owned(),
        };
        for search in searches {
            let cold = FakeTransport::answering([(200, search), WATCH_OK]);
            let warm = FakeTransport::answering([(200, search), WATCH_OK, WATCH_OK]);
            let uncached = outcome(watch(&cold, &MemoryCache::default(), &unique("alice")));
            let with_entry = outcome(watch(&warm, &cached("s1"), &unique("alice")));
            assert_eq!(with_entry, uncached, "{search}");
            let session_for = |fake: &FakeTransport| fake.calls().into_iter().rfind(|c| c.starts_with("POST"));
            if uncached.starts_with("session") {
                assert_eq!(session_for(&warm), session_for(&cold), "the same visitor is watched: {search}");
            }
        }
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
                r#"{"visitors":[{"short_id":"other","lookup_code":"1111","unique_id":"4821","is_online":true},{"short_id":"s9","lookup_code":"4821","is_online":true}]}"#,
            ),
            WATCH_OK,
        ]);
        let cache = MemoryCache::default();
        run(&fake, &cache, &VisitorRef::Lookup(LookupCode::parse("4821").unwrap())).unwrap();
        assert_eq!(fake.calls(), ["GET /v1.3/list?search=4821&max_results=10", "POST /v1.3/visitors/s9/watch_url"]);
        assert!(cache.log.borrow().is_empty());
    }

    #[test]
    fn a_lookup_code_two_visitors_show_is_refused_after_the_search_alone() {
        let fake = FakeTransport::answering([(
            200,
            r#"{"visitors":[{"short_id":"sVictim","lookup_code":"9111","is_online":true},{"short_id":"sMallory","lookup_code":9111,"is_online":true}]}"#,
        )]);
        let err =
            run(&fake, &MemoryCache::default(), &VisitorRef::Lookup(LookupCode::parse("9111").unwrap())).unwrap_err();
        assert_eq!((err.status(), err.code()), (409, "lookup_code_ambiguous"));
        assert!(err.message().contains("code 9111"), "{}", err.message());
        assert_eq!(fake.calls(), ["GET /v1.3/list?search=9111&max_results=10"], "no session for anybody");
    }

    #[test]
    fn search_failure_is_an_upstream_error_not_not_found() {
        let fake = FakeTransport::answering([NOT_FOUND]);
        let err =
            run(&fake, &MemoryCache::default(), &VisitorRef::Lookup(LookupCode::parse("4821").unwrap())).unwrap_err();
        assert_eq!((err.status(), err.code()), (502, "upstream_not_found"));
    }
}
