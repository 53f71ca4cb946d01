use worker::Env;

use super::Outcome;
use crate::core::query::Params;
use crate::error::GatewayError;
use crate::services::visitor::{plan_proxy_session, start_proxy_session};
use crate::settings::{visitor_link_key, ProxySettings};

pub async fn handle(env: &Env, params: &Params) -> Result<Outcome, GatewayError> {
    let settings = ProxySettings::load(env)?;
    let link_key = visitor_link_key(env)?;
    let client = super::upscope_client(env)?;
    super::verifiers().check_visitor_link(link_key.as_ref(), params).await?;
    let plan = plan_proxy_session(&settings, params)?;
    Ok(Outcome::Redirect(start_proxy_session(&client, &plan).await?))
}
