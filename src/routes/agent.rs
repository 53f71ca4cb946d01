use worker::Env;

use super::Outcome;

use crate::cache::KvShortIdCache;
use crate::core::query::{visitor_ref, Params};
use crate::error::GatewayError;
use crate::identity::identify_agent;
use crate::services::agent::start_watching;
use crate::settings::{AgentSettings, SHORT_ID_CACHE_BINDING};
use crate::upscope::models::WatchUrlRequest;

pub async fn handle(env: &Env, params: &Params) -> Result<Outcome, GatewayError> {
    let settings = AgentSettings::load(env)?;
    let client = super::upscope_client(env)?;
    let visitor = visitor_ref(params, settings.visitor_id_kind)?.ok_or_else(|| {
        GatewayError::bad_request("missing_parameter", "Name the visitor with one of visitorid, uniqueid or lookup.")
    })?;
    let agent = identify_agent(params)?;
    let cache = env
        .kv(SHORT_ID_CACHE_BINDING)
        .ok()
        .map(|store| KvShortIdCache { store, ttl_seconds: settings.cache_ttl_seconds });
    let request = WatchUrlRequest { agent, branding: settings.branding, permissions: settings.permissions };
    Ok(Outcome::Redirect(start_watching(&client, &cache, &visitor, &request).await?))
}
