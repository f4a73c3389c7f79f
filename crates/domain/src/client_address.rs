//! Who the client is when the Hub sits behind reverse proxies. A proxy reports the address it
//! received the request from in `Forwarded` (RFC 7239) or `X-Forwarded-For`, appending to what
//! earlier hops wrote; anything left of a hop we trust may have been written by the client
//! itself. So the client is the rightmost hop that is not one of our proxies, and the headers
//! count only when the TCP peer is one of them.

use crate::ip_policy::AllowList;
use std::net::IpAddr;

/// The client's address: `peer` itself unless `peer` is a trusted proxy, then the rightmost
/// untrusted hop of `Forwarded` (preferred) or `X-Forwarded-For`. Repeated header lines are
/// passed joined with commas, in order.
pub fn resolve(
    peer: IpAddr,
    forwarded: Option<&str>,
    x_forwarded_for: Option<&str>,
    trusted: &AllowList,
) -> IpAddr {
    if trusted.is_empty() || !trusted.contains(peer) {
        return peer;
    }
    let hops: Vec<&str> = match (forwarded, x_forwarded_for) {
        (Some(forwarded), _) => forwarded.split(',').filter_map(forwarded_for).collect(),
        (None, Some(xff)) => xff.split(',').collect(),
        (None, None) => return peer,
    };
    let mut client = peer;
    for hop in hops.iter().rev() {
        // A hop we cannot read (`unknown`, an obfuscated name) ends what we can vouch for: the
        // last proxy we trust is the best we know.
        let Some(address) = node_address(hop) else {
            return client;
        };
        client = address;
        if !trusted.contains(address) {
            return address;
        }
    }
    client
}

/// The network an address stands for when counting what one party does: an IPv4 address
/// itself, an IPv6 address's /64 (one subscriber or host usually holds a whole /64, so counting
/// single IPv6 addresses would give it 2^64 fresh starts).
pub fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let bits = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(std::net::Ipv6Addr::from(bits))
            }
        },
        v4 => v4,
    }
}

/// [`network`] for an address as text (the throttles' keys); text that is no address stays as
/// it is.
pub fn network_key(address: &str) -> String {
    match address.parse::<IpAddr>() {
        Ok(ip) => match network(ip) {
            IpAddr::V6(net) => format!("{net}/64"),
            v4 => v4.to_string(),
        },
        Err(_) => address.to_owned(),
    }
}

/// The `for=` value of one `Forwarded` element (`for=192.0.2.60;proto=http;by=203.0.113.43`).
fn forwarded_for(element: &str) -> Option<&str> {
    element.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        key.trim().eq_ignore_ascii_case("for").then_some(value)
    })
}

/// An address from a node: `192.0.2.60`, `"192.0.2.60:8080"`, `"[2001:db8::1]:4711"`, `::1`.
fn node_address(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Some(rest) = node.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    if let Ok(address) = node.parse() {
        return Some(address);
    }
    // IPv4 with a port; a bare IPv6 address has more than one colon and parsed above.
    let (host, port) = node.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    host.parse::<std::net::Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies() -> AllowList {
        AllowList::parse_list("10.0.0.0/8, 192.168.1.5").unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let peer = ip("203.0.113.9");
        assert_eq!(resolve(peer, None, Some("1.2.3.4"), &proxies()), peer);
        assert_eq!(resolve(peer, Some("for=1.2.3.4"), None, &proxies()), peer);
        assert_eq!(
            resolve(ip("10.1.1.1"), None, Some("1.2.3.4"), &AllowList::default()),
            ip("10.1.1.1")
        );
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let peer = ip("10.0.0.2");
        // The client forged the leftmost entry; our proxies appended the rest.
        let xff = "6.6.6.6, 198.51.100.7, 10.0.0.9";
        assert_eq!(
            resolve(peer, None, Some(xff), &proxies()),
            ip("198.51.100.7")
        );
        assert_eq!(
            resolve(peer, None, Some("10.0.0.3, 192.168.1.5"), &proxies()),
            ip("10.0.0.3")
        );
        assert_eq!(resolve(peer, None, None, &proxies()), peer);
    }

    #[test]
    fn forwarded_is_read_with_quotes_ports_and_ipv6_and_preferred() {
        let peer = ip("10.0.0.2");
        let forwarded = r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, For="198.51.100.7:8080";by=10.0.0.2"#;
        assert_eq!(
            resolve(peer, Some(forwarded), Some("9.9.9.9"), &proxies()),
            ip("198.51.100.7")
        );
        let forwarded = r#"for="[2001:db8:cafe::17]:4711", for=10.0.0.4"#;
        assert_eq!(
            resolve(peer, Some(forwarded), None, &proxies()),
            ip("2001:db8:cafe::17")
        );
    }

    #[test]
    fn ipv6_counts_by_its_64_and_ipv4_by_itself() {
        assert_eq!(network_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(network_key("2001:db8:1:2:ffff::9"), "2001:db8:1:2::/64");
        assert_ne!(
            network_key("2001:db8:1:3::1"),
            network_key("2001:db8:1:2::1")
        );
        assert_eq!(network_key("198.51.100.7"), "198.51.100.7");
        assert_eq!(network_key("::ffff:198.51.100.7"), "198.51.100.7");
        assert_eq!(network_key("unknown"), "unknown");
    }

    #[test]
    fn an_unreadable_hop_stops_at_the_last_trusted_proxy() {
        let peer = ip("10.0.0.2");
        assert_eq!(
            resolve(peer, Some("for=unknown, for=10.0.0.7"), None, &proxies()),
            ip("10.0.0.7")
        );
        assert_eq!(resolve(peer, None, Some("not-an-ip"), &proxies()), peer);
    }
}
