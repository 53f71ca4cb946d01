//! The name of every variable, secret and binding the gateway reads,
//! written once: loaders, `/readyz` and error messages all use these.

pub const UPSCOPE_API_KEY: &str = "UPSCOPE_API_KEY";
pub const UPSCOPE_API_BASE: &str = "UPSCOPE_API_BASE";
pub const UPSCOPE_EDITION: &str = "UPSCOPE_EDITION";
pub const UPSTREAM_TIMEOUT_MS: &str = "UPSTREAM_TIMEOUT_MS";
pub const PROXY_INITIAL_URL: &str = "PROXY_INITIAL_URL";
pub const PROXY_ALLOWED_URLS: &str = "PROXY_ALLOWED_URLS";
pub const PROXY_ALLOWED_DOMAINS: &str = "PROXY_ALLOWED_DOMAINS";
pub const VISITOR_ID_KIND: &str = "VISITOR_ID_KIND";
pub const WATCH_BRANDING_NAKED: &str = "WATCH_BRANDING_NAKED";
pub const WATCH_BRANDING_NO_BOTTOM_BAR: &str = "WATCH_BRANDING_NO_BOTTOM_BAR";
pub const WATCH_RETRY_URL: &str = "WATCH_RETRY_URL";
pub const WATCH_ON_END_URL: &str = "WATCH_ON_END_URL";
pub const WATCH_PERMISSIONS: &str = "WATCH_PERMISSIONS";
pub const SHORT_ID_CACHE_TTL: &str = "SHORT_ID_CACHE_TTL";
pub const AGENT_AUTH: &str = "AGENT_AUTH";
pub const ACCESS_TEAM_DOMAIN: &str = "ACCESS_TEAM_DOMAIN";
pub const ACCESS_AUD: &str = "ACCESS_AUD";
pub const AGENT_LAUNCH_ORIGINS: &str = "AGENT_LAUNCH_ORIGINS";
pub const ACCESS_SERVICE_TOKENS: &str = "ACCESS_SERVICE_TOKENS";
pub const ALLOW_UNAUTHENTICATED_AGENTS: &str = "ALLOW_UNAUTHENTICATED_AGENTS";
pub const AGENT_LINK_SECRET: &str = "AGENT_LINK_SECRET";
pub const AGENT_LINK_SECRET_PREVIOUS: &str = "AGENT_LINK_SECRET_PREVIOUS";
pub const AGENT_LINK_MAX_TTL: &str = "AGENT_LINK_MAX_TTL";
pub const VISITOR_LINK_SECRET: &str = "VISITOR_LINK_SECRET";
pub const VISITOR_LINK_SECRET_PREVIOUS: &str = "VISITOR_LINK_SECRET_PREVIOUS";
pub const VISITOR_LINK_MAX_TTL: &str = "VISITOR_LINK_MAX_TTL";
pub const VIEWER_LINK_SECRET: &str = "VIEWER_LINK_SECRET";
pub const VIEWER_LINK_SECRET_PREVIOUS: &str = "VIEWER_LINK_SECRET_PREVIOUS";
pub const VIEWER_LINK_MAX_TTL: &str = "VIEWER_LINK_MAX_TTL";
pub const VIEWER_PERMISSIONS: &str = "VIEWER_PERMISSIONS";
pub const AUDIT_ID_SECRET: &str = "AUDIT_ID_SECRET";
pub const EMBED_ORIGINS: &str = "EMBED_ORIGINS";
pub const AGENT_EMBED_ORIGINS: &str = "AGENT_EMBED_ORIGINS";
pub const VIEWER_EMBED_ORIGINS: &str = "VIEWER_EMBED_ORIGINS";

/// The KV namespace binding for uniqueId→shortId; optional.
pub const SHORT_ID_CACHE_BINDING: &str = "SHORT_ID_CACHE";
/// Optional Workers rate-limiting bindings.
pub const VISITOR_RATE_LIMITER_BINDING: &str = "VISITOR_RATE_LIMITER";
pub const AGENT_RATE_LIMITER_BINDING: &str = "AGENT_RATE_LIMITER";
/// The Workers Analytics Engine dataset each request writes one data point
/// to (`observe::data_point`); unbound, no metrics.
pub const METRICS_BINDING: &str = "METRICS";
