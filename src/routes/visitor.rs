use worker::Env;

use super::Outcome;
use crate::core::query::Params;
use crate::error::GatewayError;
use crate::services::visitor::{plan_proxy_session, start_proxy_session};
use crate::settings::ProxySettings;

pub async fn handle(env: &Env, params: &Params) -> Result<Outcome, GatewayError> {
    let settings = ProxySettings::load(env)?;
    let client = super::upscope_client(env)?;
    let plan = plan_proxy_session(&settings, params)?;
    Ok(Outcome::Redirect(start_proxy_session(&client, &plan).await?))
}
