//! Standard Webhooks signing (<https://www.standardwebhooks.com>): every delivery carries
//! `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256>` over
//! `"{id}.{timestamp}.{body}"`, keyed with the partner's `whsec_…` secret, so partners can use any
//! Standard Webhooks library to check it. During a secret rotation both secrets sign, and the
//! header carries both signatures separated by a space.

use crate::FieldError;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::fmt;
use subtle::ConstantTimeEq;

/// Header carrying the message id; the same id on every retry so receivers can deduplicate.
pub const HEADER_ID: &str = "webhook-id";
/// Header carrying the signing time in whole seconds since the Unix epoch.
pub const HEADER_TIMESTAMP: &str = "webhook-timestamp";
/// Header carrying one or more space-separated `v1,<base64>` signatures.
pub const HEADER_SIGNATURE: &str = "webhook-signature";
/// How far a receiver's clock may be from the timestamp, the Standard Webhooks default.
pub const DEFAULT_TOLERANCE_S: i64 = 5 * 60;

const PREFIX: &str = "whsec_";
const VERSION: &str = "v1,";

/// A partner's signing secret: `whsec_` and the standard base64 (with padding) of 24 to 32
/// key bytes.
#[derive(Clone)]
pub struct WebhookSecret {
    text: String,
    // Keyed once when the secret is read, so the only fallible step is parsing and signing
    // itself needs no error path.
    mac: Hmac<Sha256>,
}

impl WebhookSecret {
    /// The field named when a stored or pasted secret does not parse.
    pub const FIELD: &'static str = "webhook_secret";
    pub const MIN_KEY_BYTES: usize = 24;
    pub const MAX_KEY_BYTES: usize = 32;

    /// A new secret with 32 random key bytes (256 bits, HMAC-SHA256's full strength).
    pub fn generate() -> Self {
        let mut key = [0u8; Self::MAX_KEY_BYTES];
        rand::rng().fill_bytes(&mut key);
        // HMAC zero-pads keys shorter than the hash block, so keying with the padded block is
        // the same MAC as keying with the 32 bytes, and needs no fallible constructor.
        let mut block = hmac::digest::Key::<Hmac<Sha256>>::default();
        block[..key.len()].copy_from_slice(&key);
        Self {
            text: format!("{PREFIX}{}", STANDARD.encode(key)),
            mac: <Hmac<Sha256> as hmac::digest::KeyInit>::new(&block),
        }
    }

    /// Reads a secret as stored or as a partner pasted it (surrounding spaces ignored). Errors
    /// never repeat the secret.
    pub fn parse(input: &str) -> Result<Self, FieldError> {
        let fail = |message: String| FieldError::new(Self::FIELD, message);
        let input = input.trim();
        let encoded = input
            .strip_prefix(PREFIX)
            .ok_or_else(|| fail(format!("must start with {PREFIX}")))?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| fail(format!("must be standard base64 after {PREFIX}")))?;
        if !(Self::MIN_KEY_BYTES..=Self::MAX_KEY_BYTES).contains(&key.len()) {
            return Err(fail(format!(
                "must hold {} to {} key bytes (this one holds {})",
                Self::MIN_KEY_BYTES,
                Self::MAX_KEY_BYTES,
                key.len()
            )));
        }
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&key)
            .map_err(|_| fail("is not a usable HMAC key".into()))?;
        Ok(Self {
            text: input.to_owned(),
            mac,
        })
    }

    /// The full `whsec_…` text, for storing and for showing to the Owner who reveals it.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    fn digest(&self, msg_id: &str, timestamp_s: i64, body: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(msg_id.as_bytes());
        mac.update(b".");
        mac.update(timestamp_s.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(whsec_<redacted>)")
    }
}

/// Compares in constant time so equality checks never leak how much of a secret matched.
impl PartialEq for WebhookSecret {
    fn eq(&self, other: &Self) -> bool {
        self.text.as_bytes().ct_eq(other.text.as_bytes()).into()
    }
}

impl Eq for WebhookSecret {}

/// One signature: `v1,<base64 HMAC-SHA256("{msg_id}.{timestamp_s}.{body}")>`.
pub fn sign(secret: &WebhookSecret, msg_id: &str, timestamp_s: i64, body: &[u8]) -> String {
    format!(
        "{VERSION}{}",
        STANDARD.encode(secret.digest(msg_id, timestamp_s, body))
    )
}

/// The `webhook-signature` header value: one signature per secret, space-separated, in the
/// order given (newest secret first during a rotation, by convention).
pub fn signature_header(
    secrets: &[&WebhookSecret],
    msg_id: &str,
    timestamp_s: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|secret| sign(secret, msg_id, timestamp_s, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Meta's `X-Hub-Signature-256` header: `sha256=` and the hex HMAC-SHA256 of the body, keyed
/// with the secret's text as given (Meta keys it with the app secret), so Cloud API SDKs verify
/// a number's messaging webhook deliveries as they verify Meta's.
pub fn hub_signature_256(secret: &WebhookSecret, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_str().as_bytes()) else {
        // HMAC takes keys of any length; this branch cannot be reached.
        return String::new();
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Why a delivery failed verification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the webhook timestamp is older than the tolerance")]
    TooOld,
    #[error("the webhook timestamp is further in the future than the tolerance")]
    TooNew,
    #[error("no v1 signature in the header matches")]
    NoMatchingSignature,
}

/// What a receiver does: the timestamp must be within `tolerance_s` of `now_s` (either way),
/// and at least one `v1,` entry of `header` must match. Other versions are ignored, as the
/// standard asks, so a header may mix schemes.
pub fn verify(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp_s: i64,
    body: &[u8],
    header: &str,
    now_s: i64,
    tolerance_s: i64,
) -> Result<(), VerifyError> {
    let tolerance = u64::try_from(tolerance_s).unwrap_or(0);
    if now_s.abs_diff(timestamp_s) > tolerance {
        return Err(if timestamp_s < now_s {
            VerifyError::TooOld
        } else {
            VerifyError::TooNew
        });
    }
    let expected = secret.digest(msg_id, timestamp_s, body);
    // Every candidate is checked (no early exit) so timing does not reveal which one matched.
    let mut matched = subtle::Choice::from(0);
    for candidate in header.split(' ').filter_map(|s| s.strip_prefix(VERSION)) {
        if let Ok(given) = STANDARD.decode(candidate) {
            matched |= expected.as_slice().ct_eq(&given);
        }
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(VerifyError::NoMatchingSignature)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_hub_signature_is_metas_known_answer() {
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            hub_signature_256(&secret, br#"{"test": 2432232314}"#),
            "sha256=80ec8a89ce3cd22133a1066caecb4d04fea7467657c8514d717ec42c38a5c94c"
        );
    }

    use super::*;
    use proptest::prelude::*;

    const KAT_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const KAT_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const KAT_TS: i64 = 1_614_265_330;
    const KAT_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const KAT_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn kat_secret() -> WebhookSecret {
        WebhookSecret::parse(KAT_SECRET).unwrap()
    }

    #[test]
    fn known_answer_from_the_standard() {
        assert_eq!(sign(&kat_secret(), KAT_ID, KAT_TS, KAT_BODY), KAT_SIGNATURE);
        assert_eq!(
            verify(
                &kat_secret(),
                KAT_ID,
                KAT_TS,
                KAT_BODY,
                KAT_SIGNATURE,
                KAT_TS,
                300
            ),
            Ok(())
        );
    }

    #[test]
    fn generated_secrets_have_the_standard_shape_and_differ() {
        let a = WebhookSecret::generate();
        let b = WebhookSecret::generate();
        assert_ne!(a, b);
        assert!(a.as_str().starts_with("whsec_"));
        assert_eq!(a.as_str().len(), "whsec_".len() + 44);
        assert_eq!(WebhookSecret::parse(a.as_str()), Ok(a.clone()));
        let key = STANDARD.decode(&a.as_str()["whsec_".len()..]).unwrap();
        assert_eq!(key.len(), 32);
        // The MAC keyed inside `generate` is the one `parse` builds from the text.
        let reparsed = WebhookSecret::parse(a.as_str()).unwrap();
        assert_eq!(
            sign(&a, KAT_ID, KAT_TS, KAT_BODY),
            sign(&reparsed, KAT_ID, KAT_TS, KAT_BODY)
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let secret = kat_secret();
        let shown = format!("{secret:?}");
        assert_eq!(shown, "WebhookSecret(whsec_<redacted>)");
        assert!(!shown.contains("MfKQ9r8"));
    }

    #[test]
    fn parse_trims_and_keeps_the_text() {
        let secret = WebhookSecret::parse(&format!("  {KAT_SECRET}\n")).unwrap();
        assert_eq!(secret.as_str(), KAT_SECRET);
        assert_eq!(secret, kat_secret());
    }

    #[test]
    fn malformed_secrets_are_refused_without_echoing_them() {
        let key24 = STANDARD.encode([7u8; 24]);
        let key32 = STANDARD.encode([7u8; 32]);
        assert!(WebhookSecret::parse(&format!("whsec_{key24}")).is_ok());
        assert!(WebhookSecret::parse(&format!("whsec_{key32}")).is_ok());
        let cases = [
            (
                KAT_SECRET.trim_start_matches("whsec_").to_owned(),
                "must start with whsec_",
            ),
            (format!("WHSEC_{key24}"), "must start with whsec_"),
            (
                "whsec_".to_owned(),
                "must hold 24 to 32 key bytes (this one holds 0)",
            ),
            (
                format!("whsec_{}", STANDARD.encode([1u8; 23])),
                "(this one holds 23)",
            ),
            (
                format!("whsec_{}", STANDARD.encode([1u8; 33])),
                "(this one holds 33)",
            ),
            (
                format!("whsec_{}", STANDARD.encode([1u8; 64])),
                "(this one holds 64)",
            ),
            (
                "whsec_not base64!!".to_owned(),
                "must be standard base64 after whsec_",
            ),
            (
                format!("whsec_{key24}="),
                "must be standard base64 after whsec_",
            ),
            (
                format!("whsec_{}", key32.trim_end_matches('=')),
                "must be standard base64 after whsec_",
            ),
            (
                format!("whsec_{}", key24.replace('/', "_").replace('+', "-")) + "_-",
                "must be standard base64 after whsec_",
            ),
        ];
        for (input, reason) in cases {
            let err = WebhookSecret::parse(&input).unwrap_err();
            assert_eq!(err.field, "webhook_secret");
            assert!(err.message.contains(reason), "{input}: {}", err.message);
            let key_text = input.trim_start_matches("whsec_");
            assert!(
                key_text.len() < 4 || !err.message.contains(key_text),
                "{}",
                err.message
            );
        }
    }

    #[test]
    fn rotation_header_carries_both_signatures_and_either_verifies() {
        let old = kat_secret();
        let new = WebhookSecret::generate();
        let header = signature_header(&[&new, &old], KAT_ID, KAT_TS, KAT_BODY);
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&new, KAT_ID, KAT_TS, KAT_BODY));
        assert_eq!(parts[1], KAT_SIGNATURE);
        assert_eq!(
            verify(&old, KAT_ID, KAT_TS, KAT_BODY, &header, KAT_TS, 300),
            Ok(())
        );
        assert_eq!(
            verify(&new, KAT_ID, KAT_TS, KAT_BODY, &header, KAT_TS, 300),
            Ok(())
        );
        let stranger = WebhookSecret::generate();
        assert_eq!(
            verify(&stranger, KAT_ID, KAT_TS, KAT_BODY, &header, KAT_TS, 300),
            Err(VerifyError::NoMatchingSignature)
        );
        assert_eq!(
            signature_header(&[&old], KAT_ID, KAT_TS, KAT_BODY),
            KAT_SIGNATURE
        );
        assert_eq!(signature_header(&[], KAT_ID, KAT_TS, KAT_BODY), "");
    }

    #[test]
    fn timestamps_outside_the_tolerance_are_refused_either_way() {
        let secret = kat_secret();
        let check = |now: i64| verify(&secret, KAT_ID, KAT_TS, KAT_BODY, KAT_SIGNATURE, now, 300);
        assert_eq!(check(KAT_TS + 300), Ok(()));
        assert_eq!(check(KAT_TS - 300), Ok(()));
        assert_eq!(check(KAT_TS + 301), Err(VerifyError::TooOld));
        assert_eq!(check(KAT_TS - 301), Err(VerifyError::TooNew));
        assert_eq!(check(i64::MAX), Err(VerifyError::TooOld));
        assert_eq!(check(i64::MIN), Err(VerifyError::TooNew));
        // A negative tolerance means "exactly now", not a panic or a pass.
        assert_eq!(
            verify(&secret, KAT_ID, KAT_TS, KAT_BODY, KAT_SIGNATURE, KAT_TS, -5),
            Ok(())
        );
        assert_eq!(
            verify(
                &secret,
                KAT_ID,
                KAT_TS,
                KAT_BODY,
                KAT_SIGNATURE,
                KAT_TS + 1,
                -5
            ),
            Err(VerifyError::TooOld)
        );
    }

    #[test]
    fn tampering_with_any_signed_part_is_detected() {
        let secret = kat_secret();
        let no = Err(VerifyError::NoMatchingSignature);
        let header = KAT_SIGNATURE;
        assert_eq!(
            verify(&secret, "msg_other", KAT_TS, KAT_BODY, header, KAT_TS, 300),
            no
        );
        assert_eq!(
            verify(&secret, KAT_ID, KAT_TS + 1, KAT_BODY, header, KAT_TS, 300),
            no
        );
        assert_eq!(
            verify(
                &secret,
                KAT_ID,
                KAT_TS,
                br#"{"test": 2432232315}"#,
                header,
                KAT_TS,
                300
            ),
            no
        );
    }

    #[test]
    fn headers_are_read_leniently_but_only_v1_counts() {
        let secret = kat_secret();
        let raw = KAT_SIGNATURE.trim_start_matches("v1,");
        let check = |header: &str| verify(&secret, KAT_ID, KAT_TS, KAT_BODY, header, KAT_TS, 300);
        assert_eq!(check(&format!("v1a,abc {KAT_SIGNATURE}")), Ok(()));
        assert_eq!(
            check(&format!("v1,bm90IGl0 {KAT_SIGNATURE} v2,zzz")),
            Ok(())
        );
        assert_eq!(check(&format!("v1,!!! {KAT_SIGNATURE}")), Ok(()));
        assert_eq!(check(&format!("  {KAT_SIGNATURE}  ")), Ok(()));
        let no = Err(VerifyError::NoMatchingSignature);
        assert_eq!(check(""), no);
        assert_eq!(check(raw), no);
        assert_eq!(check(&format!("v2,{raw}")), no);
        assert_eq!(check("v1,"), no);
        // A prefix of the right signature must not match.
        assert_eq!(check(&format!("v1,{}", STANDARD.encode([0u8; 31]))), no);
    }

    proptest! {
        #[test]
        fn what_is_signed_verifies(
            id in "msg_[A-Za-z0-9]{1,30}",
            ts in 0i64..4_000_000_000,
            body in proptest::collection::vec(any::<u8>(), 0..200),
            skew in -300i64..=300,
        ) {
            let secret = WebhookSecret::generate();
            let header = signature_header(&[&secret], &id, ts, &body);
            prop_assert_eq!(verify(&secret, &id, ts, &body, &header, ts + skew, 300), Ok(()));
            prop_assert!(header.starts_with("v1,"));
            prop_assert_eq!(header.len(), 3 + 44);
        }

        #[test]
        fn a_flipped_body_byte_never_verifies(
            body in proptest::collection::vec(any::<u8>(), 1..100),
            at: prop::sample::Index,
            flip in 1u8..=255,
        ) {
            let secret = kat_secret();
            let header = sign(&secret, KAT_ID, KAT_TS, &body);
            let mut tampered = body.clone();
            tampered[at.index(body.len())] ^= flip;
            prop_assert_eq!(
                verify(&secret, KAT_ID, KAT_TS, &tampered, &header, KAT_TS, 300),
                Err(VerifyError::NoMatchingSignature)
            );
        }

        #[test]
        fn verify_never_panics(header in ".{0,120}", now: i64, ts: i64, tolerance: i64) {
            let _ = verify(&kat_secret(), KAT_ID, ts, KAT_BODY, &header, now, tolerance);
        }

        #[test]
        fn secret_parse_never_panics(s in ".{0,60}") {
            let _ = WebhookSecret::parse(&s);
            let _ = WebhookSecret::parse(&format!("whsec_{s}"));
        }
    }
}
