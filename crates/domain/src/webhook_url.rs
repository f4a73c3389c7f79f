//! The URLs a partner gives us to call: the partner webhook URL and the redirect URL. Both follow
//! the Cloud API rules (absolute `https`, no `_` in the host, no explicit `:port`), relaxed in
//! development mode so a newcomer can point them at `http://127.0.0.1:8082/…`.
//!
//! This is a form check with readable errors, not the SSRF guard: a public-looking host can
//! still resolve to a private address, which `ip_policy` refuses when the connector dials.

use crate::FieldError;
use std::fmt;
use std::net::IpAddr;
use url::{Host, Url};

/// An absolute URL that passed the webhook URL rules. Always has a host.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WebhookUrl(Url);

impl WebhookUrl {
    /// Longest accepted URL, in characters, before and after encoding.
    pub const MAX_LEN: usize = crate::limits::URL_CHARS;

    /// Reads a URL the partner typed or sent. `field` is named in errors; `dev_mode` also allows
    /// plain `http`, hosts on this machine (`localhost`, `127.0.0.1`, `[::1]`) and explicit ports.
    pub fn parse(input: &str, field: &'static str, dev_mode: bool) -> Result<Self, FieldError> {
        let fail = |message: String| FieldError::new(field, message);
        let input = input.trim();
        if input.is_empty() {
            return Err(fail("must not be empty".into()));
        }
        let chars = input.chars().count();
        if chars > Self::MAX_LEN {
            return Err(fail(format!(
                "must be at most {} characters (this one has {chars})",
                Self::MAX_LEN
            )));
        }
        // The url crate silently drops tabs and newlines and encodes spaces; a URL pasted with
        // those is almost always a copy mistake, so say so instead of calling something else.
        if input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("must not contain spaces or control characters".into()));
        }
        let url = Url::parse(input).map_err(|e| fail(explain(e)))?;

        let scheme = url.scheme();
        let scheme_ok = scheme == "https" || (dev_mode && scheme == "http");
        if !scheme_ok {
            let wanted = if dev_mode {
                "http:// or https://"
            } else {
                "https://"
            };
            return Err(fail(format!("must start with {wanted} (not {scheme}:)")));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(fail("must not contain a user name or password".into()));
        }
        let Some(host) = url.host() else {
            return Err(fail("must name a host".into()));
        };
        if let Host::Domain(name) = host
            && name.contains('_')
        {
            return Err(fail(format!(
                "has a host name with an underscore ({name}), which host names may not contain"
            )));
        }
        if !dev_mode {
            // The url crate forgets a default port ("https://h:443" becomes "https://h/"), so
            // the raw text is checked too: the Cloud API refuses any written port.
            if let Some(port) = written_port(input) {
                return Err(fail(format!("must not contain an explicit port (:{port})")));
            }
            if let Some(port) = url.port() {
                return Err(fail(format!("must not contain an explicit port (:{port})")));
            }
            if is_this_machine(&host) {
                return Err(fail(format!(
                    "points at this machine ({host}), which only development mode allows"
                )));
            }
        }
        if let Some(fragment) = url.fragment() {
            return Err(fail(format!("must not contain a fragment (#{fragment})")));
        }
        let encoded = url.as_str().chars().count();
        if encoded > Self::MAX_LEN {
            return Err(fail(format!(
                "must be at most {} characters once encoded (this one has {encoded})",
                Self::MAX_LEN
            )));
        }
        Ok(Self(url))
    }

    /// The normalised URL: lower-case scheme and host, punycode for international hosts,
    /// `/` for an empty path, default port dropped.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// The host as written in the URL: a domain (punycode), an IPv4 address, or an IPv6 address
    /// in brackets.
    pub fn host(&self) -> &str {
        self.0.host_str().unwrap_or_default()
    }

    /// `scheme://host[:port]`, the port only when it is not the scheme's default.
    pub fn origin(&self) -> String {
        self.0.origin().ascii_serialization()
    }

    /// The URL as records other than the setting itself keep it (the audit log): every query
    /// value replaced by `***`, since partners put access tokens there, and a part without `=`
    /// (`?s3cr3t`) replaced whole. Keys of `key=value` parts stay, so a reader still sees that a
    /// token changed place or name.
    pub fn redacted(&self) -> String {
        let mut url = self.0.clone();
        if let Some(query) = url.query() {
            let hidden = query
                .split('&')
                .map(|part| match part.split_once('=') {
                    Some((key, _)) => format!("{key}=***"),
                    None if part.is_empty() => String::new(),
                    None => "***".to_owned(),
                })
                .collect::<Vec<_>>()
                .join("&");
            url.set_query(Some(&hidden));
        }
        url.into()
    }

    /// The parsed form, for HTTP clients that take a `url::Url`.
    pub fn as_url(&self) -> &Url {
        &self.0
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for WebhookUrl {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

fn explain(error: url::ParseError) -> String {
    use url::ParseError::*;
    match error {
        RelativeUrlWithoutBase => {
            "must be an absolute URL, such as https://example.com/webhook".into()
        }
        EmptyHost => "must name a host".into(),
        InvalidPort => "has a port that is not a number from 0 to 65535".into(),
        IdnaError | InvalidDomainCharacter => "has a host name with characters not allowed".into(),
        InvalidIpv4Address => "has a host that is not a valid IPv4 address".into(),
        InvalidIpv6Address => "has a host that is not a valid IPv6 address".into(),
        other => format!("is not a valid URL ({other})"),
    }
}

/// The port text written after the host, if any, even an empty one (`https://h:/`). Follows
/// the WHATWG reading of special URLs: any mix of `/` and `\` after the scheme, authority up to
/// the first `/`, `\`, `?` or `#`, user info up to the last `@`.
fn written_port(input: &str) -> Option<&str> {
    let (_scheme, rest) = input.split_once(':')?;
    let rest = rest.trim_start_matches(['/', '\\']);
    let end = rest.find(['/', '\\', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    let host_port = authority
        .rsplit_once('@')
        .map_or(authority, |(_userinfo, host_port)| host_port);
    let after_host = match host_port.strip_prefix('[') {
        // An IPv6 literal is full of colons; only a colon after its `]` starts a port.
        Some(bracketed) => bracketed.split_once(']')?.1,
        None => host_port,
    };
    after_host.split_once(':').map(|(_host, port)| port)
}

/// Whether a host reaches the machine the Hub runs on. Other private addresses are left to the
/// connector's `ip_policy`, which also honours the operator's allow-list.
fn is_this_machine(host: &Host<&str>) -> bool {
    let ip = match host {
        Host::Domain(name) => {
            let name = name.strip_suffix('.').unwrap_or(name);
            return name == "localhost" || name.ends_with(".localhost");
        }
        Host::Ipv4(v4) => IpAddr::V4(*v4),
        Host::Ipv6(v6) => IpAddr::V6(*v6),
    };
    let ip = ip.to_canonical();
    ip.is_loopback() || ip.is_unspecified()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FIELD: &str = "webhook_url";

    fn prod(input: &str) -> Result<WebhookUrl, FieldError> {
        WebhookUrl::parse(input, FIELD, false)
    }

    fn dev(input: &str) -> Result<WebhookUrl, FieldError> {
        WebhookUrl::parse(input, FIELD, true)
    }

    #[test]
    fn redacted_hides_query_values_and_keeps_the_rest() {
        for (input, shown) in [
            (
                "https://hooks.example.com/in?token=s3cr3t&x=1",
                "https://hooks.example.com/in?token=***&x=***",
            ),
            (
                "https://hooks.example.com/in?s3cr3t",
                "https://hooks.example.com/in?***",
            ),
            (
                "https://hooks.example.com/in?a=&b=c%3Dd",
                "https://hooks.example.com/in?a=***&b=***",
            ),
            (
                "https://hooks.example.com/in",
                "https://hooks.example.com/in",
            ),
        ] {
            assert_eq!(prod(input).unwrap().redacted(), shown, "{input}");
        }
    }

    fn refused(result: Result<WebhookUrl, FieldError>) -> String {
        let err = result.unwrap_err();
        assert_eq!(err.field, FIELD);
        err.message
    }

    #[test]
    fn ordinary_https_urls_are_accepted_and_normalised() {
        let url = prod("https://partner.example.com/hooks/hub?token=abc").unwrap();
        assert_eq!(
            url.as_str(),
            "https://partner.example.com/hooks/hub?token=abc"
        );
        assert_eq!(url.host(), "partner.example.com");
        assert_eq!(url.origin(), "https://partner.example.com");
        assert_eq!(url.to_string(), url.as_str());
        assert_eq!(url.as_url().path(), "/hooks/hub");
        assert_eq!(
            prod("https://example.com").unwrap().as_str(),
            "https://example.com/"
        );
    }

    #[test]
    fn surrounding_whitespace_is_trimmed_but_inner_whitespace_is_refused() {
        let url = prod("  \thttps://example.com/hook\n ").unwrap();
        assert_eq!(url.as_str(), "https://example.com/hook");
        for bad in [
            "https://example.com/a b",
            "https://exam\tple.com/",
            "https://example.com/\nhook",
            "https://example.com/\u{0}",
            "https://example.com/\u{a0}x",
        ] {
            assert_eq!(
                refused(prod(bad)),
                "must not contain spaces or control characters"
            );
        }
    }

    #[test]
    fn empty_input_is_refused() {
        for bad in ["", "   ", "\n\t"] {
            assert_eq!(refused(prod(bad)), "must not be empty");
        }
    }

    #[test]
    fn uppercase_scheme_and_host_are_lowered() {
        let url = prod("HTTPS://Partner.EXAMPLE.com/Hook").unwrap();
        assert_eq!(url.as_str(), "https://partner.example.com/Hook");
        assert_eq!(url.origin(), "https://partner.example.com");
    }

    #[test]
    fn international_hosts_become_punycode() {
        let url = prod("https://bücher.example/hook").unwrap();
        assert_eq!(url.host(), "xn--bcher-kva.example");
        assert_eq!(url.as_str(), "https://xn--bcher-kva.example/hook");
        let url = prod("https://ПРИМЕР.рф/").unwrap();
        assert_eq!(url.host(), "xn--e1afmkfd.xn--p1ai");
    }

    #[test]
    fn ipv6_literals_are_accepted_in_brackets_without_port() {
        let url = prod("https://[2001:4860::8888]/hook").unwrap();
        assert_eq!(url.host(), "[2001:4860::8888]");
        assert_eq!(url.origin(), "https://[2001:4860::8888]");
        let url = prod("https://[2606:4700:0000:0000:0000:0000:0000:1111]/").unwrap();
        assert_eq!(url.host(), "[2606:4700::1111]");
        assert_eq!(
            refused(prod("https://[2001:4860::8888]:8443/")),
            "must not contain an explicit port (:8443)"
        );
        assert_eq!(
            refused(prod("https://[2001:4860::zz]/")),
            "has a host that is not a valid IPv6 address"
        );
    }

    #[test]
    fn only_https_outside_development_mode() {
        assert_eq!(
            refused(prod("http://example.com/")),
            "must start with https:// (not http:)"
        );
        assert_eq!(
            refused(prod("ftp://example.com/")),
            "must start with https:// (not ftp:)"
        );
        assert_eq!(
            refused(prod("javascript:alert(1)")),
            "must start with https:// (not javascript:)"
        );
        assert_eq!(
            refused(prod("JavaScript://example.com/%0Aalert(1)")),
            "must start with https:// (not javascript:)"
        );
        assert_eq!(
            refused(prod("data:text/html,<b>hi</b>")),
            "must start with https:// (not data:)"
        );
        assert_eq!(
            refused(dev("javascript:alert(1)")),
            "must start with http:// or https:// (not javascript:)"
        );
        assert_eq!(
            refused(dev("file:///etc/passwd")),
            "must start with http:// or https:// (not file:)"
        );
    }

    #[test]
    fn relative_urls_are_refused() {
        for bad in [
            "/hook",
            "example.com/hook",
            "//example.com/hook",
            "hook?x=1",
        ] {
            assert_eq!(
                refused(prod(bad)),
                "must be an absolute URL, such as https://example.com/webhook",
                "{bad}"
            );
        }
    }

    #[test]
    fn user_info_is_refused_even_in_development_mode() {
        for bad in [
            "https://user@example.com/",
            "https://user:secret@example.com/",
            "https://:secret@example.com/",
            "http://admin:admin@127.0.0.1:8082/",
        ] {
            assert_eq!(
                refused(dev(bad)),
                "must not contain a user name or password",
                "{bad}"
            );
        }
        // The message never repeats the password back.
        assert!(!refused(prod("https://u:hunter2@example.com/")).contains("hunter2"));
    }

    #[test]
    fn underscores_in_the_host_are_refused_with_the_host_named() {
        assert_eq!(
            refused(prod("https://my_host.example.com/hook")),
            "has a host name with an underscore (my_host.example.com), which host names may not contain"
        );
        assert_eq!(
            refused(dev("http://My_Host.local:8080/")),
            "has a host name with an underscore (my_host.local), which host names may not contain"
        );
        // A percent-encoded underscore is decoded into the host first, so it is caught too.
        assert_eq!(
            refused(prod("https://my%5Fhost.example.com/")),
            "has a host name with an underscore (my_host.example.com), which host names may not contain"
        );
        // Underscores elsewhere in the URL are fine.
        assert!(prod("https://example.com/my_hook?a_b=c_d").is_ok());
    }

    #[test]
    fn explicit_ports_are_refused_even_when_they_are_the_default() {
        let cases = [
            ("https://example.com:8443/hook", ":8443"),
            ("https://example.com:443/hook", ":443"),
            ("https://example.com:443", ":443"),
            ("https://example.com:0443/", ":0443"),
            ("https://example.com:/hook", ":"),
            ("https://example.com:443?x=1", ":443"),
            ("https://example.com:443#top", ":443"),
            ("HTTPS://EXAMPLE.COM:443/", ":443"),
            ("https:\\\\example.com:443\\hook", ":443"),
            ("https:example.com:443/", ":443"),
            ("https://[2001:4860::1]:443/", ":443"),
        ];
        for (input, port) in cases {
            assert_eq!(
                refused(prod(input)),
                format!("must not contain an explicit port ({port})"),
                "{input}"
            );
        }
        // Colons after the authority are not ports.
        assert!(prod("https://example.com/a:b?c=d:e").is_ok());
        assert_eq!(
            refused(prod("https://example.com:99999/")),
            "has a port that is not a number from 0 to 65535"
        );
    }

    #[test]
    fn development_mode_allows_http_loopback_and_ports() {
        let url = dev("http://127.0.0.1:8082/webhooks/partner").unwrap();
        assert_eq!(url.as_str(), "http://127.0.0.1:8082/webhooks/partner");
        assert_eq!(url.host(), "127.0.0.1");
        assert_eq!(url.origin(), "http://127.0.0.1:8082");
        assert_eq!(
            dev("http://localhost:3000/").unwrap().origin(),
            "http://localhost:3000"
        );
        assert_eq!(
            dev("http://[::1]:8082/").unwrap().origin(),
            "http://[::1]:8082"
        );
        // A default port is dropped by normalisation, in development mode too.
        assert_eq!(
            dev("https://example.com:443/").unwrap().as_str(),
            "https://example.com/"
        );
        // The other rules still apply.
        assert!(dev("http://127.0.0.1:8082/#frag").is_err());
    }

    #[test]
    fn this_machine_is_refused_outside_development_mode() {
        for (input, host) in [
            ("https://localhost/hook", "localhost"),
            ("https://LOCALHOST./hook", "localhost."),
            ("https://api.localhost/hook", "api.localhost"),
            ("https://127.0.0.1/hook", "127.0.0.1"),
            ("https://127.1.2.3/hook", "127.1.2.3"),
            ("https://0x7f.1/hook", "127.0.0.1"),
            ("https://2130706433/hook", "127.0.0.1"),
            ("https://0.0.0.0/hook", "0.0.0.0"),
            ("https://[::1]/hook", "[::1]"),
            ("https://[::]/hook", "[::]"),
            ("https://[::ffff:127.0.0.1]/hook", "[::ffff:7f00:1]"),
        ] {
            assert_eq!(
                refused(prod(input)),
                format!("points at this machine ({host}), which only development mode allows"),
                "{input}"
            );
        }
        assert!(prod("https://localhost.example.com/").is_ok());
        assert!(prod("https://mylocalhost/").is_ok());
    }

    #[test]
    fn fragments_are_refused_with_the_fragment_named() {
        assert_eq!(
            refused(prod("https://example.com/hook#section")),
            "must not contain a fragment (#section)"
        );
        assert_eq!(
            refused(prod("https://example.com/hook#")),
            "must not contain a fragment (#)"
        );
    }

    #[test]
    fn a_host_is_required() {
        assert_eq!(refused(prod("https://")), "must name a host");
        assert_eq!(refused(prod("https:///")), "must name a host");
        assert_eq!(refused(prod("https://?x=1")), "must name a host");
    }

    #[test]
    fn length_is_capped_at_2048_characters() {
        let base = "https://example.com/";
        let exactly = format!("{base}{}", "a".repeat(WebhookUrl::MAX_LEN - base.len()));
        assert_eq!(exactly.len(), 2048);
        assert!(prod(&exactly).is_ok());
        let over = format!("{exactly}a");
        assert_eq!(
            refused(prod(&over)),
            "must be at most 2048 characters (this one has 2049)"
        );
        // Characters, not bytes, before encoding; but the encoded form is capped too.
        let wide = format!("{base}{}", "é".repeat(1000));
        assert_eq!(
            refused(prod(&wide)),
            "must be at most 2048 characters once encoded (this one has 6020)"
        );
    }

    #[test]
    fn serializes_as_the_normalised_string() {
        let url = prod("HTTPS://Example.com/hook").unwrap();
        assert_eq!(
            serde_json::to_string(&url).unwrap(),
            "\"https://example.com/hook\""
        );
    }

    #[test]
    fn written_port_reads_the_raw_authority() {
        assert_eq!(written_port("https://h:1/"), Some("1"));
        assert_eq!(written_port("https://u:p@h/"), None);
        assert_eq!(written_port("https://u:p@h:2/"), Some("2"));
        assert_eq!(written_port("https://[::1]/"), None);
        assert_eq!(written_port("https://[::1]:3/"), Some("3"));
        assert_eq!(written_port("https://h/p:4"), None);
        assert_eq!(written_port("https://h?q=:5"), None);
        assert_eq!(written_port("no-colon"), None);
    }

    #[test]
    fn broken_punycode_is_refused_not_accepted() {
        assert!(prod("https://a.xn--/hook").is_err());
        assert!(prod("https://xn--.example.com/hook").is_err());
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,80}", dev_mode: bool) {
            let _ = WebhookUrl::parse(&s, FIELD, dev_mode);
        }

        #[test]
        fn parse_never_panics_on_url_shaped_input(
            s in "(https?|HTTPS|javascript|ftp):(//)?[a-z0-9_@:.\\[\\]%/\\\\?#-]{0,40}",
            dev_mode: bool,
        ) {
            let _ = WebhookUrl::parse(&s, FIELD, dev_mode);
        }

        #[test]
        fn every_explicit_port_is_refused_in_production(port: u16) {
            let message = refused(prod(&format!("https://example.com:{port}/hook")));
            prop_assert_eq!(message, format!("must not contain an explicit port (:{port})"));
            let ok = dev(&format!("https://example.com:{port}/hook"));
            prop_assert!(ok.is_ok());
        }

        #[test]
        fn accepted_urls_obey_every_rule_and_reparse_to_themselves(
            // No label starts with `x`: "xn--…" is punycode, which must also decode to be a
            // host at all (the generator found "a.xn--").
            host in "[a-wyz][a-z0-9-]{0,20}(\\.[a-wyz][a-z0-9-]{0,20}){1,3}",
            path in "(/[A-Za-z0-9_.~-]{0,12}){0,4}",
            query in "(\\?[a-z0-9=&_]{0,20})?",
        ) {
            let input = format!("https://{host}{path}{query}");
            let url = prod(&input).unwrap();
            prop_assert_eq!(url.host(), host.as_str());
            prop_assert!(url.as_str().starts_with("https://"));
            prop_assert!(url.as_url().port().is_none());
            prop_assert!(url.as_url().fragment().is_none());
            prop_assert!(url.as_url().username().is_empty());
            prop_assert_eq!(prod(url.as_str()), Ok(url.clone()));
        }

        #[test]
        fn hosts_with_an_underscore_are_always_refused(
            left in "[a-z0-9]{0,10}",
            right in "[a-z0-9]{0,10}",
            dev_mode: bool,
        ) {
            let host = format!("{left}_{right}.example.com");
            let err = WebhookUrl::parse(&format!("https://{host}/"), FIELD, dev_mode).unwrap_err();
            prop_assert_eq!(err.message, format!("has a host name with an underscore ({host}), which host names may not contain"));
        }
    }
}
