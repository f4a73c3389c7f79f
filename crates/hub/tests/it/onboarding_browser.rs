//! Browser test in headless Chromium: the development partner site's "Connect" button opens
//! Integrated Onboarding in a popup; the client signs up, adds a number, verifies it with the
//! sandbox code, shares it, and the partner's redirect page hands the ids back to the opener,
//! which shows them. Also the popup steps shared with `connect_button_browser`. Screenshots
//! land in `test-artifacts/`.

use std::time::{Duration, Instant};

use fantoccini::wd::WindowHandle;
use tokio_util::sync::CancellationToken;

use crate::support::app::{Backend, Options, PASSWORD, TestApp};
use crate::support::browser::{self, Browser};

pub(crate) const WAIT: Duration = Duration::from_secs(15);

/// Move the sandbox on by itself, as the workers would (tests run none).
pub(crate) fn run_jobs_in_background(app: &TestApp) -> CancellationToken {
    let stop = CancellationToken::new();
    let token = stop.clone();
    let state = app.state.clone();
    tokio::spawn(async move {
        while !token.is_cancelled() {
            let _ = hub::jobs::run_due(&state).await;
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    stop
}

/// The window that is not `main`, once the popup has opened.
pub(crate) async fn popup(browser: &Browser, main: &WindowHandle) -> WindowHandle {
    let deadline = Instant::now() + WAIT;
    loop {
        let windows = browser.client.windows().await.unwrap();
        if let Some(other) = windows.into_iter().find(|w| w != main) {
            return other;
        }
        assert!(
            Instant::now() < deadline,
            "the onboarding popup did not open"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// In the popup: sign up, add `phone`, verify it with 000000, share. `shots` prefixes the
/// screenshots. Ends when the share form is sent (the popup then leaves for the partner).
pub(crate) async fn onboard_in_popup(browser: &Browser, email: &str, phone: &str, shots: &str) {
    browser.wait_for_text("Create your account", WAIT).await;
    browser.screenshot(&format!("{shots}-signup")).await;
    browser.fill("#signup-name", "Ann Lee").await;
    browser.fill("#signup-email", email).await;
    browser.fill("#signup-password", PASSWORD).await;
    browser.fill("#signup-company", "Ann's Shop").await;
    browser.click("#signup-form button[type='submit']").await;

    browser.wait_for_text("Your WhatsApp numbers", WAIT).await;
    browser.fill("#phone_number", phone).await;
    browser.fill("#phone_name", "Ann's Shop").await;
    browser
        .click("#add-number-form button[type='submit']")
        .await;
    // The page reloads by itself until the sandbox has sent the code.
    browser
        .wait_for_text("Verification code sent to", WAIT)
        .await;
    browser.screenshot(&format!("{shots}-verify")).await;
    browser
        .fill(".code-form input[name='code']", "000000")
        .await;
    browser.click(".code-form button[type='submit']").await;
    browser.wait_for_text("is verified", WAIT).await;

    browser.click("#continue").await;
    browser.wait_for_text("Share with", WAIT).await;
    browser.screenshot(&format!("{shots}-share")).await;
    browser.click("#share-submit").await;
}

/// Wait until `script` (returning a string) gives a non-empty answer in the current window.
pub(crate) async fn wait_for_script(browser: &Browser, script: &str, what: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = browser
            .client
            .execute(script, Vec::new())
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        if !value.is_empty() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what} did not arrive");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The client and channels the partner's page received match the database: a client of
/// `partner` whose channels those are.
pub(crate) async fn assert_result_is_in_db(
    app: &TestApp,
    partner: &domain::PartnerId,
    result: &serde_json::Value,
) {
    let client = result["client"].as_str().expect("client id");
    let channels: Vec<String> = result["channels"]
        .as_array()
        .expect("channels")
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let stored: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM channels WHERE partner_id = $1 AND client_id = $2 AND partner_permission = 'shared' ORDER BY id",
    )
    .bind(partner.as_str())
    .bind(client)
    .fetch_all(app.state.db.pool())
    .await
    .unwrap();
    assert!(
        !stored.is_empty(),
        "the client {client} has shared channels of the partner"
    );
    let mut got = channels.clone();
    got.sort();
    assert_eq!(got, stored);
}

#[tokio::test]
async fn the_dev_partner_site_connects_a_new_client_through_the_popup() {
    if !browser::required("onboarding_browser") {
        return;
    }
    let app = TestApp::start(
        Backend::Sqlite,
        Options {
            dev: true,
            ..Options::default()
        },
    )
    .await;
    browser::run("onboarding-browser", app, async |app, browser| {
        let _jobs = run_jobs_in_background(app).drop_guard();
        dev_site_flow(app, browser).await;
    })
    .await;
}

async fn dev_site_flow(app: &TestApp, browser: &Browser) {
    let demo = app.partner("Demo Partner").await;
    browser
        .goto(&app.link(&format!("/dev/partner-site/{demo}")))
        .await;
    browser.wait_for_text("Example partner site", WAIT).await;
    let main = browser.client.window().await.unwrap();
    browser.click("#connect").await;
    let popup = popup(browser, &main).await;
    browser.client.switch_to_window(popup).await.unwrap();
    onboard_in_popup(
        browser,
        "ann@site.test",
        "+4915123457101",
        "onboarding-dev-site",
    )
    .await;

    browser.client.switch_to_window(main).await.unwrap();
    let json = wait_for_script(
        browser,
        "return document.getElementById('site-json').textContent;",
        "the result on the partner site",
    )
    .await;
    browser.screenshot("onboarding-dev-site-result").await;
    let result: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(result["state"], "dev-site", "state came back");
    assert_result_is_in_db(app, &demo, &result).await;
    let shown = browser.text("#site-client").await;
    assert_eq!(shown, result["client"].as_str().unwrap());

    // Outside development mode the partner site does not exist.
    let plain = TestApp::start(Backend::Sqlite, Options::default()).await;
    let res = plain
        .client()
        .get(plain.link(&format!("/dev/partner-site/{demo}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    plain.finish().await;
}
