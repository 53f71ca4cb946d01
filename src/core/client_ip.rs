//! Who a visitor is, for rate limiting: one IPv4 address, or one IPv6 /64.
//! A single IPv6 subscriber usually holds a whole /64, so keying on the full
//! address would give one client 2^64 separate allowances.

use std::net::IpAddr;

/// The rate-limit key for a `CF-Connecting-IP` value: the IPv4 address, the
/// IPv6 /64 prefix (an IPv4-mapped IPv6 address counts as its IPv4 address),
/// or the text as given when it is no IP address at all.
pub fn rate_limit_key(client_ip: &str) -> String {
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

#[cfg(test)]
mod tests {
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
    }
}
