use super::{Ctx, Outcome};
use crate::auth::access::TOKEN_HEADER;
use crate::auth::Credentials;
use crate::cache::KvShortIdCache;
use crate::core::query::{naming, visitor_ref};
use crate::error::GatewayError;
use crate::observe::Audit;
use crate::pages;
use crate::services::agent::{start_watching, Watch};
use crate::settings::{AgentAuth, AgentSettings, AGENT_RATE_LIMITER_BINDING, SHORT_ID_CACHE_BINDING};
use crate::upscope::models::WatchUrlRequest;

pub async fn handle(ctx: &Ctx<'_>) -> Result<Outcome, GatewayError> {
    let auth = AgentAuth::load(ctx.env)?;
    let settings = AgentSettings::load(ctx.env)?;
    let client = ctx.upscope()?;
    // Identity first: a stranger learns nothing about the link's other parameters.
    let access_token = ctx.req.headers().get(TOKEN_HEADER).ok().flatten();
    let credentials = Credentials { params: &ctx.params, access_token: access_token.as_deref() };
    let verifiers = ctx.verifiers();
    let agent = verifiers.identify_agent(&auth, &credentials).await?;
    ctx.within_rate_limit(AGENT_RATE_LIMITER_BINDING, format!("agent:{}", agent.id)).await?;
    let Some(visitor) = visitor_ref(&ctx.params, settings.visitor_id_kind)? else {
        // No visitor named: the console, where the agent types one in.
        let carry = verifiers.carry_identity(&auth, &ctx.params, None).await?;
        return Ok(Outcome::Page(pages::console(&agent.name, &carry)));
    };
    let cache = ctx.env.kv(SHORT_ID_CACHE_BINDING).ok().map(|store| KvShortIdCache {
        store,
        ttl_seconds: settings.cache_ttl_seconds,
        log: ctx.log,
    });
    let request = WatchUrlRequest { agent, branding: settings.branding, permissions: settings.permissions };
    match start_watching(&client, &cache, &visitor, &request).await? {
        Watch::Session(short_id, url) => {
            ctx.log.audit(Audit {
                agent_id: request.agent.id,
                short_id: short_id.as_str().to_owned(),
                named_by: naming(&ctx.params, &visitor),
            });
            Ok(Outcome::Redirect(url))
        }
        Watch::Choose(candidates) => {
            let mut links = Vec::with_capacity(candidates.len());
            for candidate in candidates {
                let pick = Some(("shortid", candidate.short_id.as_str()));
                let carry = verifiers.carry_identity(&auth, &ctx.params, pick).await?;
                links.push((candidate, pages::query(&carry)));
            }
            Ok(Outcome::Page(pages::chooser(&links, verifiers.now_ms)))
        }
    }
}
