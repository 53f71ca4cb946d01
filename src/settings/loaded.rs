//! Every group of settings, loaded at most once from one source: what the
//! runtime keeps for an isolate, whose vars and secrets cannot change under
//! it. Each group is its own result, so a gap in `/visitor`'s settings never
//! breaks `/agent`; a wrong group is remembered wrong and reported the same
//! way on every request, as loading it again would.

use std::cell::OnceCell;

use super::agent_auth::AgentAuth;
use super::framing::{frame_ancestors, FramedPages};
use super::source::Source;
use super::upstream::UpstreamSettings;
use super::visitor::VisitorSettings;
use super::watch::{AgentSettings, ViewerSettings};
use crate::core::framing::FrameAncestors;
use crate::error::GatewayError;

type Loaded<T> = OnceCell<Result<T, GatewayError>>;

/// The settings every route reads, each group loaded on first use.
pub struct Settings<S> {
    source: S,
    upstream_timeout_ms: Loaded<u64>,
    upstream: Loaded<UpstreamSettings>,
    visitor: Loaded<VisitorSettings>,
    agent_auth: Loaded<AgentAuth>,
    agent: Loaded<AgentSettings>,
    viewer: Loaded<ViewerSettings>,
    /// By `FramedPages`, in its order.
    framing: [Loaded<FrameAncestors>; 3],
}

/// The group, loading it on first use.
fn get<T>(cell: &Loaded<T>, load: impl FnOnce() -> Result<T, GatewayError>) -> Result<&T, GatewayError> {
    cell.get_or_init(load).as_ref().map_err(Clone::clone)
}

impl<S: Source> Settings<S> {
    pub fn new(source: S) -> Self {
        Self {
            source,
            upstream_timeout_ms: OnceCell::new(),
            upstream: OnceCell::new(),
            visitor: OnceCell::new(),
            agent_auth: OnceCell::new(),
            agent: OnceCell::new(),
            viewer: OnceCell::new(),
            framing: [OnceCell::new(), OnceCell::new(), OnceCell::new()],
        }
    }

    #[cfg(test)]
    fn source(&self) -> &S {
        &self.source
    }

    /// `UPSTREAM_TIMEOUT_MS` alone: a request's deadline starts before it
    /// needs the rest of the upstream settings.
    pub fn upstream_timeout_ms(&self) -> Result<u64, GatewayError> {
        get(&self.upstream_timeout_ms, || UpstreamSettings::timeout_ms(&self.source)).copied()
    }

    pub fn upstream(&self) -> Result<&UpstreamSettings, GatewayError> {
        get(&self.upstream, || UpstreamSettings::load(&self.source))
    }

    pub fn visitor(&self) -> Result<&VisitorSettings, GatewayError> {
        get(&self.visitor, || VisitorSettings::load(&self.source))
    }

    pub fn agent_auth(&self) -> Result<&AgentAuth, GatewayError> {
        get(&self.agent_auth, || AgentAuth::load(&self.source))
    }

    pub fn agent(&self) -> Result<&AgentSettings, GatewayError> {
        get(&self.agent, || AgentSettings::load(&self.source))
    }

    pub fn viewer(&self) -> Result<&ViewerSettings, GatewayError> {
        get(&self.viewer, || ViewerSettings::load(&self.source))
    }

    /// Who may frame `pages`.
    pub fn frame_ancestors(&self, pages: FramedPages) -> Result<&FrameAncestors, GatewayError> {
        get(&self.framing[pages as usize], || frame_ancestors(&self.source, pages))
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use super::*;

    /// A source that counts how often each name is read.
    struct Counting {
        vars: HashMap<&'static str, &'static str>,
        reads: RefCell<Vec<String>>,
    }

    impl Source for Counting {
        fn get(&self, name: &str) -> Option<String> {
            self.reads.borrow_mut().push(name.to_owned());
            self.vars.get(name).map(|v| v.to_string())
        }
    }

    fn counting(pairs: &[(&'static str, &'static str)]) -> Settings<Counting> {
        Settings::new(Counting { vars: pairs.iter().copied().collect(), reads: RefCell::default() })
    }

    fn reads_of(settings: &Settings<Counting>, name: &str) -> usize {
        settings.source().reads.borrow().iter().filter(|n| *n == name).count()
    }

    #[test]
    fn each_group_is_loaded_once_however_often_it_is_asked_for() {
        let settings = counting(&[("UPSCOPE_API_KEY", "k"), ("UPSTREAM_TIMEOUT_MS", "250")]);
        for _ in 0..3 {
            assert_eq!(settings.upstream().unwrap().api_key.expose(), "k");
            assert_eq!(settings.upstream_timeout_ms().unwrap(), 250);
        }
        assert_eq!((reads_of(&settings, "UPSCOPE_API_KEY"), reads_of(&settings, "UPSTREAM_TIMEOUT_MS")), (1, 1));
    }

    #[test]
    fn a_wrong_group_fails_alone_and_alike_every_time() {
        let settings = counting(&[("UPSCOPE_API_KEY", "k"), ("EMBED_ORIGINS", "not an origin")]);
        let first = settings.frame_ancestors(FramedPages::Visitor).unwrap_err();
        let again = settings.frame_ancestors(FramedPages::Visitor).unwrap_err();
        assert_eq!(first, again);
        assert!(first.message().contains("EMBED_ORIGINS"), "{}", first.message());
        assert_eq!(reads_of(&settings, "EMBED_ORIGINS"), 1);
        // Another route's pages and the upstream are unaffected.
        assert_eq!(settings.frame_ancestors(FramedPages::Agent).unwrap(), &FrameAncestors::NONE);
        assert!(settings.upstream().is_ok());
        // /visitor's own settings are missing: that is /visitor's problem only.
        assert!(settings.visitor().err().unwrap().message().contains("PROXY_INITIAL_URL"));
        assert!(settings.agent().is_ok());
    }

    #[test]
    fn every_group_reads_what_its_loader_reads() {
        let pairs = [
            ("UPSCOPE_API_KEY", "k"),
            ("PROXY_INITIAL_URL", "https://shop.example.com/"),
            ("AGENT_AUTH", "none"),
            ("ALLOW_UNAUTHENTICATED_AGENTS", "true"),
            ("WATCH_PERMISSIONS", "scroll"),
            ("VIEWER_EMBED_ORIGINS", "https://view.example.com"),
        ];
        let settings = counting(&pairs);
        let vars: HashMap<&str, &str> = pairs.iter().copied().collect();
        assert_eq!(settings.visitor().unwrap().initial_url, VisitorSettings::load(&vars).unwrap().initial_url);
        assert!(matches!(settings.agent_auth().unwrap(), AgentAuth::Unauthenticated));
        assert_eq!(settings.agent().unwrap().permissions, AgentSettings::load(&vars).unwrap().permissions);
        assert_eq!(
            settings.frame_ancestors(FramedPages::View).unwrap(),
            &frame_ancestors(&vars, FramedPages::View).unwrap()
        );
        assert_eq!(
            settings.viewer().err().map(|e| e.message()),
            ViewerSettings::load(&vars).err().map(|e| e.message())
        );
    }
}
