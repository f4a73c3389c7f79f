//! Browser test in headless Chromium: a client user brings a number that is live at another
//! provider from the Client Hub — number and display name, request the code, (the sandbox sends
//! it), a wrong code refused, the right one — and the number runs with the partner, migrated,
//! in the partner's default hosting. Screenshots land in `test-artifacts/`.

use std::time::Duration;

use crate::client_hub::{client_user, partner};
use crate::support::app::{Backend, Options, PASSWORD, TestApp};
use crate::support::browser::{self, Browser};
use crate::support::browser::{click_button, wait_for_path};
use domain::PaymentModel;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_client_migrates_a_number_in_the_browser() {
    if !browser::required("migration_browser") {
        return;
    }
    let app = TestApp::start(Backend::Sqlite, Options::default()).await;
    browser::run("migration-browser", app, flow).await;
}

async fn flow(app: &TestApp, browser: &Browser) {
    let demo = partner(app, "Migrating Partner", PaymentModel::PartnerPayment).await;
    let acme = demo.client(app, "Acme Shoes").await;
    client_user(app, "clara@acme.test", &demo.id, &acme).await;

    browser.goto(&app.link("/login")).await;
    browser.fill("#email", "clara@acme.test").await;
    browser.fill("#password", PASSWORD).await;
    click_button(browser, "Log in").await;
    wait_for_path(browser, &format!("/client/{acme}")).await;

    browser
        .click(&format!("a[href='/client/{acme}/migrate']"))
        .await;
    wait_for_path(browser, &format!("/client/{acme}/migrate")).await;
    browser.wait_for_text("Bring your number", WAIT).await;
    browser.screenshot("migration-number").await;

    // A number that is not E.164 is refused inline and the typed values stay.
    browser.fill("#migration-number", "12345").await;
    browser.fill("#migration-name", "Acme Shoes Berlin").await;
    click_button(browser, "Request code").await;
    browser.wait_for_text("Phone number", WAIT).await;
    assert!(!browser.text("#phone-number-error").await.is_empty());

    browser.fill("#migration-number", "+4915123459001").await;
    click_button(browser, "Request code").await;
    browser
        .wait_for_text("We are asking WhatsApp to send the migration code", WAIT)
        .await;
    let url = browser.current_url().await;
    let channel = url
        .rsplit('/')
        .next()
        .expect("the channel id ends the URL")
        .to_owned();
    assert_eq!(
        demo.channel(app, &channel).await["status"],
        "migration_requested"
    );
    browser.screenshot("migration-requested").await;

    // The sandbox sends the code (a job); the page, opened again, asks for it.
    app.run_due_jobs().await;
    browser.goto(&url).await;
    browser
        .wait_for_text("Enter it to move the number", WAIT)
        .await;
    browser.fill("#code", "123456").await;
    click_button(browser, "Move my number").await;
    browser.wait_for_text("4 of 5 attempts left", WAIT).await;
    assert!(!browser.text("#code-error").await.is_empty());
    browser.screenshot("migration-wrong-code").await;

    browser.fill("#code", "000000").await;
    click_button(browser, "Move my number").await;
    browser.wait_for_text("now runs with", WAIT).await;
    browser.screenshot("migration-done").await;
    let moved = demo.channel(app, &channel).await;
    assert_eq!(moved["status"], "running");
    assert_eq!(moved["is_migrated"], true);
    assert_eq!(moved["hosting_type"], "cloud_api");
    assert_eq!(moved["client_id"], acme.as_str());
    assert_eq!(moved["setup_info"]["phone_number"], "+4915123459001");
}
