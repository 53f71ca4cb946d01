//! `/agent`: a verified agent (Access, signed link, or `none` locally) names
//! a visitor, or gets the console to type one in; the shared tail
//! (`watch_or_choose`) also serves `/view`.

use super::{Ctx, Outcome};
use crate::auth::{Credentials, PERMISSIONS_PARAM};
use crate::core::canonical::constant_time_eq;
use crate::core::launch::{
    confirmed_by_post, launch_by_get, launch_by_post, Launch, LaunchOrigins, Provenance, LAUNCH_PARAM,
};
use crate::core::permissions::{self, Grant};
use crate::core::query::{encode, naming, visitor_ref, Params, VisitorRef};
use crate::edge::fetch::FetchTransport;
use crate::edge::kv::{kv_namespace, KvShortIdCache};
use crate::edge::rate_limit::WhenUnavailable;
use crate::edge::request::Header;
use crate::error::GatewayError;
use crate::observe::{Audit, Watcher};
use crate::pages;
use crate::services::agent::{start_watching, Watch};
use crate::settings::{AgentAuth, AgentSettings, AGENT_RATE_LIMITER_BINDING, SHORT_ID_CACHE_BINDING};
use crate::upscope::models::WatchUrlRequest;
use crate::upscope::Client;

pub async fn handle(ctx: &Ctx<'_>) -> Result<Outcome, GatewayError> {
    // A POST is the launch confirmation's button: from the gateway's own page, or nothing.
    if ctx.req.method == "POST" && !confirmed_by_post(&provenance(ctx, false), &ctx.req.url) {
        return Err(GatewayError::CrossSiteRequest);
    }
    let auth = AgentAuth::load(ctx.env)?;
    let settings = AgentSettings::load(ctx.env)?;
    let client = ctx.upscope()?;
    // Identity first: a stranger learns nothing about the link's other parameters.
    let access_token = ctx.req.header(Header::AccessJwt);
    let credentials = Credentials { params: &ctx.params, access_token };
    let verifier = ctx.verifier();
    let agent = verifier.identify_agent(&auth, &credentials).await?;
    let permissions = narrowed(&settings.permissions, &ctx.params)?;
    let visitor = visitor_ref(&ctx.params, settings.watch.visitor_id_kind)?;
    // Access mode: the token the gateway's own pages carry for this sign-in (`core::launch`).
    let launch_token = match (&auth, access_token) {
        (AgentAuth::Access(_), Some(token)) => Some(verifier.launch_token(token).await?),
        _ => None,
    };
    if let (Some(visitor), AgentAuth::Access(access), Some(token)) = (&visitor, &auth, &launch_token) {
        // Decided before the rate limit: another site's requests spend none of the agent's.
        match launch(ctx, &access.launch_origins, token) {
            Launch::Proceed => {}
            Launch::Refuse => return Err(GatewayError::NotANavigation),
            Launch::Confirm => {
                let mut query: Vec<(String, String)> =
                    ctx.params.without(&[LAUNCH_PARAM]).iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect();
                query.push((LAUNCH_PARAM.to_owned(), token.clone()));
                return Ok(Outcome::ConfirmLaunch(pages::confirm_launch(&agent.name, visitor, &encode(&query))));
            }
        }
    }
    // A verified agent: the limit is a safety net against a runaway identity,
    // and turning all support away while the limiter is down would be worse.
    ctx.within_rate_limit(AGENT_RATE_LIMITER_BINDING, format!("agent:{}", agent.id), WhenUnavailable::Allow).await?;
    // What the gateway's own links and forms carry: the identity, and in Access mode the launch token.
    let with_launch = |mut carry: Vec<(String, String)>| {
        carry.extend(launch_token.iter().map(|token| (LAUNCH_PARAM.to_owned(), token.clone())));
        carry
    };
    let Some(visitor) = visitor else {
        // No visitor named: the console, where the agent types one in.
        let carry = with_launch(verifier.carry_identity(&auth, &ctx.params, None).await?);
        return Ok(Outcome::Page(pages::console(&agent.name, &carry)));
    };
    let request = WatchUrlRequest { agent, branding: settings.watch.branding, permissions };
    let link_to = async |short_id: &str| {
        Ok(with_launch(verifier.carry_identity(&auth, &ctx.params, Some(("shortid", short_id))).await?))
    };
    let watcher = Watcher::Agent(request.agent.id.clone());
    watch_or_choose(ctx, &client, &visitor, request, watcher, settings.watch.cache_ttl_seconds, "/agent", link_to).await
}

/// Where the request came from, as the browser tells it; `launch_token`:
/// whether it carries this agent's.
fn provenance<'a>(ctx: &Ctx<'a>, launch_token: bool) -> Provenance<'a> {
    Provenance {
        fetch_site: ctx.req.header(Header::FetchSite),
        fetch_mode: ctx.req.header(Header::FetchMode),
        fetch_dest: ctx.req.header(Header::FetchDest),
        referer: ctx.req.header(Header::Referer),
        origin: ctx.req.header(Header::Origin),
        launch_token,
    }
}

/// Whether this Access-mode request may start a session by itself. A POST
/// has already shown it came from a gateway page (`confirmed_by_post`); it
/// and a same-origin GET must carry `token` too. Signed links are minted
/// per agent and visitor, and `none` is for local testing: they always may.
fn launch(ctx: &Ctx<'_>, trusted: &LaunchOrigins, token: &str) -> Launch {
    let carried =
        ctx.params.get(LAUNCH_PARAM).is_some_and(|given| constant_time_eq(given.as_bytes(), token.as_bytes()));
    let from = provenance(ctx, carried);
    if ctx.req.method == "POST" {
        launch_by_post(&from)
    } else {
        launch_by_get(&from, trusted)
    }
}

/// The configured grant, narrowed by the link's `permissions=` when it has one.
pub(super) fn narrowed(configured: &Grant, params: &Params) -> Result<Grant, GatewayError> {
    let Some(requested) = params.get(PERMISSIONS_PARAM) else {
        return Ok(configured.clone());
    };
    let refuse = |why: String| GatewayError::bad_request("invalid_parameter", format!("{PERMISSIONS_PARAM}: {why}"));
    Ok(permissions::narrow(configured, &permissions::parse_list(requested).map_err(refuse)?))
}

/// Starts a session on `visitor` for `request`: redirected to and audited
/// as `watcher`'s; or, when the person is online on several devices, the
/// chooser, whose links to `route` `link_to` builds for each device's Short ID.
#[allow(clippy::too_many_arguments)] // one call site per route; a struct would only rename them
pub(super) async fn watch_or_choose(
    ctx: &Ctx<'_>,
    client: &Client<&FetchTransport<'_>>,
    visitor: &VisitorRef,
    request: WatchUrlRequest,
    watcher: Watcher,
    cache_ttl_seconds: u64,
    route: &str,
    link_to: impl AsyncFn(&str) -> Result<Vec<(String, String)>, GatewayError>,
) -> Result<Outcome, GatewayError> {
    // Only own IDs are cached: other requests never touch the binding.
    let store =
        matches!(visitor, VisitorRef::Unique(_)).then(|| kv_namespace(ctx.env, SHORT_ID_CACHE_BINDING)).flatten();
    let cache = store.map(|store| KvShortIdCache { store, ttl_seconds: cache_ttl_seconds, log: ctx.log });
    match start_watching(client, &cache, visitor, &request).await? {
        Watch::Session(short_id, url) => {
            ctx.log.audit(Audit {
                watcher,
                short_id: short_id.as_str().to_owned(),
                named_by: naming(&ctx.params, visitor),
            });
            Ok(Outcome::Redirect(url))
        }
        Watch::Choose(candidates) => {
            let mut links = Vec::with_capacity(candidates.len());
            for candidate in candidates {
                let carry = link_to(candidate.short_id.as_str()).await?;
                links.push((candidate, encode(&carry)));
            }
            Ok(Outcome::Page(pages::chooser(route, &links, ctx.verifier().now_ms)))
        }
    }
}
