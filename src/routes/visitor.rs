//! `/visitor`: a customer's browser (often in an iframe on the company's
//! site) gets a Universal-proxy session on an allowed page, carrying their
//! own ID when the link gives one (signed, with `VISITOR_LINK_SECRET`).

use super::{Ctx, Outcome};
use crate::core::client_ip::rate_limit_key;
use crate::edge::rate_limit::WhenUnavailable;
use crate::edge::request::Header;
use crate::error::GatewayError;
use crate::services::visitor::plan_proxy_session;
use crate::settings::{VisitorSettings, VISITOR_RATE_LIMITER_BINDING};

pub async fn handle(ctx: &Ctx<'_>) -> Result<Outcome, GatewayError> {
    let settings = VisitorSettings::load(ctx.env)?;
    let client = ctx.upscope()?;
    ctx.verifier().check_visitor_link(settings.link_key.as_ref(), &ctx.params).await?;
    let plan = plan_proxy_session(&settings, &ctx.params)?;
    let client_ip = ctx.req.header(Header::ConnectingIp).unwrap_or_default();
    // Anyone on the internet may ask: without its limiter, nothing stands
    // between them and the account's proxy sessions, so no answer is a no.
    let key = format!("visitor:{}", rate_limit_key(client_ip));
    ctx.within_rate_limit(VISITOR_RATE_LIMITER_BINDING, key, WhenUnavailable::Refuse).await?;
    Ok(Outcome::Redirect(client.create_proxy_session(&plan).await?))
}
