//! `/agent`: a verified agent (Access, signed link, or `none` locally) names
//! a visitor, or gets the console to type one in; the shared tail
//! (`watch_or_choose`) also serves `/view`.

use super::runtime::RequestContext;
use super::Outcome;
use crate::auth::{Credentials, PERMISSIONS_PARAM};
use crate::core::launch::{confirmed_by_post, launch_by_get, Launch, Provenance};
use crate::core::permissions::{self, Grant};
use crate::core::query::{encode, named_by, visitor_ref, Params, VisitorRef};
use crate::edge::fetch::FetchTransport;
use crate::edge::rate_limit::WhenUnavailable;
use crate::edge::request::Header;
use crate::error::GatewayError;
use crate::observe::{Audit, Watcher};
use crate::pages;
use crate::services::agent::{start_watching, Watch};
use crate::settings::{AgentAuth, AGENT_RATE_LIMITER_BINDING};
use crate::upscope::models::WatchUrlRequest;
use crate::upscope::Client;

pub async fn handle(ctx: &RequestContext<'_>) -> Result<Outcome, GatewayError> {
    // A POST is the launch confirmation's button: from the gateway's own page, or nothing.
    if ctx.req.method == "POST" && !confirmed_by_post(&provenance(ctx), &ctx.req.url) {
        return Err(GatewayError::CrossSiteRequest);
    }
    let auth = ctx.settings().agent_auth()?;
    let settings = ctx.settings().agent()?;
    let client = ctx.upscope()?;
    // Identity first: a stranger learns nothing about the link's other parameters.
    let access_token = ctx.req.header(Header::AccessJwt);
    let credentials = Credentials { params: &ctx.params, access_token };
    let verifier = ctx.verifier();
    let agent = verifier.identify_agent(auth, &credentials).await?;
    // A verified agent: the limit is a safety net against a runaway identity,
    // and turning all support away while the limiter is down would be worse.
    ctx.within_rate_limit(AGENT_RATE_LIMITER_BINDING, format!("agent:{}", agent.id), WhenUnavailable::Allow).await?;
    let permissions = narrowed(&settings.permissions, &ctx.params)?;
    let Some(visitor) = visitor_ref(&ctx.params, settings.watch.visitor_id_kind)? else {
        // No visitor named: the console, where the agent types one in.
        let carry = verifier.carry_identity(auth, &ctx.params, None).await?;
        return Ok(Outcome::Page(pages::console(&agent.name, &carry)));
    };
    if let Launch::Confirm = launch(ctx, auth) {
        let query = encode(&ctx.params.iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect::<Vec<_>>());
        return Ok(Outcome::ConfirmLaunch(pages::confirm_launch(&agent.name, &visitor, &query)));
    }
    let request = WatchUrlRequest { agent, branding: settings.watch.branding.clone(), permissions };
    let link_to = async |short_id: &str| verifier.carry_identity(auth, &ctx.params, Some(("shortid", short_id))).await;
    let watcher = Watcher::Agent(request.agent.id.clone());
    watch_or_choose(ctx, &client, &visitor, request, watcher, settings.watch.cache_ttl_seconds, "/agent", link_to).await
}

/// Where the request came from, as the browser tells it.
fn provenance<'a>(ctx: &RequestContext<'a>) -> Provenance<'a> {
    Provenance {
        fetch_site: ctx.req.header(Header::FetchSite),
        referer: ctx.req.header(Header::Referer),
        origin: ctx.req.header(Header::Origin),
    }
}

/// Whether this request may start a session by itself. A POST has already
/// proven it came from the confirmation page. A GET is asked to confirm
/// only in Access mode, where the sign-in rides along on any site's link;
/// signed links are minted per agent, and `none` is for local testing.
fn launch(ctx: &RequestContext<'_>, auth: &AgentAuth) -> Launch {
    match auth {
        AgentAuth::Access(access) if ctx.req.method == "GET" => launch_by_get(&provenance(ctx), &access.launch_origins),
        _ => Launch::Proceed,
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
    ctx: &RequestContext<'_>,
    client: &Client<'_, &FetchTransport<'_>>,
    visitor: &VisitorRef,
    request: WatchUrlRequest,
    watcher: Watcher,
    cache_ttl_seconds: u64,
    route: &str,
    link_to: impl AsyncFn(&str) -> Result<Vec<(String, String)>, GatewayError>,
) -> Result<Outcome, GatewayError> {
    let cache = ctx.short_id_cache(visitor, cache_ttl_seconds);
    match start_watching(client, &cache, visitor, &request).await? {
        Watch::Session(short_id, url) => {
            ctx.log.audit(Audit {
                watcher,
                short_id: short_id.as_str().to_owned(),
                named_by: named_by(&ctx.params, visitor),
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
