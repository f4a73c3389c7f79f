//! A new user's walk at phone width (390 px), in headless Chromium (issue 15): every list fits
//! the screen (item 8), a brand name far too long comes back to its field (item 3), and a person
//! changes their password from the user menu (item 9). Screenshots land in `test-artifacts/`.

use crate::support::app::{Backend, Options, PASSWORD, TestApp, path_of};
use crate::support::browser::{self, Browser, click_button, wait_for_path};
use crate::support::fixtures::running_channel;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn a_new_user_walks_the_hub_on_a_phone() {
    if !browser::required("walk_browser") {
        return;
    }
    let options = Options {
        dev: true,
        ..Options::default()
    };
    let app = TestApp::start(Backend::Sqlite, options).await;
    browser::run("walk-browser", app, flow).await;
}

/// What overflows the screen: the page itself, or a table's frame; with the widths.
async fn overflow(browser: &Browser) -> serde_json::Value {
    browser
        .client
        .execute(
            "const width = window.innerWidth;
             const out = [];
             if (document.documentElement.scrollWidth > width + 1)
               out.push('page is ' + document.documentElement.scrollWidth + ' px wide');
             for (const table of document.querySelectorAll('main table, .content table')) {
               const frame = table.closest('.table-wrap') || table;
               const box = frame.getBoundingClientRect();
               if (box.right > width + 1 || box.left < -1)
                 out.push('table ' + (table.id || table.className || 'table') + ' spans ' + Math.round(box.left) + '..' + Math.round(box.right));
               // Nothing hides behind a sideways scroll inside the frame either.
               if (frame.scrollWidth > frame.clientWidth + 1)
                 out.push('table ' + (table.id || 'table') + ' needs ' + frame.scrollWidth + ' px in a ' + frame.clientWidth + ' px frame');
               const first = table.querySelector('tbody tr td');
               if (first) {
                 const cell = first.getBoundingClientRect();
                 if (cell.left < box.left - 1 || cell.left > width)
                   out.push('first column of ' + (table.id || 'table') + ' is off screen');
               }
             }
             return out;",
            vec![],
        )
        .await
        .unwrap()
}

async fn flow(app: &TestApp, browser: &Browser) {
    let demo = app
        .partner_named("Phone Partner")
        .with_owner("owner@phone.test", "Olivia Owner-With-A-Long-Name")
        .with_member("member@phone.test", "Max Member")
        .with_api_key()
        .build()
        .await;
    let p = demo.id.clone();
    let sink = app.link(&format!("/dev/webhook-sink/{p}"));
    store::webhooks::set_webhook_url(app.state.db.pool(), &p, Some(&sink))
        .await
        .unwrap();
    for (client, phone) in [
        ("Acme Shoes International Holding GmbH", "+4915123456701"),
        ("Blue Bottle Coffee Roasters", "+4915123456702"),
        ("Chez Marie Boulangerie", "+33612345678"),
    ] {
        running_channel(app, &p, client, phone).await;
    }
    // Billing on, with a credit and a debit in the ledger, for the Billing page.
    hub::services::billing::enable(&app.state, &p, &hub::services::audit::Actor::System)
        .await
        .unwrap();
    for (amount, reason) in [
        ("150.00", "Opening prepayment"),
        ("-12.34", "Correction of an earlier charge"),
    ] {
        hub::services::billing::adjust(
            &app.state,
            &p,
            &store::billing::Holder::Partner,
            domain::Micros::parse_major(amount).unwrap(),
            reason,
            &hub::services::audit::Actor::System,
        )
        .await
        .unwrap();
    }
    browser.set_window_size(390, 844).await;
    browser.goto(&app.link("/login")).await;
    browser.fill("#email", "owner@phone.test").await;
    browser.fill("#password", PASSWORD).await;
    click_button(browser, "Log in").await;
    wait_for_path(browser, &format!("/partner/{p}/accounts")).await;
    let lists = [
        (
            "numbers",
            format!("/partner/{p}/accounts"),
            "Chez Marie Boulangerie Support",
        ),
        ("users", format!("/partner/{p}/users"), "Max Member"),
        ("api-keys", format!("/partner/{p}/api-keys"), "API keys"),
        (
            "events",
            format!("/partner/{p}/integration/webhooks"),
            "channel",
        ),
        (
            "notifications",
            format!("/partner/{p}/notifications"),
            "Notifications",
        ),
        (
            "billing",
            format!("/partner/{p}/billing"),
            "Correction of an earlier charge",
        ),
    ];
    let mut problems = Vec::new();
    for (name, path, text) in &lists {
        browser.goto(&app.link(path)).await;
        browser.wait_for_text(text, WAIT).await;
        browser.screenshot(&format!("phone-{name}")).await;
        let found = overflow(browser).await;
        if found.as_array().is_some_and(|a| !a.is_empty()) {
            problems.push(format!("{path}: {found}"));
        }
    }
    assert!(problems.is_empty(), "at 390 px:\n{}", problems.join("\n"));

    // Item 3: a pasted brand name far over the limit comes back with its own message and text.
    browser
        .goto(&app.link(&format!("/partner/{p}/profile")))
        .await;
    let pasted = "Acme ".repeat(1_000);
    browser
        .client
        .execute(
            "document.getElementById('brand_name').removeAttribute('maxlength'); document.getElementById('brand_name').value = arguments[0];",
            vec![serde_json::Value::String(pasted.clone())],
        )
        .await
        .unwrap();
    browser.click("#save-profile").await;
    browser
        .wait_for_text("The brand name must be at most 80 characters", WAIT)
        .await;
    let kept = browser
        .client
        .execute(
            "return document.getElementById('brand_name').value;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        kept.as_str(),
        Some(pasted.as_str()),
        "the typed text is kept"
    );
    browser.screenshot("brand-name-too-long").await;

    // Item 7: a refused form leaves the address bar at the form's page, and reloading shows
    // that page (a GET) instead of sending the form again.
    let integration = format!("/partner/{p}/integration");
    browser.goto(&app.link(&integration)).await;
    browser
        .fill("#webhook_url", "https://my_host.example.com/hook")
        .await;
    browser.click("#save-webhook-url").await;
    browser
        .wait_for_text("has a host name with an underscore", WAIT)
        .await;
    assert_eq!(path_of(&browser.current_url().await), integration);
    browser.client.refresh().await.unwrap();
    browser.wait_for_text("Webhook signing secret", WAIT).await;
    let text = browser.text("body").await;
    assert!(
        !text.contains("has a host name with an underscore"),
        "reloading sent the form again: {text}"
    );

    // Item 9: Change password from the user menu.
    browser.click(".user-menu summary").await;
    browser.click("#change-password").await;
    wait_for_path(browser, "/account/password").await;
    browser.fill("#current_password", "not the password").await;
    browser.fill("#password", "a new and longer password").await;
    browser
        .fill("#password_confirm", "a new and longer password")
        .await;
    click_button(browser, "Change password").await;
    browser
        .wait_for_text("The current password is wrong.", WAIT)
        .await;
    browser.screenshot("password-change-refused").await;
    browser.fill("#current_password", PASSWORD).await;
    browser.fill("#password", "a new and longer password").await;
    browser
        .fill("#password_confirm", "a new and longer password")
        .await;
    click_button(browser, "Change password").await;
    browser
        .wait_for_text("Your password has been changed", WAIT)
        .await;
    browser.screenshot("password-changed").await;
}
