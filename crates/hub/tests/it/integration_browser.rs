//! Browser test in headless Chromium: an Owner sets up the Integration tab — a refused URL is
//! explained inline and kept in the field, the saved webhook URL is tested (passing, then
//! failing, which rings the bell), and the Switch to Cloud API dialog walks storage choice →
//! confirmation → confirmation pop-up. Screenshots land in `test-artifacts/`.

use std::time::Duration;

use fantoccini::Locator;

use crate::support::app::{Backend, Options, PASSWORD, TestApp};
use crate::support::browser::{self, Browser, click_button, wait_for_path};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn an_owner_sets_up_webhooks_and_switches_to_the_cloud_api_in_the_browser() {
    if !browser::required("integration_browser") {
        return;
    }
    // Development mode: the webhook receiver is the Hub's own sink on plain http with a port.
    let app = TestApp::start(
        Backend::Sqlite,
        Options {
            dev: true,
            ..Options::default()
        },
    )
    .await;
    browser::run("integration-browser", app, flow).await;
}

async fn flow(app: &TestApp, browser: &Browser) {
    // A partner still on the legacy default, so Switch to Cloud API is offered.
    let demo = app
        .partner_named("Demo Partner")
        .with_owner("owner@demo.test", "Olivia Owner")
        .on_premise_default()
        .build()
        .await
        .id;
    let integration = format!("/partner/{demo}/integration");

    browser.goto(&app.link("/login")).await;
    browser.fill("#email", "owner@demo.test").await;
    browser.fill("#password", PASSWORD).await;
    click_button(browser, "Log in").await;
    // The login's own redirect must land before we navigate, or it overtakes our page.
    wait_for_path(browser, &format!("/partner/{demo}/accounts")).await;
    browser.goto(&app.link(&integration)).await;
    browser.wait_for_text("Partner webhook URL", WAIT).await;

    // A host with an underscore is refused, the message names it, the typed value stays.
    let bad = "https://my_host.example.com/hooks";
    browser.fill("#webhook_url", bad).await;
    save(browser, "#webhook").await;
    browser
        .wait_for_text("has a host name with an underscore", WAIT)
        .await;
    let kept = browser
        .client
        .find(Locator::Css("#webhook_url"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(
        kept.as_deref(),
        Some(bad),
        "the refused URL stays in the field"
    );

    // The Hub's own development sink as receiver: saved, then tested.
    let sink = app.link(&format!("/dev/webhook-sink/{demo}"));
    browser.fill("#webhook_url", &sink).await;
    save(browser, "#webhook").await;
    browser
        .wait_for_text(&format!("Partner webhook URL saved: {sink}"), WAIT)
        .await;
    click_button(browser, "Test").await;
    browser.wait_for_text("Test passed", WAIT).await;
    let result = browser.text("#webhook-test-result").await;
    assert!(
        result.contains("HTTP 200"),
        "the status code shows: {result}"
    );
    browser.screenshot("integration-test-passed").await;

    // The same sink answering 503: the test fails inline, and the bell counts it.
    let failing = format!("{sink}?status=503");
    browser.fill("#webhook_url", &failing).await;
    save(browser, "#webhook").await;
    browser
        .wait_for_text(&format!("{failing} replaces {sink}"), WAIT)
        .await;
    click_button(browser, "Test").await;
    browser.wait_for_text("Test failed", WAIT).await;
    let result = browser.text("#webhook-test-result").await;
    assert!(
        result.contains("HTTP 503"),
        "the status code shows: {result}"
    );
    assert_eq!(
        browser.text("#unread-count").await,
        "1",
        "the bell counts the failure"
    );
    browser.screenshot("integration-test-failed").await;

    // The failure is on the notifications page behind the bell.
    browser.click("#bell").await;
    wait_for_path(browser, &format!("/partner/{demo}/notifications")).await;
    browser.wait_for_text("Webhook test failed", WAIT).await;

    // Switch to Cloud API: storage choice, confirmation, confirmation pop-up.
    browser.goto(&app.link(&integration)).await;
    assert_eq!(browser.text("#hosting-type").await, "On-Premise");
    assert_eq!(
        browser.duplicate_ids().await,
        Vec::<String>::new(),
        "ids are unique"
    );
    browser.click("#switch-to-cloud").await;
    browser
        .wait_for_text("Where should new Cloud API numbers keep their data?", WAIT)
        .await;
    // Choosing a region is choosing local storage (issue 15, item 2): no second control.
    browser
        .client
        .find(Locator::Css(
            "#switch-dialog select[name='region'] option[value='DE']",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.screenshot("switch-to-cloud-storage").await;
    click_button(browser, "Continue").await;
    browser.wait_for_text("Switch to Cloud API?", WAIT).await;
    let dialog = browser.text("#switch-dialog").await;
    assert!(
        dialog.contains("EU (Germany)"),
        "the confirmation names the chosen region: {dialog}"
    );
    browser.click("#confirm-switch").await;
    browser
        .wait_for_text("You are on the Cloud API", WAIT)
        .await;
    browser.screenshot("switch-to-cloud-done").await;
    browser.click("#switch-done a.button").await;
    browser
        .wait_for_text("Default hosting platform type", WAIT)
        .await;
    assert_eq!(browser.text("#hosting-type").await, "Cloud API");
    assert_eq!(browser.text("#region-label").await, "EU (Germany)");
    let settings = store::partners::settings(app.state.db.pool(), &demo)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(settings.default_hosting_type, "cloud_api");
    assert_eq!(settings.default_data_storage_region.as_deref(), Some("DE"));

    // Phone width.
    browser.set_window_size(390, 1400).await;
    browser.goto(&app.link(&integration)).await;
    browser.wait_for_text("Webhook signing secret", WAIT).await;
    browser.screenshot("integration-phone").await;
    browser.set_window_size(1280, 900).await;
}

/// Press the Save button of the card `card`.
async fn save(browser: &Browser, card: &str) {
    browser
        .client
        .find(Locator::Css(&format!(
            "{card} form.code-form button[type='submit']"
        )))
        .await
        .unwrap_or_else(|e| panic!("no Save button in {card}: {e}"))
        .click()
        .await
        .unwrap();
}
