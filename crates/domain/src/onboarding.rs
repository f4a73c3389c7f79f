//! Integrated Onboarding rules that need no IO: reading the query string partners (and the
//! official connect button) put on `/dashboard/app/{partner_id}` — often unencoded —, writing
//! it back canonically so every step carries it, choosing where the client is sent at the end
//! without ever opening a redirect to a foreign site, writing that final URL in the documented
//! `?client=…&channels=[…]&revoked=[…]&state=…` shape, and whether a client may add numbers.

use crate::{ChannelId, ClientId, PaymentModel};
use url::{Host, Url};

/// Longest value kept for any parameter; longer ones are dropped (not cut), so a truncated
/// `redirect_url` or `state` can never be mistaken for the real one.
pub const MAX_VALUE_CHARS: usize = 2048;

/// Keys we read, plus keys the connect button may send that we only use as delimiters (their
/// values are not ours, but an unencoded value before them must end where they start).
const DELIMITER_KEYS: &[&str] = &[
    "number",
    "redirect_url",
    "state",
    "email",
    "name",
    "partner",
    "next",
    "plan_selection",
    "client_id",
    "flow",
    "io_signature",
    "io_timestamp",
    "preverified_phone_number_id",
    "lang",
];

/// The parameters of one onboarding visit, carried through every step.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OnboardingParams {
    /// A number the partner asks permission for (the `/permissions` flow).
    pub number: Option<String>,
    /// Where the partner wants the client back; checked against the partner's Redirect URL.
    pub redirect_url: Option<String>,
    /// The partner's opaque value, echoed in the final redirect.
    pub state: Option<String>,
    /// Prefill of the sign-up form.
    pub email: Option<String>,
    /// Prefill of the sign-up form.
    pub name: Option<String>,
    /// Stored as the new client's `partner_payload`.
    pub partner: Option<String>,
    /// `login` shows the log-in form first.
    pub next: Option<String>,
    /// The plan the partner preselected; carried and shown, not interpreted.
    pub plan_selection: Option<String>,
    /// Our own: which of the user's clients of this partner the visit is about.
    pub client_id: Option<String>,
}

impl OnboardingParams {
    /// Read a raw query string (without `?`). Tolerant by design: a value runs from its `key=`
    /// to the next `&` that starts a known key (so `redirect_url=https://x/cb?a=1&b=2` keeps
    /// `&b=2`), `%XX` escapes are decoded where valid and kept literally where not, and `+`
    /// stays a plus: encodeURIComponent (which the official button uses) never writes `+` for a
    /// space, while unencoded phone numbers, emails and base64 states carry real plus signs.
    /// The first occurrence of a key wins; empty and over-long values count as absent.
    pub fn parse(raw: &str) -> Self {
        let raw = raw.strip_prefix('?').unwrap_or(raw);
        let mut starts: Vec<(usize, &'static str)> = Vec::new();
        for (i, _) in raw.char_indices() {
            if i != 0 && raw.as_bytes().get(i - 1) != Some(&b'&') {
                continue;
            }
            let rest = &raw[i..];
            if let Some(key) = DELIMITER_KEYS.iter().find(|k| {
                rest.strip_prefix(**k)
                    .is_some_and(|after| after.starts_with('='))
            }) {
                starts.push((i, key));
            }
        }
        let mut params = OnboardingParams::default();
        for (n, (start, key)) in starts.iter().enumerate() {
            let value_start = start + key.len() + 1;
            let value_end = starts
                .get(n + 1)
                .map_or(raw.len(), |(next, _)| next.saturating_sub(1));
            let raw_value = raw
                .get(value_start..value_end.max(value_start))
                .unwrap_or("");
            let Some(value) = clean(&percent_decode(raw_value)) else {
                continue;
            };
            let slot = match *key {
                "number" => &mut params.number,
                "redirect_url" => &mut params.redirect_url,
                "state" => &mut params.state,
                "email" => &mut params.email,
                "name" => &mut params.name,
                "partner" => &mut params.partner,
                "next" => &mut params.next,
                "plan_selection" => &mut params.plan_selection,
                "client_id" => &mut params.client_id,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value);
            }
        }
        params
    }

    /// The canonical, fully encoded query string (without `?`), empty without parameters;
    /// [`OnboardingParams::parse`] reads it back unchanged.
    pub fn to_query(&self) -> String {
        let pairs = [
            ("number", &self.number),
            ("redirect_url", &self.redirect_url),
            ("state", &self.state),
            ("email", &self.email),
            ("name", &self.name),
            ("partner", &self.partner),
            ("next", &self.next),
            ("plan_selection", &self.plan_selection),
            ("client_id", &self.client_id),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", encode_component(v))))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// `?…` for a link, or nothing.
    pub fn query_suffix(&self) -> String {
        let query = self.to_query();
        if query.is_empty() {
            query
        } else {
            format!("?{query}")
        }
    }

    /// Whether the log-in form comes first.
    pub fn wants_login(&self) -> bool {
        self.next.as_deref() == Some("login")
    }

    /// The requested number in a shape a phone parser accepts: a plus lost on the way (a `+`
    /// that some encoder turned into a space) is put back.
    pub fn requested_number(&self) -> Option<String> {
        let number = self.number.as_deref()?.trim();
        if number.starts_with(|c: char| c.is_ascii_digit()) && !number.starts_with("00") {
            Some(format!("+{number}"))
        } else {
            Some(number.to_owned())
        }
    }
}

fn clean(value: &str) -> Option<String> {
    let value = value.trim();
    (!value.is_empty() && value.chars().count() <= MAX_VALUE_CHARS).then(|| value.to_owned())
}

/// Decode `%XX` escapes that are valid; keep everything else as written.
fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        if byte == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| hex_value(*b)),
                bytes.get(i + 2).and_then(|b| hex_value(*b)),
            )
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(byte);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Percent-encode everything but RFC 3986's unreserved characters (as encodeURIComponent does,
/// minus its few extra exceptions).
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Read a URL only when it is plainly an absolute `http(s)` URL: no spaces, control characters
/// or backslashes (browsers read `\` as `/`, so `https:\\evil` and `/\evil` are tricks), no
/// user name or password (`https://partner.example@evil.example`), and a host.
fn strict_url(raw: &str) -> Option<Url> {
    let raw = raw.trim();
    let lower = raw.to_ascii_lowercase();
    if !(lower.starts_with("https://") || lower.starts_with("http://"))
        || raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return None;
    }
    let mut url = Url::parse(raw).ok()?;
    if !matches!(url.scheme(), "http" | "https")
        || !url.username().is_empty()
        || url.password().is_some()
        || url.host().is_none()
    {
        return None;
    }
    url.set_fragment(None);
    Some(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Where the client goes at the end of the flow. `requested` (the `redirect_url` parameter) is
/// used only when it has the same origin (scheme, host, port) as the partner's saved Redirect
/// URL, `configured`; otherwise `configured` itself. In development mode (`dev`) a requested URL
/// on this machine (`localhost`, loopback addresses) or on the Hub's own origin (`hub`) is also
/// accepted, so the local connect button and the development partner site work without setup.
/// `None`: there is nowhere safe to go, and the client is told so instead.
pub fn redirect_base(
    requested: Option<&str>,
    configured: Option<&str>,
    dev: bool,
    hub: Option<&Url>,
) -> Option<Url> {
    let configured = configured.and_then(strict_url);
    let requested = requested.and_then(strict_url);
    if let Some(wanted) = requested {
        let same_origin = configured
            .as_ref()
            .is_some_and(|c| c.origin() == wanted.origin());
        let dev_local =
            dev && (is_loopback(&wanted) || hub.is_some_and(|h| h.origin() == wanted.origin()));
        if same_origin || dev_local {
            return Some(wanted);
        }
    }
    configured
}

/// The final redirect: `base` with `client=<id>&channels=[<id>,<id>]`, then `revoked=[…]` when
/// the client un-shared numbers and `state=…` when the partner sent one (partner-api.md).
pub fn redirect_with_result(
    base: &Url,
    client: &ClientId,
    channels: &[ChannelId],
    revoked: &[ChannelId],
    state: Option<&str>,
) -> String {
    let list = |ids: &[ChannelId]| {
        ids.iter()
            .map(ChannelId::as_str)
            .collect::<Vec<_>>()
            .join(",")
    };
    let separator = match base.query() {
        Some("") => "",
        Some(_) => "&",
        None => "?",
    };
    let mut out = format!("{}{separator}", base.as_str());
    out.push_str(&format!(
        "client={}&channels=[{}]",
        client.as_str(),
        list(channels)
    ));
    if !revoked.is_empty() {
        out.push_str(&format!("&revoked=[{}]", list(revoked)));
    }
    if let Some(state) = state {
        out.push_str(&format!("&state={}", encode_component(state)));
    }
    out
}

/// Whether a client may add new numbers through the onboarding flow. Partner-Payment partners
/// pay for every number, so they may turn that off ("Allow clients to add phone number"); then
/// existing clients only pick numbers they already have, while a client signing up right now
/// (`new_signup`) still adds its first numbers — otherwise it could never have any.
pub fn client_may_add_numbers(model: PaymentModel, partner_allows: bool, new_signup: bool) -> bool {
    match model {
        PaymentModel::DirectPayment => true,
        PaymentModel::PartnerPayment => partner_allows || new_signup,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(raw: &str) -> OnboardingParams {
        OnboardingParams::parse(raw)
    }

    #[test]
    fn unencoded_values_run_to_the_next_known_key() {
        let got = p("redirect_url=https://x.example/cb?a=1&b=2&state=a b&number=+49 151 2345678");
        assert_eq!(
            got.redirect_url.as_deref(),
            Some("https://x.example/cb?a=1&b=2")
        );
        assert_eq!(got.state.as_deref(), Some("a b"));
        assert_eq!(got.number.as_deref(), Some("+49 151 2345678"));
    }

    #[test]
    fn encoded_values_are_decoded_and_plus_stays_a_plus() {
        let got = p(
            "?email=ann%2Btag%40x.example&name=Ann%20Lee&state=ab+c%3D&partner=%7B%22a%22%3A1%7D",
        );
        assert_eq!(got.email.as_deref(), Some("ann+tag@x.example"));
        assert_eq!(got.name.as_deref(), Some("Ann Lee"));
        assert_eq!(got.state.as_deref(), Some("ab+c="));
        assert_eq!(got.partner.as_deref(), Some("{\"a\":1}"));
    }

    #[test]
    fn broken_escapes_stay_literal_and_unknown_keys_are_not_ours() {
        let got = p("state=100%&flow=x&next=login&plan_selection=basic&io_signature=zz");
        assert_eq!(got.state.as_deref(), Some("100%"));
        assert!(got.wants_login());
        assert_eq!(got.plan_selection.as_deref(), Some("basic"));
        assert_eq!(p("state=%E2%82%AC").state.as_deref(), Some("€"));
        assert_eq!(p("xstate=1&state=").state, None, "empty values are absent");
        assert_eq!(
            p("state=first&state=second").state.as_deref(),
            Some("first")
        );
        assert_eq!(p("").to_query(), "");
        assert_eq!(p("&&&=&state").state, None);
    }

    #[test]
    fn over_long_values_are_dropped_not_cut() {
        let long = "a".repeat(MAX_VALUE_CHARS + 1);
        assert_eq!(p(&format!("state={long}&name=x")).state, None);
        assert_eq!(
            p(&format!("state={long}&name=x")).name.as_deref(),
            Some("x")
        );
    }

    #[test]
    fn the_requested_number_gets_its_plus_back() {
        let with = |n: &str| OnboardingParams {
            number: Some(n.into()),
            ..Default::default()
        };
        assert_eq!(
            with("+4915123").requested_number().as_deref(),
            Some("+4915123")
        );
        assert_eq!(
            with("4915123").requested_number().as_deref(),
            Some("+4915123")
        );
        assert_eq!(
            with("0049151").requested_number().as_deref(),
            Some("0049151")
        );
    }

    const CONFIGURED: &str = "https://partner.example/onboarded";

    #[test]
    fn a_requested_url_of_the_same_origin_is_used() {
        let got = redirect_base(
            Some("https://partner.example/cb?x=1#frag"),
            Some(CONFIGURED),
            false,
            None,
        );
        assert_eq!(
            got.map(String::from).as_deref(),
            Some("https://partner.example/cb?x=1")
        );
        let explicit_port = redirect_base(
            Some("https://partner.example:443/cb"),
            Some(CONFIGURED),
            false,
            None,
        );
        assert_eq!(
            explicit_port.map(String::from).as_deref(),
            Some("https://partner.example/cb")
        );
    }

    #[test]
    fn open_redirect_attempts_fall_back_to_the_configured_url() {
        for evil in [
            "https://evil.example/cb",
            "http://partner.example/cb",
            "https://partner.example:8443/cb",
            "https://sub.partner.example/cb",
            "https://partner.example.evil.example/cb",
            "javascript:alert(1)",
            "JavaScript://partner.example/%0Aalert(1)",
            "data:text/html,<script>alert(1)</script>",
            "//evil.example/cb",
            "/\\evil.example",
            "https:\\\\evil.example",
            "https://partner.example\\@evil.example",
            "https://partner.example@evil.example/",
            "https://user:pw@partner.example/",
            "https://evil.example#https://partner.example",
            " https://evil.example",
            "https://evil.example/%0d%0aSet-Cookie:x",
            "/relative/path",
            "",
        ] {
            let got = redirect_base(Some(evil), Some(CONFIGURED), false, None);
            assert_eq!(got.map(String::from).as_deref(), Some(CONFIGURED), "{evil}");
            // Without a configured URL nothing foreign is ever accepted.
            assert_eq!(redirect_base(Some(evil), None, false, None), None, "{evil}");
        }
    }

    #[test]
    fn development_mode_also_trusts_this_machine_and_the_hub() {
        let hub: Url = "http://hub.test:8082/"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        for local in [
            "http://localhost:3000/cb",
            "http://127.0.0.1:9/x",
            "http://[::1]:5/",
        ] {
            assert!(
                redirect_base(Some(local), None, true, None).is_some(),
                "{local}"
            );
            assert_eq!(
                redirect_base(Some(local), None, false, None),
                None,
                "{local}"
            );
        }
        assert!(
            redirect_base(Some("http://hub.test:8082/dev/x"), None, true, Some(&hub)).is_some()
        );
        assert_eq!(
            redirect_base(Some("https://evil.example/"), None, true, Some(&hub)),
            None
        );
        assert_eq!(redirect_base(None, None, true, Some(&hub)), None);
    }

    #[test]
    fn the_final_url_has_the_documented_shape() {
        let client = ClientId::parse("abc123CL").unwrap_or_else(|_| unreachable!());
        let a = ChannelId::parse("aaaaaaCH").unwrap_or_else(|_| unreachable!());
        let b = ChannelId::parse("bbbbbbCH").unwrap_or_else(|_| unreachable!());
        let base: Url = "https://partner.example/cb"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(
            redirect_with_result(&base, &client, &[a.clone(), b.clone()], &[], None),
            "https://partner.example/cb?client=abc123CL&channels=[aaaaaaCH,bbbbbbCH]"
        );
        let with_query: Url = "https://partner.example/cb?x=1"
            .parse()
            .unwrap_or_else(|_| unreachable!());
        assert_eq!(
            redirect_with_result(&with_query, &client, &[a], &[b], Some("a b&c")),
            "https://partner.example/cb?x=1&client=abc123CL&channels=[aaaaaaCH]&revoked=[bbbbbbCH]&state=a%20b%26c"
        );
        assert_eq!(
            redirect_with_result(&base, &client, &[], &[], Some("s")),
            "https://partner.example/cb?client=abc123CL&channels=[]&state=s"
        );
    }

    #[test]
    fn only_partner_payment_partners_can_stop_existing_clients_adding_numbers() {
        assert!(client_may_add_numbers(
            PaymentModel::DirectPayment,
            false,
            false
        ));
        assert!(client_may_add_numbers(
            PaymentModel::PartnerPayment,
            true,
            false
        ));
        assert!(client_may_add_numbers(
            PaymentModel::PartnerPayment,
            false,
            true
        ));
        assert!(!client_may_add_numbers(
            PaymentModel::PartnerPayment,
            false,
            false
        ));
    }

    fn value() -> impl Strategy<Value = Option<String>> {
        proptest::option::of(
            "[ -~äé€]{1,40}"
                .prop_map(|s| s.trim().to_owned())
                .prop_filter("non-empty", |s| !s.is_empty()),
        )
    }

    proptest! {
        #[test]
        fn the_canonical_query_reads_back_unchanged(
            number in value(), redirect_url in value(), state in value(), email in value(),
            name in value(), partner in value(), next in value(), plan_selection in value(),
        ) {
            let params = OnboardingParams {
                number, redirect_url, state, email, name, partner, next, plan_selection,
                client_id: None,
            };
            prop_assert_eq!(OnboardingParams::parse(&params.to_query()), params);
        }

        #[test]
        fn unencoded_values_survive_when_they_hold_no_key_or_escape(
            url_tail in "[a-z0-9/?=:.+ ]{0,30}",
            state in "[a-zA-Z0-9 +/=?:]{1,30}",
        ) {
            let state = state.trim().to_owned();
            prop_assume!(!state.is_empty());
            let redirect = format!("https://p.example/{}", url_tail.trim());
            let raw = format!("redirect_url={redirect}&state={state}&next=login");
            let got = OnboardingParams::parse(&raw);
            prop_assert_eq!(got.redirect_url.as_deref(), Some(redirect.as_str()));
            prop_assert_eq!(got.state.as_deref(), Some(state.as_str()));
            prop_assert!(got.wants_login());
        }

        #[test]
        fn parsing_never_panics_and_a_foreign_redirect_is_never_chosen(raw in ".{0,200}") {
            let got = OnboardingParams::parse(&raw);
            if let Some(base) = redirect_base(got.redirect_url.as_deref(), Some(CONFIGURED), false, None) {
                prop_assert_eq!(base.origin(), Url::parse(CONFIGURED).map_err(|e| TestCaseError::fail(e.to_string()))?.origin());
            }
        }
    }
}
