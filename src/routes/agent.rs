use worker::{Env, Request};

use super::Outcome;

use crate::auth::access::TOKEN_HEADER;
use crate::auth::Credentials;
use crate::cache::KvShortIdCache;
use crate::core::query::{visitor_ref, Params};
use crate::error::GatewayError;
use crate::services::agent::start_watching;
use crate::settings::{AgentAuth, AgentSettings, SHORT_ID_CACHE_BINDING};
use crate::upscope::models::WatchUrlRequest;

pub async fn handle(req: &Request, env: &Env, params: &Params) -> Result<Outcome, GatewayError> {
    let auth = AgentAuth::load(env)?;
    let settings = AgentSettings::load(env)?;
    let client = super::upscope_client(env)?;
    // Identity first: a stranger learns nothing about the link's other parameters.
    let access_token = req.headers().get(TOKEN_HEADER).ok().flatten();
    let credentials = Credentials { params, access_token: access_token.as_deref() };
    let agent = super::verifiers().identify_agent(&auth, &credentials).await?;
    let visitor = visitor_ref(params, settings.visitor_id_kind)?.ok_or_else(|| {
        GatewayError::bad_request("missing_parameter", "Name the visitor with one of visitorid, uniqueid or lookup.")
    })?;
    let cache = env
        .kv(SHORT_ID_CACHE_BINDING)
        .ok()
        .map(|store| KvShortIdCache { store, ttl_seconds: settings.cache_ttl_seconds });
    let request = WatchUrlRequest { agent, branding: settings.branding, permissions: settings.permissions };
    Ok(Outcome::Redirect(start_watching(&client, &cache, &visitor, &request).await?))
}
