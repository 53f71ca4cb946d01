//! `/visitor`: a customer's browser (often in an iframe on the company's
//! site) gets a Universal-proxy session on an allowed page, carrying their
//! own ID when the link gives one (signed, with `VISITOR_LINK_SECRET`).

use super::runtime::RequestContext;
use super::Outcome;
use crate::core::client_ip::rate_limit_key;
use crate::edge::rate_limit::WhenUnavailable;
use crate::edge::request::Header;
use crate::error::GatewayError;
use crate::services::visitor::plan_proxy_session;
use crate::settings::VISITOR_RATE_LIMITER_BINDING;

pub async fn handle(ctx: &RequestContext<'_>) -> Result<Outcome, GatewayError> {
    let settings = ctx.settings().visitor()?;
    let client = ctx.upscope()?;
    ctx.verifier().check_visitor_link(settings.link_key.as_ref(), &ctx.params).await?;
    let plan = plan_proxy_session(settings, &ctx.params)?;
    let client_ip = ctx.req.header(Header::ConnectingIp).unwrap_or_default();
    // Anyone on the internet may ask: without its limiter, nothing stands
    // between them and the account's proxy sessions, so no answer is a no.
    let key = format!("visitor:{}", rate_limit_key(client_ip));
    ctx.within_rate_limit(VISITOR_RATE_LIMITER_BINDING, key, WhenUnavailable::Refuse).await?;
    Ok(Outcome::Redirect(client.create_proxy_session(&plan).await?))
}
