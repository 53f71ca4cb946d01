//! Who may frame the gateway's own pages, route by route.

use super::names::{AGENT_EMBED_ORIGINS, EMBED_ORIGINS, VIEWER_EMBED_ORIGINS};
use super::source::{list, misconfigured, Source};
use crate::core::framing::FrameAncestors;
use crate::error::GatewayError;

/// Who may frame the gateway's own pages for a route: `EMBED_ORIGINS` for
/// `/visitor`, `AGENT_EMBED_ORIGINS` for `/agent`; unset means nobody.
pub fn frame_ancestors(src: &impl Source, pages: FramedPages) -> Result<FrameAncestors, GatewayError> {
    let name = pages.setting();
    FrameAncestors::parse(&list(src, name)).map_err(|why| misconfigured(format!("{name}: {why}")))
}

/// Whose pages a framing rule is for: each route that renders pages has its
/// own setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FramedPages {
    Visitor,
    Agent,
    View,
}

impl FramedPages {
    pub fn setting(self) -> &'static str {
        match self {
            Self::Visitor => EMBED_ORIGINS,
            Self::Agent => AGENT_EMBED_ORIGINS,
            Self::View => VIEWER_EMBED_ORIGINS,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::source::tests::vars;

    #[test]
    fn frame_ancestors_name_the_setting() {
        let f = frame_ancestors(
            &vars(&[("EMBED_ORIGINS", "https://shop.example.com, https://www.example.com")]),
            FramedPages::Visitor,
        )
        .unwrap();
        assert!(f
            .content_security_policy()
            .ends_with("frame-ancestors https://shop.example.com https://www.example.com"));
        assert_eq!(frame_ancestors(&vars(&[]), FramedPages::Agent).unwrap(), FrameAncestors::NONE);
        let err =
            frame_ancestors(&vars(&[("AGENT_EMBED_ORIGINS", "help.example.com")]), FramedPages::Agent).unwrap_err();
        assert!(err.message().contains("AGENT_EMBED_ORIGINS"));
    }
}
