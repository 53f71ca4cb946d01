//! `/agent`: a verified agent (Access, signed link, or `none` locally) names
//! a visitor, or gets the console to type one in.

use super::runtime::RequestContext;
use super::Outcome;
use crate::auth::Credentials;
use crate::core::launch::{Launch, Provenance};
use crate::core::query::visitor_ref;
use crate::edge::rate_limit::WhenUnavailable;
use crate::edge::request::{Header, RequestHead};
use crate::error::GatewayError;
use crate::observe::Watcher;
use crate::pages;
use crate::services::launch::{confirmation_query, with_launch_token, Arrival};
use crate::services::watch::{narrowed, watch_or_choose, WatchRequest};
use crate::settings::{AgentAuth, AGENT_RATE_LIMITER_BINDING};
use crate::upscope::models::WatchUrlRequest;

pub async fn handle(ctx: &RequestContext<'_>) -> Result<Outcome, GatewayError> {
    // A POST is the launch confirmation's button: from the gateway's own page, or nothing.
    let arrival = Arrival::admit(&ctx.req.method, provenance(ctx.req), &ctx.req.url)?;
    let auth = ctx.settings().agent_auth()?;
    let settings = ctx.settings().agent()?;
    let client = ctx.upscope()?;
    // Identity first: a stranger learns nothing about the link's other parameters.
    let access_token = ctx.req.header(Header::AccessJwt);
    let credentials = Credentials { params: &ctx.params, access_token };
    let verifier = ctx.verifier();
    let agent = verifier.identify_agent(auth, &credentials).await?;
    let permissions = narrowed(&settings.permissions, &ctx.params)?;
    let visitor = visitor_ref(&ctx.params, settings.watch.visitor_id_kind)?;
    // Access mode: the token the gateway's own pages carry for this sign-in (`core::launch`).
    let launch_token = match (auth, access_token) {
        (AgentAuth::Access(_), Some(token)) => Some(verifier.launch_token(token).await?),
        _ => None,
    };
    if let Some(visitor) = &visitor {
        // Decided before the rate limit: another site's requests spend none of the agent's.
        match arrival.launch(auth, &ctx.params, launch_token.as_deref()) {
            Launch::Proceed => {}
            Launch::Refuse => return Err(GatewayError::NotANavigation),
            Launch::Confirm => {
                let token = launch_token.as_deref().ok_or(GatewayError::Internal("a confirmation without a token"))?;
                let query = confirmation_query(&ctx.params, token);
                return Ok(Outcome::ConfirmLaunch(pages::confirm_launch(&agent.name, visitor, &query)));
            }
        }
    }
    // A verified agent: the limit is a safety net against a runaway identity,
    // and turning all support away while the limiter is down would be worse.
    ctx.within_rate_limit(AGENT_RATE_LIMITER_BINDING, format!("agent:{}", agent.id), WhenUnavailable::Allow).await?;
    let Some(visitor) = visitor else {
        // No visitor named: the console, where the agent types one in.
        let carry = with_launch_token(verifier.carry_identity(auth, &ctx.params, None).await?, launch_token.as_deref());
        return Ok(Outcome::Page(pages::console(&agent.name, &carry)));
    };
    let watcher = Watcher::Agent(agent.id.clone());
    let session = WatchUrlRequest { agent, branding: settings.watch.branding.clone(), permissions };
    let request = WatchRequest { visitor: &visitor, session, watcher, link: &ctx.params };
    let cache = ctx.short_id_cache(&visitor, settings.watch.cache_ttl_seconds);
    let link_to = async |short_id: &str| {
        let carry = verifier.carry_identity(auth, &ctx.params, Some(("shortid", short_id))).await?;
        Ok(with_launch_token(carry, launch_token.as_deref()))
    };
    Ok(ctx.watched(watch_or_choose(&client, &cache, request, link_to).await?, "/agent"))
}

/// Where the request came from, as the browser tells it; read once.
fn provenance(req: &RequestHead) -> Provenance<'_> {
    Provenance {
        fetch_site: req.header(Header::FetchSite),
        fetch_mode: req.header(Header::FetchMode),
        fetch_dest: req.header(Header::FetchDest),
        purpose: req.header(Header::Purpose).or(req.header(Header::LegacyPurpose)),
        referer: req.header(Header::Referer),
        origin: req.header(Header::Origin),
        launch_token: false,
    }
}
