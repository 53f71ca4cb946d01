use worker::{Env, Response, Result};

use crate::core::query::Params;
use crate::error::GatewayError;
use crate::http;
use crate::services::visitor::{plan_proxy_session, start_proxy_session};
use crate::settings::ProxySettings;

pub async fn handle(env: &Env, params: &Params) -> std::result::Result<Result<Response>, GatewayError> {
    let settings = ProxySettings::load(env)?;
    let client = super::upscope_client(env)?;
    let plan = plan_proxy_session(&settings, params)?;
    let session = start_proxy_session(&client, &plan).await?;
    Ok(http::redirect_to_session(&session))
}
