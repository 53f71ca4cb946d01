"""Signing gateway links from a Python backend (helpdesk, CRM, your app).

Standard library only. The scheme is in docs/routes.md, "Signed links".

    from sign_link import sign_link
    link = sign_link(
        "https://cobrowse.example.com/agent?lookup=4821&agent_id=a-7&agent_name=Ann%20Lee",
        os.environ["AGENT_LINK_SECRET"],
    )
    # A customer watching an employee's page, view-only (reversed roles):
    view = sign_link(
        "https://cobrowse.example.com/view?uniqueid=emp-42&viewer_id=cust-9&viewer_name=Pat&permissions=none",
        os.environ["VIEWER_LINK_SECRET"],
    )
"""
import base64
import hashlib
import hmac
import sys
import time
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit


def rfc3986(text):
    """Unreserved characters as they are, every other UTF-8 byte as %XX."""
    return quote(text, safe="~")


def canonical_string(pairs):
    """Every parameter but sig, encoded, sorted by encoded name, joined as name=value with &."""
    encoded = sorted((rfc3986(name), rfc3986(value)) for name, value in pairs if name != "sig")
    return "&".join(f"{name}={value}" for name, value in encoded)


def sign_link(url, secret, ttl_seconds=120, now=None):
    """Returns url with exp (now + ttl_seconds) and sig set."""
    parts = urlsplit(url)
    pairs = [(n, v) for n, v in parse_qsl(parts.query, keep_blank_values=True) if n not in ("sig", "exp")]
    pairs.append(("exp", str(int(time.time() if now is None else now) + ttl_seconds)))
    mac = hmac.new(secret.encode(), canonical_string(pairs).encode(), hashlib.sha256).digest()
    pairs.append(("sig", base64.urlsafe_b64encode(mac).rstrip(b"=").decode()))
    return urlunsplit(parts._replace(query=urlencode(pairs, quote_via=quote)))


# Which secret signs a link to each of the gateway's routes.
SECRET_FOR_ROUTE = {"/agent": "AGENT_LINK_SECRET", "/visitor": "VISITOR_LINK_SECRET", "/view": "VIEWER_LINK_SECRET"}

if __name__ == "__main__":
    # python3 sign_link.py URL [NOW]   (secret in $AGENT_LINK_SECRET, $VISITOR_LINK_SECRET
    # or $VIEWER_LINK_SECRET, by the link's path)
    import os

    now = float(sys.argv[2]) if len(sys.argv) > 2 else None
    path = urlsplit(sys.argv[1]).path
    if path not in SECRET_FOR_ROUTE:
        # Never fall back to another route's secret: a typo must not mint an agent link.
        sys.exit(f"sign_link: {path} is not a signed route (use {', '.join(SECRET_FOR_ROUTE)})")
    print(sign_link(sys.argv[1], os.environ[SECRET_FOR_ROUTE[path]], now=now))
