//! The few pages the gateway renders itself: the agent console, the device
//! chooser, error pages, the shared page frame and HTML escaping.
//! Server-rendered, no JavaScript, every value escaped; pure, so tested natively.

use crate::core::choose::Candidate;
use crate::core::query::VisitorRef;
use crate::error::GatewayError;

const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;color:#1f2933}\
code{background:#eef2f7;padding:0 .25rem;border-radius:3px}\
form{margin:1.5rem 0;padding:1rem;border:1px solid #cbd2d9;border-radius:6px}\
label{display:block;font-weight:600;margin-bottom:.25rem}\
input[type=text]{font:inherit;padding:.4rem;width:12rem;border:1px solid #9aa5b1;border-radius:4px}\
button,a.button{font:inherit;padding:.4rem .9rem;margin-left:.5rem;border-radius:4px;border:0;background:#1f6feb;color:#fff;text-decoration:none}\
ul{padding:0;list-style:none}li{margin:.75rem 0}.hint{color:#52606d;font-size:.9rem}";

/// The launch confirmation's button is live only once the pointer has
/// rested on the page for half a second (as browsers delay their own
/// permission prompts): a page that opens or uncovers the confirmation
/// under the agent's pointer in the middle of a double-click cannot have
/// the second click land on it. Until then a shield lies over the button
/// and takes the click; it lifts after 0.5 s of hover, and comes back when
/// the pointer leaves the page (a window laid over it, say). Pure CSS: the
/// pages run no script. Touch screens hover where they are tapped, so there
/// a first tap arms the button and a second one presses it.
const ARMED_BUTTON_STYLE: &str = ".armed{position:relative;display:inline-block}\
.armed button{margin:0;opacity:.5}\
.shield{position:absolute;inset:0;cursor:wait}\
:root:hover .shield{animation:lift 0s .5s forwards}\
:root:hover .armed button{animation:lit 0s .5s forwards}\
@keyframes lift{to{visibility:hidden}}@keyframes lit{to{opacity:1}}";

/// A whole page around `body` (already HTML).
pub fn page(title: &str, body: &str) -> String {
    styled_page(title, body, "")
}

/// A whole page around `body`, with `style` after the shared style sheet.
fn styled_page(title: &str, body: &str, style: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title}</title><style>{STYLE}{style}</style></head><body><main>{body}</main></body></html>\n",
        title = escape_html(title),
    )
}

/// Text made safe to place in HTML content and in quoted attribute values.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// An error as a page; `retry_href`, when given, becomes a "Try again" link.
pub fn error_page(err: &GatewayError, retry_href: Option<&str>) -> String {
    let retry = retry_href
        .map(|href| format!("<p><a class=\"button\" id=\"retry\" href=\"{}\">Try again</a></p>", escape_html(href)))
        .unwrap_or_default();
    let title = error_title(err);
    page(
        title,
        &format!(
            "<h1>{title}</h1><p>{message}</p>{retry}<p><small>Error <code>{code}</code> (HTTP {status})</small></p>",
            message = escape_html(&err.message()),
            code = err.code(),
            status = err.status(),
        ),
    )
}

/// A short human title for an error's page.
fn error_title(err: &GatewayError) -> &'static str {
    match err.status() {
        400 => "Check the link",
        404 => "Not found",
        409 => "Which visitor?",
        401 | 403 => "Access refused",
        405 => "Method not allowed",
        429 => "Slow down",
        500 if matches!(err, GatewayError::Misconfigured(_)) => "Gateway misconfigured",
        503 => "Co-browsing is busy",
        504 => "Co-browsing timed out",
        _ => "Co-browsing is unavailable",
    }
}

fn hidden_inputs(carry: &[(String, String)]) -> String {
    carry
        .iter()
        .map(|(name, value)| {
            format!("<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape_html(name), escape_html(value))
        })
        .collect()
}

/// The agent console: two GET forms to `/agent`, each carrying `carry`
/// (the agent's identity, where the mode keeps it in the link).
pub fn console(agent_name: &str, carry: &[(String, String)]) -> String {
    let hidden = hidden_inputs(carry);
    page(
        "Start co-browsing",
        &format!(
            "<h1>Start co-browsing</h1>\
<p>Signed in as <strong id=\"console-agent\">{agent}</strong>.</p>\
<form method=\"get\" action=\"/agent\" aria-labelledby=\"by-code\">\
<label id=\"by-code\" for=\"lookup\">Four-digit code the customer reads out</label>\
<input type=\"text\" id=\"lookup\" name=\"lookup\" inputmode=\"numeric\" pattern=\"[0-9]{{4}}\" maxlength=\"4\" \
autocomplete=\"off\" required aria-describedby=\"lookup-hint\">{hidden}<button type=\"submit\">Watch</button>\
<p class=\"hint\" id=\"lookup-hint\">The customer sees it on the page they want help with.</p></form>\
<form method=\"get\" action=\"/agent\" aria-labelledby=\"by-id\">\
<label id=\"by-id\" for=\"uniqueid\">Or the customer's ID in your systems</label>\
<input type=\"text\" id=\"uniqueid\" name=\"uniqueid\" maxlength=\"128\" autocomplete=\"off\" required \
aria-describedby=\"uniqueid-hint\">{hidden}<button type=\"submit\">Watch</button>\
<p class=\"hint\" id=\"uniqueid-hint\">Letters, digits and - _ . @ + : = ~ only.</p></form>",
            agent = escape_html(agent_name),
        ),
    )
}

/// Asked before a link from another site starts a session (see
/// `core::launch`): it names the agent and the visitor, and its button sends
/// the same link again as a POST from this page, which is same-origin.
pub fn confirm_launch(agent_name: &str, visitor: &VisitorRef, query: &str) -> String {
    let (what, value) = match visitor {
        VisitorRef::Short(id) => ("the visitor with the Short ID", id.as_str()),
        VisitorRef::Unique(id) => ("the customer with your ID", id.as_str()),
        VisitorRef::Lookup(code) => ("the visitor showing the code", code.as_str()),
    };
    styled_page(
        "Open this co-browsing session?",
        &format!(
            "<h1>Open this co-browsing session?</h1>\
<p>A link from another site asks to open a co-browsing session on {what} <strong id=\"confirm-visitor\">{value}</strong>.</p>\
<p>Signed in as <strong>{agent}</strong>. Open it only if you followed this link yourself, for a customer you are helping.</p>\
<form method=\"post\" action=\"/agent?{query}\"><span class=\"armed\"><button type=\"submit\" id=\"confirm-launch\">\
Open the session</button><span class=\"shield\" id=\"confirm-shield\" aria-hidden=\"true\"></span></span></form>",
            value = escape_html(value),
            agent = escape_html(agent_name),
            query = escape_html(query),
        ),
        ARMED_BUTTON_STYLE,
    )
}

/// One person online on several devices: a link per device to `route`, each
/// starting the session for that device (`links` holds each link's query string).
pub fn chooser(route: &str, candidates: &[(Candidate, String)], now_ms: f64) -> String {
    let items: String = candidates
        .iter()
        .map(|(c, link)| {
            let device = c.device.as_deref().unwrap_or("Unknown device");
            let browser = c.browser.as_deref().map(|b| format!(", {}", escape_html(b))).unwrap_or_default();
            format!(
                "<li><a class=\"button\" href=\"{route}?{href}\" data-short-id=\"{short}\">{device}{browser}</a> \
<span class=\"hint\">{seen}</span></li>",
                route = escape_html(route),
                href = escape_html(link),
                short = escape_html(c.short_id.as_str()),
                device = escape_html(device),
                seen = last_seen(c.last_seen_ms, now_ms),
            )
        })
        .collect();
    page(
        "Choose a device",
        &format!(
            "<h1>Choose a device</h1><p>This customer is online on {n} devices right now. \
Which one do they need help with?</p><ul id=\"devices\">{items}</ul>",
            n = candidates.len()
        ),
    )
}

fn last_seen(seen_ms: Option<i64>, now_ms: f64) -> String {
    let Some(seen) = seen_ms else { return "last seen: unknown".into() };
    let minutes = ((now_ms - seen as f64) / 60_000.0).floor().max(0.0) as i64;
    match minutes {
        0 => "active now".into(),
        1 => "last seen 1 minute ago".into(),
        m if m < 120 => format!("last seen {m} minutes ago"),
        m => format!("last seen {} hours ago", m / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_pages_escape_the_message() {
        let err = GatewayError::bad_request("invalid_parameter", "<script>alert(1)</script>");
        let html = error_page(&err, None);
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("<title>Check the link</title>") && html.contains("HTTP 400"));
        assert!(!html.contains("Try again"));
    }

    #[test]
    fn transient_trouble_offers_an_escaped_retry_link() {
        let err = GatewayError::Upstream(crate::upscope::UpstreamError::TimedOut);
        let html = error_page(&err, Some("/visitor?uniqueid=a&exp=1&sig=\"x"));
        assert!(html.contains(
            "<a class=\"button\" id=\"retry\" href=\"/visitor?uniqueid=a&amp;exp=1&amp;sig=&quot;x\">Try again</a>"
        ));
        assert!(html.contains("<h1>Co-browsing timed out</h1>"));
    }
    use crate::core::ids::ShortId;

    #[test]
    fn console_has_two_labelled_get_forms_carrying_the_identity() {
        let carry = vec![("agent_id".to_owned(), "a\"7".to_owned()), ("sig".to_owned(), "x<y".to_owned())];
        let html = console("Ann <Lee>", &carry);
        assert_eq!(html.matches("<form method=\"get\" action=\"/agent\"").count(), 2);
        assert!(html.contains("<label id=\"by-code\" for=\"lookup\">"));
        assert!(html.contains("<label id=\"by-id\" for=\"uniqueid\">"));
        assert_eq!(html.matches("<input type=\"hidden\" name=\"agent_id\" value=\"a&quot;7\">").count(), 2);
        assert_eq!(html.matches("name=\"sig\" value=\"x&lt;y\"").count(), 2);
        assert!(html.contains("Ann &lt;Lee&gt;"));
        assert!(!html.contains("<script"));
    }

    #[test]
    fn a_launch_confirmation_posts_the_same_escaped_link_back() {
        let visitor = VisitorRef::Unique(crate::core::ids::UniqueId::parse("pat+1@example.com").unwrap());
        let html = confirm_launch("Ann <Lee>", &visitor, "permissions=scroll&uniqueid=pat%2B1%40example.com&x=\"");
        assert!(html.contains(
            "<form method=\"post\" action=\"/agent?permissions=scroll&amp;uniqueid=pat%2B1%40example.com&amp;x=&quot;\">"
        ));
        assert!(html.contains("your ID <strong id=\"confirm-visitor\">pat+1@example.com</strong>"));
        assert!(html.contains("Signed in as <strong>Ann &lt;Lee&gt;</strong>"));
        assert!(!html.contains("<script"));
        // The button sits under a shield that lifts only after half a second of hover.
        assert!(html.contains("Open the session</button><span class=\"shield\" id=\"confirm-shield\""));
        assert!(html.contains(":root:hover .shield{animation:lift 0s .5s forwards}"));
        assert!(!console("Ann", &[]).contains(".shield"), "only the confirmation is armed");
    }

    #[test]
    fn chooser_lists_devices_with_escaped_links() {
        let candidate = |id: &str, device: Option<&str>, seen: Option<i64>| Candidate {
            short_id: ShortId::parse(id).unwrap(),
            device: device.map(Into::into),
            browser: Some("Firefox<script>".into()),
            last_seen_ms: seen,
        };
        let now = 1_800_000_000_000.0;
        let html = chooser(
            "/agent",
            &[
                (candidate("desk", Some("Desktop"), Some(1_800_000_000_000 - 30_000)), "shortid=desk&a=1".into()),
                (candidate("phone", None, Some(1_800_000_000_000 - 5 * 60_000)), "shortid=phone&a=1".into()),
            ],
            now,
        );
        assert!(html.contains(
            "href=\"/agent?shortid=desk&amp;a=1\" data-short-id=\"desk\">Desktop, Firefox&lt;script&gt;</a>"
        ));
        assert!(html.contains("active now"));
        assert!(html.contains("Unknown device"));
        assert!(html.contains("last seen 5 minutes ago"));
        assert!(html.contains("online on 2 devices"));
        assert_eq!(last_seen(None, now), "last seen: unknown");
        assert_eq!(last_seen(Some(0), 3.0 * 3_600_000.0), "last seen 3 hours ago");
    }
}
