//! Browser test in headless Chromium: a Member creates a client and adds a number through the
//! WhatsApp Accounts pages, enters the sandbox code, and sees the number running in the list.
//! Screenshots of the list and the details page land in `test-artifacts/`.

use std::time::{Duration, Instant};

use fantoccini::Locator;
use hub::services::accounts::{self, ClientRequest, NumberRequest};
use hub::services::audit::Actor;

use crate::support::app::{Backend, Options, PASSWORD, PartnerId, Role, TestApp, path_of};
use crate::support::browser::{self, Browser, click_button, wait_for_path};

const WAIT: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(100);

#[tokio::test]
async fn a_member_adds_a_number_in_the_browser_and_sees_it_running() {
    if !browser::required("accounts_browser") {
        return;
    }
    let app = TestApp::start(Backend::Sqlite, Options::default()).await;
    browser::run("accounts-browser", app, flow).await;
}

/// A few other numbers in several states, so the list looks like a partner's real one.
async fn background_numbers(app: &TestApp, demo: &PartnerId) {
    let partner = store::partners::get(app.state.db.pool(), demo)
        .await
        .unwrap()
        .unwrap();
    let request = ClientRequest::parse(
        "Globex Retail",
        Some("Globex Retail Ltd".into()),
        Some(20),
        None,
        store::clients::ContactInfo {
            email: Some("it@globex.test".into()),
            ..Default::default()
        },
        Default::default(),
        Default::default(),
    )
    .unwrap();
    let globex = accounts::create_client(&app.state, &partner, &request, &Actor::System)
        .await
        .unwrap();
    for (i, name) in ["Globex Sales", "Globex Care", "Globex Orders", "Globex HR"]
        .iter()
        .enumerate()
    {
        let number = NumberRequest::parse(&format!("+4415123456{i:02}"), name, None, None).unwrap();
        let channel =
            accounts::add_number(&app.state, &partner, &globex.id, &number, &Actor::System)
                .await
                .unwrap();
        app.clock.advance_ms(60_000);
        if i < 2 {
            settle(app).await;
            accounts::verify_number(
                &app.state,
                &partner,
                &globex.id,
                &channel.id,
                "000000",
                &Actor::System,
            )
            .await
            .unwrap();
        }
    }
    settle(app).await;
}

async fn settle(app: &TestApp) {
    for _ in 0..10 {
        if app.run_due_jobs().await == 0 {
            return;
        }
    }
}

async fn flow(app: &TestApp, browser: &Browser) {
    let demo = app.partner("Demo Partner").await;
    app.user("member@demo.test", "Max Member", &[(&demo, Role::Member)])
        .await;
    let accounts = format!("/partner/{demo}/accounts");

    browser.goto(&app.link("/login")).await;
    browser.fill("#email", "member@demo.test").await;
    browser.fill("#password", PASSWORD).await;
    click_button(browser, "Log in").await;
    wait_for_path(browser, &accounts).await;
    browser.wait_for_text("No WhatsApp numbers yet", WAIT).await;
    background_numbers(app, &demo).await;
    browser.goto(&app.link(&accounts)).await;

    // Create a client.
    browser
        .click(&format!(
            "a.button[href='/partner/{demo}/accounts/clients/new']"
        ))
        .await;
    wait_for_path(browser, &format!("{accounts}/clients/new")).await;
    browser.fill("#name", "Acme Shop").await;
    browser.fill("#organisation", "Acme Shop GmbH").await;
    browser.fill("#email", "ops@acme.test").await;
    browser.fill("#country", "DE").await;
    click_button(browser, "Create client").await;
    browser
        .wait_for_text("Client Acme Shop created. Now add its first number.", WAIT)
        .await;
    let here = path_of(&browser.current_url().await);
    assert!(
        here.starts_with(&format!("{accounts}/numbers/new?client=")),
        "after creating the client the add-number form opens; the browser is at {here}"
    );
    let chosen = browser
        .client
        .find(Locator::Css("select#client option:checked"))
        .await
        .expect("the client select has a chosen option")
        .text()
        .await
        .expect("cannot read the chosen client");
    assert_eq!(chosen, "Acme Shop", "the new client is preselected");

    // Add a number; a national number is refused inline and the display name stays.
    browser.fill("#phone_number", "0151 2345").await;
    browser.fill("#phone_name", "Acme Support").await;
    click_button(browser, "Add number").await;
    browser
        .wait_for_text("must be an international number", WAIT)
        .await;
    browser.screenshot("add-number-1280").await;
    browser.fill("#phone_number", "+49 1512 3456789").await;
    browser.fill("#phone_name", "Acme Support").await;
    click_button(browser, "Add number").await;
    browser
        .wait_for_text("Number added. The verification code is on its way", WAIT)
        .await;
    let details = path_of(&browser.current_url().await);
    assert!(
        details.starts_with(&format!("{accounts}/")) && details.ends_with("CH"),
        "the number's page opens; the browser is at {details}"
    );

    // The sandbox sends the code; the page updates by itself.
    settle(app).await;
    browser
        .wait_for_text("Enter the verification code", WAIT)
        .await;
    browser.fill("#code", "000000").await;
    click_button(browser, "Verify number").await;
    browser.wait_for_text("Code accepted.", WAIT).await;
    settle(app).await;

    // The number is running in the list.
    browser.goto(&app.link(&accounts)).await;
    let row = row_of(browser, "+49 1512 3456789").await;
    for part in ["Acme Support", "Acme Shop", "Running"] {
        assert!(
            row.contains(part),
            "the row shows {part:?}; it reads {row:?}"
        );
    }
    browser.screenshot("accounts-1280").await;

    // Its details, with a new API key shown once.
    browser.goto(&app.link(&details)).await;
    browser.wait_for_text("Generate API key", WAIT).await;
    click_button(browser, "Generate API key").await;
    browser
        .wait_for_text("Store it now; it will not be shown again.", WAIT)
        .await;
    // A tall window, so the screenshot shows the whole page down to the status history.
    browser.set_window_size(1280, 1700).await;
    browser.screenshot("number-details-1280").await;

    // Phone width: the list becomes cards.
    browser.set_window_size(390, 1400).await;
    browser.goto(&app.link(&accounts)).await;
    browser.wait_for_text("Acme Support", WAIT).await;
    browser.screenshot("accounts-phone").await;
    browser.goto(&app.link(&details)).await;
    browser.wait_for_text("Status history", WAIT).await;
    browser.screenshot("number-details-phone").await;
    browser.set_window_size(1280, 900).await;
}

async fn row_of(browser: &Browser, needle: &str) -> String {
    let xpath = format!("//tr[td[contains(., '{needle}')]]");
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(row) = browser.client.find(Locator::XPath(&xpath)).await {
            return row.text().await.unwrap_or_default();
        }
        assert!(
            Instant::now() < deadline,
            "no table row mentions {needle:?} at {}",
            browser.current_url().await
        );
        tokio::time::sleep(POLL).await;
    }
}
