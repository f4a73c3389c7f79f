//! Which IP addresses outgoing webhook deliveries may connect to. The delivery connector resolves
//! a host, asks `may_connect` about every address, and dials only the approved ones, so the
//! address checked is the address dialled (no DNS rebinding window).
//!
//! The IPv6 rule is an allow-list on purpose: only global unicast space (2000::/3) minus its
//! special-purpose blocks is public, plus the IPv4-embedding spellings whose embedded address is
//! public. Anything IANA has not handed out to the public internet is refused, so a future
//! special-purpose block outside 2000::/3 cannot become an SSRF hole.

use crate::FieldError;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is an ordinary internet address. False for every private, loopback,
/// link-local, shared (CGNAT), multicast, documentation, benchmarking, reserved and other
/// special-purpose address, in any of its IPv6 spellings (IPv4-mapped, IPv4-compatible,
/// NAT64, 6to4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

/// The connector's verdict: operators' allow-listed ranges (a test server on 127.0.0.1, an
/// internal partner gateway) or any public address.
pub fn may_connect(ip: IpAddr, allow: &AllowList) -> bool {
    allow.contains(ip) || is_public(ip)
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let special = a == 0 // "this network"
        || a == 10
        || (a == 100 && (b & 0xC0) == 64) // 100.64/10, shared address space (CGNAT)
        || a == 127
        || (a == 169 && b == 254)
        || (a == 172 && (b & 0xF0) == 16) // 172.16/12
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast
        || (a == 192 && b == 168)
        || (a == 198 && (b & 0xFE) == 18) // 198.18/15, benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast 224/4, reserved 240/4 and the broadcast address
    !special
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    // 64:ff9b:1::/48 is local-use NAT64 (RFC 8215): translated by a private gateway, so the
    // embedded address says nothing about where the packet ends up.
    if s[0] == 0x64 && s[1] == 0xff9b && s[2] == 1 {
        return false;
    }
    let global_unicast = (s[0] & 0xE000) == 0x2000;
    if !global_unicast {
        // Covers ::, ::1, discard 100::/64, unique-local fc00::/7, link-local fe80::/10,
        // site-local fec0::/10, multicast ff00::/8 and all unassigned space.
        return false;
    }
    // 2001::/23 holds IETF protocol assignments (Teredo, ORCHID, benchmarking, …), none of
    // which is a place a partner receives webhooks; RIR allocations start at 2001:200::.
    let ietf_assignment = s[0] == 0x2001 && s[1] < 0x0200;
    // 2001:db8::/32, and 3fff::/20 added by RFC 9637.
    let documentation =
        (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && (s[1] & 0xF000) == 0);
    !(ietf_assignment || documentation)
}

/// The IPv4 address an IPv6 spelling stands for, when the packet would really go there:
/// IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, well-known NAT64
/// `64:ff9b::a.b.c.d` and 6to4 `2002:AABB:CCDD::/48`.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let o = ip.octets();
    let low = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    let high_zero = |n: usize| s[..n].iter().all(|&seg| seg == 0);
    if high_zero(5) && s[5] == 0xffff {
        return Some(low); // mapped
    }
    if high_zero(6) {
        return Some(low); // compatible, including :: and ::1 (0.0.0.0 and 0.0.0.1, both refused)
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6].iter().all(|&seg| seg == 0) {
        return Some(low);
    }
    if s[0] == 0x2002 {
        return Some(Ipv4Addr::new(o[2], o[3], o[4], o[5]));
    }
    None
}

/// An address range such as `10.0.0.0/8` or `::1/128`. A bare address is a host route.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// The configuration field allow-list entries come from; named in parse errors.
    pub const FIELD: &'static str = "webhook_allow_list";

    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let input = input.trim();
        let fail = |why: &str| FieldError::new(Self::FIELD, format!("\"{input}\" {why}"));
        let (addr_text, prefix_text) = match input.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (input, None),
        };
        let network: IpAddr = addr_text
            .parse()
            .map_err(|_| fail("is not an IP address or a range such as 10.0.0.0/8"))?;
        let max = max_prefix(network);
        let prefix = match prefix_text {
            None => max,
            // Digits only: `u8::from_str` would also take "+8".
            Some(p) if (1..=3).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) => p
                .parse::<u8>()
                .ok()
                .filter(|&n| n <= max)
                .ok_or_else(|| fail(&format!("has a prefix length above {max}")))?,
            Some(_) => return Err(fail(&format!("needs a prefix length from 0 to {max}"))),
        };
        let masked = mask(network, prefix);
        if masked != network {
            // Refused rather than silently widened: "10.1.2.3/8" is more often a typo for
            // "/32" than a deliberate request to allow all of 10/8.
            return Err(fail(&format!(
                "has bits set after the first {prefix}; did you mean {masked}/{prefix}?"
            )));
        }
        Ok(Self { network, prefix })
    }

    pub fn network(&self) -> IpAddr {
        self.network
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` lies in the range. An IPv4-mapped IPv6 address counts as its IPv4 address,
    /// because dialling either reaches the same host.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.contains_exact(ip) || self.contains_exact(ip.to_canonical())
    }

    fn contains_exact(&self, ip: IpAddr) -> bool {
        let same_family = ip.is_ipv4() == self.network.is_ipv4();
        same_family && mask(ip, self.prefix) == self.network
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

fn max_prefix(ip: IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

fn mask(ip: IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let kept = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V4(Ipv4Addr::from(bits & kept))
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let kept = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            IpAddr::V6(Ipv6Addr::from(bits & kept))
        }
    }
}

/// The operator-configured ranges deliveries may reach even though they are not public.
/// Empty by default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList(pub Vec<Cidr>);

impl AllowList {
    /// Reads a list separated by commas and/or whitespace, e.g. `"10.0.0.0/8, 127.0.0.1"`.
    /// An empty or blank input is the empty list.
    pub fn parse_list(input: &str) -> Result<Self, FieldError> {
        input
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
            .map(Cidr::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|cidr| cidr.contains(ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn entries(&self) -> &[Cidr] {
        &self.0
    }
}

impl fmt::Display for AllowList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, cidr) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{cidr}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn mapped(v4: Ipv4Addr) -> IpAddr {
        IpAddr::V6(v4.to_ipv6_mapped())
    }

    fn compatible(v4: Ipv4Addr) -> IpAddr {
        IpAddr::V6(v4.to_ipv6_compatible())
    }

    fn nat64(v4: Ipv4Addr) -> IpAddr {
        let [a, b, c, d] = v4.octets();
        IpAddr::V6(Ipv6Addr::new(
            0x64,
            0xff9b,
            0,
            0,
            0,
            0,
            u16::from_be_bytes([a, b]),
            u16::from_be_bytes([c, d]),
        ))
    }

    fn six_to_four(v4: Ipv4Addr, subnet: u16, host: u64) -> IpAddr {
        let [a, b, c, d] = v4.octets();
        let h = host.to_be_bytes();
        IpAddr::V6(Ipv6Addr::new(
            0x2002,
            u16::from_be_bytes([a, b]),
            u16::from_be_bytes([c, d]),
            subnet,
            u16::from_be_bytes([h[0], h[1]]),
            u16::from_be_bytes([h[2], h[3]]),
            u16::from_be_bytes([h[4], h[5]]),
            u16::from_be_bytes([h[6], h[7]]),
        ))
    }

    const REFUSED_V4: &[&str] = &[
        "0.0.0.0",
        "0.255.255.255",
        "10.0.0.0",
        "10.255.255.255",
        "100.64.0.0",
        "100.127.255.255",
        "127.0.0.1",
        "127.255.255.254",
        "169.254.169.254", // cloud metadata
        "169.254.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.1",
        "192.0.0.255",
        "192.0.2.1",
        "192.88.99.1",
        "192.168.0.1",
        "192.168.255.255",
        "198.18.0.1",
        "198.19.255.255",
        "198.51.100.7",
        "203.0.113.9",
        "224.0.0.1",
        "239.255.255.255",
        "240.0.0.1",
        "254.255.255.255",
        "255.255.255.255",
    ];

    const PUBLIC_V4: &[&str] = &[
        "1.1.1.1",
        "8.8.8.8",
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "126.255.255.255",
        "128.0.0.0",
        "169.253.255.255",
        "169.255.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.1.1",
        "192.0.3.1",
        "192.88.98.1",
        "192.88.100.1",
        "192.167.255.255",
        "192.169.0.0",
        "198.17.255.255",
        "198.20.0.0",
        "198.51.99.1",
        "198.51.101.1",
        "203.0.112.1",
        "203.0.114.1",
        "223.255.255.255",
    ];

    const REFUSED_V6: &[&str] = &[
        "::",
        "::1",
        "100::1",                   // discard-only
        "100::ffff:ffff:ffff:ffff", // discard-only, last address
        "fc00::1",
        "fd12:3456:789a::1",
        "fe80::1",
        "febf:ffff::1",
        "fec0::1", // deprecated site-local
        "ff02::1",
        "ff0e::1",
        "2001:db8::1",
        "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
        "3fff::1",
        "3fff:fff:ffff::1",
        "2001::1",                 // Teredo
        "2001:0:4136:e378::1",     // Teredo
        "2001:10::1",              // ORCHID
        "2001:1f:ffff::1",         // ORCHID
        "2001:20::1",              // ORCHIDv2
        "2001:2f:ffff::1",         // ORCHIDv2
        "2001:2::1",               // benchmarking
        "64:ff9b:1::1",            // local-use NAT64
        "64:ff9b:1:ffff::8.8.8.8", // local-use NAT64, even with a public IPv4 inside
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "::ffff:169.254.169.254",
        "::127.0.0.1",
        "::10.0.0.1",
        "64:ff9b::127.0.0.1",
        "64:ff9b::a9fe:a9fe", // 169.254.169.254
        "64:ff9b::192.168.1.1",
        "2002:7f00:1::1",  // 6to4 of 127.0.0.1
        "2002:a00:1::1",   // 6to4 of 10.0.0.1
        "2002:c0a8:101::", // 6to4 of 192.168.1.1
        "5f00::1",         // SRv6 SIDs, outside global unicast
        "4000::1",         // unassigned
        "8000::1",         // unassigned
    ];

    const PUBLIC_V6: &[&str] = &[
        "2606:4700:4700::1111",
        "2a00:1450:4001:81c::200e",
        "2001:200::1", // first RIR block after 2001::/23
        "2001:4860::8888",
        "2001:db7:ffff::1",
        "2001:db9::1",
        "3ffe::1",
        "3fff:1000::1",
        "2003::1",
        "::ffff:8.8.8.8",
        "::8.8.8.8",
        "64:ff9b::8.8.8.8",
        "2002:808:808::1", // 6to4 of 8.8.8.8
    ];

    #[test]
    fn special_purpose_ipv4_is_refused() {
        for s in REFUSED_V4 {
            assert!(!is_public(ip(s)), "{s}");
        }
    }

    #[test]
    fn ordinary_ipv4_is_public_including_the_neighbours_of_every_block() {
        for s in PUBLIC_V4 {
            assert!(is_public(ip(s)), "{s}");
        }
    }

    #[test]
    fn special_purpose_ipv6_is_refused() {
        for s in REFUSED_V6 {
            assert!(!is_public(ip(s)), "{s}");
        }
    }

    #[test]
    fn ordinary_ipv6_is_public() {
        for s in PUBLIC_V6 {
            assert!(is_public(ip(s)), "{s}");
        }
    }

    #[test]
    fn every_ipv6_spelling_of_a_refused_ipv4_is_refused() {
        for s in REFUSED_V4 {
            let v4: Ipv4Addr = s.parse().unwrap();
            assert!(!is_public(mapped(v4)), "mapped {s}");
            assert!(!is_public(compatible(v4)), "compatible {s}");
            assert!(!is_public(nat64(v4)), "nat64 {s}");
            assert!(!is_public(six_to_four(v4, 1, 1)), "6to4 {s}");
        }
    }

    #[test]
    fn allow_list_lets_tests_and_operators_reach_private_ranges() {
        let allow = AllowList::parse_list("10.0.0.0/8, 127.0.0.1").unwrap();
        assert_eq!(allow.entries().len(), 2);
        assert!(may_connect(ip("127.0.0.1"), &allow));
        assert!(may_connect(ip("::ffff:127.0.0.1"), &allow));
        assert!(may_connect(ip("10.200.3.4"), &allow));
        assert!(!may_connect(ip("127.0.0.2"), &allow));
        assert!(!may_connect(ip("192.168.1.1"), &allow));
        assert!(!may_connect(ip("::1"), &allow));
        assert!(may_connect(ip("8.8.8.8"), &allow));
        assert!(may_connect(ip("8.8.8.8"), &AllowList::default()));
        assert!(!may_connect(ip("10.0.0.1"), &AllowList::default()));
    }

    #[test]
    fn allow_lists_parse_commas_spaces_and_nothing() {
        assert!(AllowList::parse_list("").unwrap().is_empty());
        assert!(AllowList::parse_list("  , ,").unwrap().is_empty());
        let list = AllowList::parse_list("::1/128 fd00::/8,\n192.168.0.0/16,").unwrap();
        let shown: Vec<String> = list.entries().iter().map(|c| c.to_string()).collect();
        assert_eq!(shown, ["::1/128", "fd00::/8", "192.168.0.0/16"]);
        let err = AllowList::parse_list("10.0.0.0/8, nonsense").unwrap_err();
        assert_eq!(err.field, Cidr::FIELD);
        assert!(err.message.contains("\"nonsense\""), "{}", err.message);
    }

    #[test]
    fn cidrs_parse_ranges_and_bare_addresses() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert_eq!((c.network(), c.prefix()), (ip("10.0.0.0"), 8));
        assert_eq!(
            Cidr::parse(" 127.0.0.1 ").unwrap().to_string(),
            "127.0.0.1/32"
        );
        assert_eq!(Cidr::parse("::1").unwrap().to_string(), "::1/128");
        assert_eq!(Cidr::parse("::1/128").unwrap().to_string(), "::1/128");
        assert_eq!(Cidr::parse("0.0.0.0/0").unwrap().to_string(), "0.0.0.0/0");
        assert_eq!(Cidr::parse("::/0").unwrap().to_string(), "::/0");
        assert_eq!(Cidr::parse("fe80::/10").unwrap().prefix(), 10);
    }

    #[test]
    fn bad_cidrs_are_refused_with_a_reason() {
        let cases = [
            ("", "is not an IP address"),
            ("10.0.0.0/", "needs a prefix length from 0 to 32"),
            ("10.0.0.0/+8", "needs a prefix length from 0 to 32"),
            ("10.0.0.0/-1", "needs a prefix length from 0 to 32"),
            ("10.0.0.0/0008", "needs a prefix length from 0 to 32"),
            ("10.0.0.0/8/8", "needs a prefix length from 0 to 32"),
            ("10.0.0.0/33", "has a prefix length above 32"),
            ("10.0.0.0/256", "has a prefix length above 32"),
            ("::/129", "has a prefix length above 128"),
            ("10.0.0/8", "is not an IP address"),
            ("10.0.0.256", "is not an IP address"),
            ("localhost", "is not an IP address"),
            ("[::1]", "is not an IP address"),
            ("10.1.2.3/8", "did you mean 10.0.0.0/8?"),
            ("fe80::1/10", "did you mean fe80::/10?"),
        ];
        for (input, reason) in cases {
            let err = Cidr::parse(input).unwrap_err();
            assert_eq!(err.field, Cidr::FIELD);
            assert!(err.message.contains(reason), "{input}: {}", err.message);
            assert!(
                err.message.contains(&format!("\"{input}\"")),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn ipv4_ranges_do_not_contain_ipv6_and_back() {
        let all_v4 = Cidr::parse("0.0.0.0/0").unwrap();
        let all_v6 = Cidr::parse("::/0").unwrap();
        assert!(all_v4.contains(ip("255.255.255.255")));
        assert!(!all_v4.contains(ip("2001:db8::1")));
        assert!(all_v4.contains(ip("::ffff:1.2.3.4"))); // same host as 1.2.3.4
        assert!(all_v6.contains(ip("2001:db8::1")));
        assert!(!all_v6.contains(ip("1.2.3.4")));
    }

    fn any_v4() -> impl Strategy<Value = Ipv4Addr> {
        any::<u32>().prop_map(Ipv4Addr::from)
    }

    proptest! {
        #[test]
        fn all_of_ten_slash_eight_is_refused(rest in 0u32..(1 << 24)) {
            let v4 = Ipv4Addr::from((10u32 << 24) | rest);
            prop_assert!(!is_public(IpAddr::V4(v4)));
            prop_assert!(!is_public(mapped(v4)));
            prop_assert!(!is_public(nat64(v4)));
        }

        #[test]
        fn all_of_loopback_link_local_and_cgnat_are_refused(rest in 0u32..(1 << 16), which in 0..3) {
            let base: u32 = match which {
                0 => 0x7F00_0000 | (rest << 8), // 127/8 (spread over its upper bits)
                1 => 0xA9FE_0000 | rest,        // 169.254/16
                _ => 0x6440_0000 | (rest << 6), // 100.64/10
            };
            prop_assert!(!is_public(IpAddr::V4(Ipv4Addr::from(base))));
        }

        #[test]
        fn ipv6_spellings_agree_with_plain_ipv4(v4 in any_v4(), subnet: u16, host: u64) {
            let plain = is_public(IpAddr::V4(v4));
            prop_assert_eq!(is_public(mapped(v4)), plain);
            prop_assert_eq!(is_public(compatible(v4)), plain);
            prop_assert_eq!(is_public(nat64(v4)), plain);
            prop_assert_eq!(is_public(six_to_four(v4, subnet, host)), plain);
        }

        #[test]
        fn ipv6_outside_global_unicast_is_never_public(bits: u128) {
            let v6 = Ipv6Addr::from(bits);
            let first = v6.segments()[0];
            let embeds_v4 = embedded_v4(v6).is_some();
            if (first & 0xE000) != 0x2000 && !embeds_v4 {
                prop_assert!(!is_public(IpAddr::V6(v6)));
            }
        }

        #[test]
        fn unique_local_link_local_multicast_and_teredo_are_refused(low: u128, which in 0..5) {
            let (prefix, len): (u128, u32) = match which {
                0 => (0xfc00 << 112, 7),
                1 => (0xfe80 << 112, 10),
                2 => (0xff00 << 112, 8),
                3 => (0x2001_0000 << 96, 32),
                _ => (0x2001_0db8 << 96, 32),
            };
            let host_bits = u128::MAX >> len;
            let v6 = Ipv6Addr::from(prefix | (low & host_bits));
            prop_assert!(!is_public(IpAddr::V6(v6)), "{}", v6);
        }

        #[test]
        fn a_cidr_contains_exactly_the_addresses_sharing_its_prefix(net: u32, prefix in 0u8..=32, probe: u32) {
            let kept = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            let network = Ipv4Addr::from(net & kept);
            let cidr = Cidr::parse(&format!("{network}/{prefix}")).unwrap();
            let expected = (probe & kept) == (net & kept);
            prop_assert_eq!(cidr.contains(IpAddr::V4(Ipv4Addr::from(probe))), expected);
            prop_assert!(cidr.contains(IpAddr::V4(network)));
            prop_assert_eq!(Cidr::parse(&cidr.to_string()), Ok(cidr));
        }

        #[test]
        fn ipv6_cidrs_round_trip_and_contain_their_network(net: u128, prefix in 0u8..=128, probe: u128) {
            let kept = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            let network = Ipv6Addr::from(net & kept);
            let cidr = Cidr::parse(&format!("{network}/{prefix}")).unwrap();
            prop_assert_eq!(Cidr::parse(&cidr.to_string()), Ok(cidr));
            prop_assert!(cidr.contains(IpAddr::V6(network)));
            let expected = (probe & kept) == (net & kept);
            let probe = Ipv6Addr::from(probe);
            // A mapped probe may also match as IPv4 only if the range is IPv4; here it is IPv6.
            prop_assert_eq!(cidr.contains_exact(IpAddr::V6(probe)), expected);
        }

        #[test]
        fn cidr_parse_never_panics(s in ".{0,50}") {
            let _ = Cidr::parse(&s);
            let _ = AllowList::parse_list(&s);
        }

        #[test]
        fn host_routes_contain_only_themselves(a: u32, b: u32) {
            let cidr = Cidr::parse(&Ipv4Addr::from(a).to_string()).unwrap();
            prop_assert_eq!(cidr.contains(IpAddr::V4(Ipv4Addr::from(b))), a == b);
        }
    }
}
