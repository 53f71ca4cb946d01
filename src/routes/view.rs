//! `/view`: watching for people outside the company (the reversed roles of
//! Upscope's guide: an employee shares a page, customers watch). Always a
//! link signed with `VIEWER_LINK_SECRET`, never Access, with its own
//! permissions (`VIEWER_PERMISSIONS`, view-only by default).

use super::runtime::RequestContext;
use super::Outcome;
use crate::core::ids::VIEWER_AGENT_PREFIX;
use crate::core::query::{visitor_ref, VisitorRef};
use crate::edge::rate_limit::WhenUnavailable;
use crate::error::GatewayError;
use crate::observe::Watcher;
use crate::services::watch::{narrowed, watch_or_choose, WatchRequest};
use crate::settings::AGENT_RATE_LIMITER_BINDING;
use crate::upscope::models::{Agent, WatchUrlRequest};

pub async fn handle(ctx: &RequestContext<'_>) -> Result<Outcome, GatewayError> {
    let settings = ctx.settings().viewer()?;
    let client = ctx.upscope()?;
    // Identity first: a stranger learns nothing about the link's other parameters.
    let verifier = ctx.verifier();
    let viewer = verifier.identify_viewer(&settings.link_key, &ctx.params).await?;
    // Verified by a signed link first, but unlike /agent's staff, a viewer is
    // an outsider holding a link they can replay until it expires: the limit
    // is its one brake, so while the limiter cannot say, no session starts.
    ctx.within_rate_limit(AGENT_RATE_LIMITER_BINDING, format!("viewer:{}", viewer.id), WhenUnavailable::Refuse).await?;
    let permissions = narrowed(&settings.permissions, &ctx.params)?;
    let visitor = match visitor_ref(&ctx.params, settings.watch.visitor_id_kind)? {
        Some(VisitorRef::Lookup(_)) | None => {
            return Err(GatewayError::bad_request(
                "missing_parameter",
                "A /view link names the person to watch with uniqueid or visitorid (lookup codes are for agents).",
            ))
        }
        Some(visitor) => visitor,
    };
    let key = &settings.link_key;
    let watcher = Watcher::Viewer { pseudonym: verifier.viewer_pseudonym(&settings.audit_key, &viewer.id).await? };
    // Upscope sees viewers apart from staff, who may not use this prefix (`auth::identify_agent`).
    let agent = Agent { id: format!("{VIEWER_AGENT_PREFIX}{}", viewer.id), name: viewer.name };
    let session = WatchUrlRequest { agent, branding: settings.watch.branding.clone(), permissions };
    let request = WatchRequest { visitor: &visitor, session, watcher, link: &ctx.params };
    let cache = ctx.short_id_cache(&visitor, settings.watch.cache_ttl_seconds);
    let link_to = async |short_id: &str| verifier.carry_viewer(key, &ctx.params, ("shortid", short_id)).await;
    Ok(ctx.watched(watch_or_choose(&client, &cache, request, link_to).await?, "/view"))
}
