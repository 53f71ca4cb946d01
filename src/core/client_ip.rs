//! Who a visitor is, for rate limiting: one IPv4 address, or one IPv6 /64.
//! A single IPv6 subscriber usually holds a whole /64, so keying on the full
//! address would give one client 2^64 separate allowances.

use url::Host;

/// The rate-limit key for a `CF-Connecting-IP` value: the IPv4 address, the
/// IPv6 /64 prefix (an IPv4-mapped IPv6 address counts as its IPv4 address),
/// or the text as given when it is no IP address at all.
///
/// Read without `std::net`'s address parser: IPv4 by hand (strict, as std
/// reads it), IPv6 with the `url` crate's parser, which the gateway links
/// anyway for URLs.
pub fn rate_limit_key(client_ip: &str) -> String {
    let text = client_ip.trim();
    if is_ipv4(text) {
        // A strictly read dotted quad is already in its one canonical form.
        return text.to_owned();
    }
    if !text.contains(':') {
        return client_ip.to_owned();
    }
    match Host::parse(&format!("[{text}]")) {
        Ok(Host::Ipv6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => {
                let [a, b, c, d] = v4.octets();
                format!("{a}.{b}.{c}.{d}")
            }
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
        _ => client_ip.to_owned(),
    }
}

/// Four decimal numbers 0 to 255 joined by dots, without leading zeros.
fn is_ipv4(text: &str) -> bool {
    let mut parts = 0;
    for part in text.split('.') {
        parts += 1;
        let digits = part.bytes().all(|b| b.is_ascii_digit()) && (1..=3).contains(&part.len());
        if !digits || (part.len() > 1 && part.starts_with('0')) || part.parse::<u16>().map_or(true, |n| n > 255) {
            return false;
        }
    }
    parts == 4
}

#[cfg(test)]
pub(crate) mod tests {
    use super::rate_limit_key;

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let one = rate_limit_key("2001:db8:1:2::1");
        assert_eq!(one, "2001:db8:1:2::/64");
        for same in ["2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:0DB8:0001:0002:0:0:0:abcd", " 2001:db8:1:2::9 "] {
            assert_eq!(rate_limit_key(same), one, "{same}");
        }
        assert_ne!(rate_limit_key("2001:db8:1:3::1"), one);
    }

    #[test]
    fn ipv4_clients_are_keyed_by_their_address() {
        assert_eq!(rate_limit_key("203.0.113.7"), "203.0.113.7");
        assert_ne!(rate_limit_key("203.0.113.8"), rate_limit_key("203.0.113.7"));
        assert_eq!(rate_limit_key("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(rate_limit_key(""), "");
        assert_eq!(rate_limit_key("not-an-ip"), "not-an-ip");
        assert_eq!(rate_limit_key(" 203.0.113.7\t"), "203.0.113.7");
    }

    /// The rate-limit key as std's address parser would give it: the oracle
    /// here and in `properties.rs`.
    pub(crate) fn std_rate_limit_key(client_ip: &str) -> String {
        use std::net::IpAddr;
        match client_ip.trim().parse::<IpAddr>() {
            Ok(IpAddr::V4(v4)) => v4.to_string(),
            Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
            Err(_) => client_ip.to_owned(),
        }
    }

    #[test]
    fn reads_addresses_as_std_does() {
        let cases = [
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1.2.3.04",
            "1..3.4",
            "1.2.3.4.",
            "+1.2.3.4",
            "1.2.3.4 x",
            "::",
            "::1",
            "1::",
            "::ffff:1.2.3.4",
            "::ffff:01.2.3.4",
            "::1.2.3.4",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7::",
            "12345::",
            "fe80::1%eth0",
            "[::1]",
            "::ffff:1.2.3",
            "g::1",
            ":1::",
            "1:::2",
            "::FFFF:A:B",
            "2001:db8::1:2:3:4:5",
            "1.2.3.4:80",
            "[1.2.3.4]",
            "",
        ];
        for case in cases {
            let want = std_rate_limit_key(case);
            assert_eq!(rate_limit_key(case), want, "{case}");
            // Issue 28 (surviving mutants): padded too, where reading an
            // address as one (it is then trimmed) or not (kept as given) shows.
            let padded = format!(" {case}\t");
            assert_eq!(rate_limit_key(&padded), std_rate_limit_key(&padded), "{padded:?}");
        }
    }
}
