//! Browser test in headless Chromium: a client user toggles its partner's permission in the
//! Client Hub (grant → Shared, revoke after the confirmation → Missing), asks to move to another
//! partner (withdraws that request and asks again), whose Owner accepts on the Partner Change page; then that Owner turns on automatic
//! approval and the next client's request moves at once. Screenshots land in `test-artifacts/`.

use std::time::Duration;

use crate::client_hub::{Partner, client_user, partner};
use crate::support::app::{Backend, Options, PASSWORD, TestApp};
use crate::support::browser::{self, Browser};
use crate::support::browser::{click_button, wait_for_path};
use domain::PaymentModel;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_client_toggles_permission_and_moves_to_a_partner_that_accepts_in_the_browser() {
    if !browser::required("client_hub_browser") {
        return;
    }
    let app = TestApp::start(Backend::Sqlite, Options::default()).await;
    browser::run("client-hub-browser", app, flow).await;
}

async fn login(app: &TestApp, browser: &Browser, email: &str) {
    browser.client.delete_all_cookies().await.unwrap();
    browser.goto(&app.link("/login")).await;
    browser.fill("#email", email).await;
    browser.fill("#password", PASSWORD).await;
    click_button(browser, "Log in").await;
}

/// Click a button whose form asks for confirmation, and confirm.
async fn click_and_confirm(browser: &Browser, css: &str) {
    browser.click(css).await;
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        match browser.client.accept_alert().await {
            Ok(()) => return,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(err) => panic!("no confirmation after clicking {css}: {err}"),
        }
    }
}

async fn flow(app: &TestApp, browser: &Browser) {
    let direct = partner(app, "Direct Partner", PaymentModel::DirectPayment).await;
    let next: Partner = partner(app, "Next Partner", PaymentModel::PartnerPayment).await;
    let acme = direct.client(app, "Acme Shoes").await;
    let number = direct.running_number(app, &acme, "+4915123458001").await;
    client_user(app, "clara@acme.test", &direct.id, &acme).await;
    let bella = direct.client(app, "Bella Pasta").await;
    direct.running_number(app, &bella, "+4915123458002").await;
    client_user(app, "bruno@bella.test", &direct.id, &bella).await;

    // The client lands in the Client Hub.
    login(app, browser, "clara@acme.test").await;
    wait_for_path(browser, &format!("/client/{acme}")).await;
    browser.wait_for_text("Your WhatsApp numbers", WAIT).await;
    let permission = format!("#permission-{number}");
    assert_eq!(browser.text(&permission).await, "Missing");
    browser.screenshot("client-hub-missing").await;

    // Grant, then revoke after the confirmation.
    browser.click(&format!("#grant-{number}")).await;
    browser.wait_for_text("may now create API keys", WAIT).await;
    assert_eq!(browser.text(&permission).await, "Shared");
    assert_eq!(
        direct.channel(app, &number).await["partner_permission"],
        "shared"
    );
    browser.screenshot("client-hub-shared").await;
    click_and_confirm(browser, &format!("#revoke-{number}")).await;
    browser.wait_for_text("Permission revoked", WAIT).await;
    assert_eq!(browser.text(&permission).await, "Missing");
    assert_eq!(
        direct.channel(app, &number).await["partner_permission"],
        "missing"
    );
    browser.screenshot("client-hub-revoked").await;

    // Ask to move to Next Partner.
    browser.fill("#target-partner", next.id.as_str()).await;
    click_and_confirm(browser, "#request-change").await;
    browser
        .wait_for_text("Waiting for the new partner", WAIT)
        .await;
    browser.screenshot("client-hub-change-requested").await;

    // Withdraw it after the confirmation, then ask again.
    let withdraw = browser.id("button[id^='withdraw-change-']").await;
    click_and_confirm(browser, &format!("#{withdraw}")).await;
    browser.wait_for_text("Request withdrawn", WAIT).await;
    browser.screenshot("client-hub-change-withdrawn").await;
    browser.fill("#target-partner", next.id.as_str()).await;
    click_and_confirm(browser, "#request-change").await;
    browser
        .wait_for_text("Waiting for the new partner", WAIT)
        .await;

    // Next Partner's Owner sees the bell and accepts on the Partner Change page.
    login(app, browser, &next.owner).await;
    wait_for_path(browser, &format!("/partner/{}/accounts", next.id)).await;
    // Asked, withdrawn, asked again.
    assert_eq!(browser.text("#unread-count").await, "3");
    browser.click("a[href$='/partner-change']").await;
    wait_for_path(browser, &format!("/partner/{}/partner-change", next.id)).await;
    browser.wait_for_text("Acme Shoes", WAIT).await;
    browser.screenshot("partner-change-incoming").await;
    let accept = browser.id("button[id^='accept-']").await;
    click_and_confirm(browser, &format!("#{accept}")).await;
    browser.wait_for_text("with 1 number.", WAIT).await;
    browser.screenshot("partner-change-accepted").await;
    assert_eq!(next.channel(app, &number).await["client_id"], acme.as_str());

    // Automatic approval on, then the next client's request moves at once.
    click_and_confirm(browser, "#toggle-auto-approve").await;
    browser
        .wait_for_text("Automatic approval is on", WAIT)
        .await;
    assert_eq!(browser.text("#auto-approve-state").await, "On");
    login(app, browser, "bruno@bella.test").await;
    wait_for_path(browser, &format!("/client/{bella}")).await;
    browser.fill("#target-partner", next.id.as_str()).await;
    click_and_confirm(browser, "#request-change").await;
    browser.wait_for_text("took over", WAIT).await;
    browser.wait_for_text("with Next Partner", WAIT).await;
    browser.screenshot("client-hub-auto-approved").await;
    let listed: serde_json::Value = next
        .api
        .get(next.url(app, "/channels"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["total"], 2);
}
