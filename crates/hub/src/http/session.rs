//! Session cookies. The cookie holds a random token; the database holds its hash. Partner users
//! and staff use different cookies so neither session can open the other's screens.

use crate::config::Config;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use time::Duration;

pub fn user_cookie(config: &Config) -> &'static str {
    if config.is_https() {
        "__Host-ph_session"
    } else {
        "ph_session"
    }
}

pub fn staff_cookie(config: &Config) -> &'static str {
    if config.is_https() {
        "__Host-ph_staff"
    } else {
        "ph_staff"
    }
}

const FLASH: &str = "ph_flash";

pub fn session_cookie(
    config: &Config,
    name: &'static str,
    token: &str,
    ttl_ms: i64,
) -> Cookie<'static> {
    Cookie::build((name, token.to_owned()))
        .path("/")
        .http_only(true)
        .secure(config.is_https())
        .same_site(SameSite::Lax)
        .max_age(Duration::milliseconds(ttl_ms))
        .build()
}

pub fn removal(config: &Config, name: &'static str) -> Cookie<'static> {
    Cookie::build((name, ""))
        .path("/")
        .http_only(true)
        .secure(config.is_https())
        .same_site(SameSite::Lax)
        .max_age(Duration::ZERO)
        .build()
}

/// Remember a one-line message for the next page (post/redirect/get).
pub fn set_flash(jar: CookieJar, config: &Config, message: &str) -> CookieJar {
    let encoded: String = url::form_urlencoded::byte_serialize(message.as_bytes()).collect();
    jar.add(
        Cookie::build((FLASH, encoded))
            .path("/")
            .http_only(true)
            .secure(config.is_https())
            .same_site(SameSite::Lax)
            .max_age(Duration::minutes(5))
            .build(),
    )
}

/// Read and forget the pending message, if any.
pub fn take_flash(jar: CookieJar, config: &Config) -> (CookieJar, Option<String>) {
    let Some(cookie) = jar.get(FLASH) else {
        return (jar, None);
    };
    let message = url::form_urlencoded::parse(format!("m={}", cookie.value()).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .filter(|m| !m.is_empty() && m.len() <= 500);
    let jar = jar.add(
        Cookie::build((FLASH, ""))
            .path("/")
            .http_only(true)
            .secure(config.is_https())
            .same_site(SameSite::Lax)
            .max_age(Duration::ZERO)
            .build(),
    );
    (jar, message)
}

/// A `next` target is followed only when it is a path on this site (no open redirects).
pub fn safe_next(next: Option<&str>) -> Option<String> {
    let next = next?;
    // Browsers drop tabs and newlines from a URL and read `\` as `/`, so `/<TAB>/evil` is
    // `//evil` to them: a target with any of these is refused rather than cleaned up.
    if next
        .chars()
        .any(|c| c.is_control() || c == '\\' || c == ' ')
    {
        return None;
    }
    // An encoded slash or backslash at the start turns into `//` at the next hop that decodes it.
    let head = next.get(..4).unwrap_or(next).to_ascii_lowercase();
    if !next.starts_with('/') || next.starts_with("//") || head == "/%2f" || head == "/%5c" {
        return None;
    }
    // Judge the target as a browser does (WHATWG parsing), and hand back the path it will ask
    // for: it must stay on our origin.
    let base = url::Url::parse("https://hub.invalid/").ok()?;
    let joined = base.join(next).ok()?;
    (joined.origin() == base.origin()).then(|| joined[url::Position::BeforePath..].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_next_targets_are_followed() {
        assert_eq!(
            safe_next(Some("/partner/abcdefPA/users")).as_deref(),
            Some("/partner/abcdefPA/users")
        );
        for bad in [
            "https://evil.test",
            "//evil.test",
            "/\\evil.test",
            "javascript:alert(1)",
            "",
            // What browsers read as another host once they drop tabs and newlines and take `\`
            // for `/` (WHATWG URL parsing), and what a later hop may decode into it.
            "/\t/evil.example",
            "/\n/evil.example",
            "\t//evil.example",
            "/\r\n/evil.example",
            "\\\\evil.example",
            "/\\\\evil.example",
            "/%2F%2Fevil.example",
            "/%2f/evil.example",
            "/%5Cevil.example",
            "/%5c%5cevil.example",
            " //evil.example",
        ] {
            assert_eq!(safe_next(Some(bad)), None, "{bad:?}");
        }
        // Local paths keep their query, and come back as the browser will request them.
        assert_eq!(
            safe_next(Some("/partner/abcdefPA/accounts?q=a%20b&page=2")).as_deref(),
            Some("/partner/abcdefPA/accounts?q=a%20b&page=2")
        );
        assert_eq!(safe_next(Some("/a/../b")).as_deref(), Some("/b"));
    }
}
