//! Browser tests in headless Chromium: the dashboard as a person uses it.
//!
//! One server (SQLite; the database backends are covered by the other tests) and one browser
//! session walk through login, the account switcher, the Users tab as Member and as Owner, an
//! invitation accepted through the mailed link, logout, and the dashboard at phone width.

use std::time::Duration;

use fantoccini::Locator;

use crate::support::app::{
    Backend, Options, PASSWORD, PartnerId, Role, TestApp, find_link, path_of,
};
use crate::support::browser::{self, Browser, wait_for_path, wait_until};

const WAIT: Duration = Duration::from_secs(10);

const NEW_NAME: &str = "Nina Newcomer";
const NEW_EMAIL: &str = "nina@demo.test";
const NEW_PASSWORD: &str = "seven tidy lanterns glow";

#[tokio::test]
async fn partner_user_switches_accounts_invites_a_user_and_uses_a_phone() {
    if !browser::required("browser_flows") {
        return;
    }
    let app = TestApp::start(Backend::Sqlite, Options::default()).await;
    browser::run("browser-flows", app, flows).await;
}

struct Seed {
    demo: PartnerId,
    other: PartnerId,
}

async fn seed(app: &TestApp) -> Seed {
    let demo = app.partner("Demo Partner").await;
    let other = app.partner("Other Partner").await;
    app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
        .await;
    app.user(
        "agency@demo.test",
        "Alex Agency",
        &[(&demo, Role::Owner), (&other, Role::Member)],
    )
    .await;
    app.user("owner@other.test", "Oscar Other", &[(&other, Role::Owner)])
        .await;
    Seed { demo, other }
}

async fn flows(app: &TestApp, browser: &Browser) {
    let Seed { demo, other } = seed(app).await;
    let demo_accounts = format!("/partner/{demo}/accounts");
    let demo_users = format!("/partner/{demo}/users");
    let other_accounts = format!("/partner/{other}/accounts");
    let other_users = format!("/partner/{other}/users");

    // 2. Log in through the form; the first partner (by name) opens.
    log_in(app, browser, "agency@demo.test", PASSWORD).await;
    wait_for_path(browser, &demo_accounts).await;
    assert_eq!(
        browser.text(".partner-name").await,
        "Demo Partner",
        "after login the header names the first partner of agency@demo.test"
    );
    assert_eq!(
        browser.text("#partner-id").await,
        demo.to_string(),
        "the header shows the Partner ID of Demo Partner"
    );
    let sidebar = browser.text("nav.sidebar").await;
    for label in [
        "WhatsApp Accounts",
        "Integration",
        "Profile",
        "Users",
        "API Keys",
        "Billing",
        "Support",
    ] {
        assert!(
            sidebar.contains(label),
            "the sidebar lists {label:?}; it reads:\n{sidebar}"
        );
    }
    assert_eq!(
        browser.text(".page-head h1").await,
        "WhatsApp Accounts",
        "the landing page is the WhatsApp Accounts section"
    );
    browser.screenshot("dashboard-1280").await;

    // 3. Switch to Other Partner, where agency@demo.test is only a Member.
    switch_to(browser, "Other Partner").await;
    wait_for_path(browser, &other_accounts).await;
    assert_eq!(
        browser.text(".partner-name").await,
        "Other Partner",
        "after switching, the header names Other Partner"
    );
    assert_eq!(
        browser.text("#partner-id").await,
        other.to_string(),
        "after switching, the header shows the Partner ID of Other Partner"
    );
    click_sidebar(browser, "Users").await;
    wait_for_path(browser, &other_users).await;
    browser.wait_for_text("Oscar Other", WAIT).await;
    assert!(
        find_all(browser, Locator::XPath(&button_xpath("Send invitation")))
            .await
            .is_empty(),
        "a Member must not see the \"Send invitation\" button on Other Partner's Users tab"
    );
    assert!(
        find_all(browser, Locator::Css("#add-user"))
            .await
            .is_empty(),
        "a Member must not see the \"Add user\" form"
    );
    let note = browser.text("main .note").await;
    assert!(
        note.contains("Only Owners can add users"),
        "a Member sees why the form is missing; the note reads {note:?}"
    );

    // 4. Back to Demo Partner (the switcher keeps the section), then Users via the sidebar.
    switch_to(browser, "Demo Partner").await;
    wait_for_path(browser, &demo_users).await;
    assert_eq!(
        browser.text(".partner-name").await,
        "Demo Partner",
        "after switching back, the header names Demo Partner"
    );
    click_sidebar(browser, "WhatsApp Accounts").await;
    wait_for_path(browser, &demo_accounts).await;
    click_sidebar(browser, "Users").await;
    wait_for_path(browser, &demo_users).await;
    assert_eq!(
        browser.text("nav.sidebar a[aria-current=\"page\"]").await,
        "Users",
        "the sidebar marks Users as the current page"
    );
    browser.fill("#name", NEW_NAME).await;
    browser.fill("#email", NEW_EMAIL).await;
    browser
        .client
        .find(Locator::Css("select#role"))
        .await
        .expect("the Add user form has a role select")
        .select_by_value("owner")
        .await
        .expect("cannot choose the Owner role");
    click_xpath(browser, &button_xpath("Send invitation")).await;
    browser
        .wait_for_text(&format!("Invitation sent to {NEW_EMAIL}."), WAIT)
        .await;
    wait_for_path(browser, &demo_users).await;
    let flash = browser.text("main .flash").await;
    assert_eq!(
        flash,
        format!("Invitation sent to {NEW_EMAIL}."),
        "the flash confirms the invitation"
    );
    let row = row_of(browser, NEW_EMAIL).await;
    for part in [NEW_NAME, "Owner", "Invited"] {
        assert!(
            row.contains(part),
            "the invitation row shows {part:?}; it reads {row:?}"
        );
    }

    // 5. Log out, then accept the invitation from the mail in the same browser.
    log_out(browser).await;
    let (_, body) = app
        .last_mail_to(NEW_EMAIL)
        .await
        .unwrap_or_else(|| panic!("no mail to {NEW_EMAIL} in the outbox"));
    let link = find_link(&body, "/invite/")
        .unwrap_or_else(|| panic!("no /invite/ link in the invitation mail:\n{body}"));
    browser.goto(&link).await;
    browser.wait_for_text("Join Demo Partner", WAIT).await;
    assert_eq!(
        field_value(browser, "#name").await,
        NEW_NAME,
        "the invitation form suggests the name the Owner entered"
    );
    browser.fill("#name", NEW_NAME).await;
    browser.fill("#password", NEW_PASSWORD).await;
    browser.fill("#password_confirm", NEW_PASSWORD).await;
    click_xpath(browser, &button_xpath("Create account and join")).await;
    wait_for_path(browser, &demo_accounts).await;
    browser
        .wait_for_text("Welcome to Demo Partner!", WAIT)
        .await;
    assert_eq!(
        browser.text(".partner-name").await,
        "Demo Partner",
        "the new user lands on the Demo Partner dashboard"
    );
    let summary = browser.text("details.user-menu summary").await;
    assert!(
        summary.contains(NEW_NAME),
        "the user menu shows the new user's name; it reads {summary:?}"
    );
    browser.click("details.user-menu summary").await;
    let panel = browser.text("details.user-menu .menu-panel").await;
    assert!(
        panel.contains(NEW_EMAIL) && panel.contains("Owner of Demo Partner"),
        "the user menu shows the email and role of the new user; it reads {panel:?}"
    );
    assert!(
        find_all(browser, Locator::Css("details.switcher"))
            .await
            .is_empty(),
        "a user of a single partner has no account switcher"
    );

    // 6. Log out and in as the original Owner, who belongs to one partner only.
    browser.click("details.user-menu summary").await;
    log_out(browser).await;
    log_in(app, browser, "owner@demo.test", PASSWORD).await;
    wait_for_path(browser, &demo_accounts).await;
    let summary = browser.text("details.user-menu summary").await;
    assert!(
        summary.contains("Olivia Owner"),
        "owner@demo.test is logged in; the user menu reads {summary:?}"
    );
    assert!(
        find_all(browser, Locator::Css("details.switcher"))
            .await
            .is_empty(),
        "owner@demo.test belongs to one partner, so the account switcher must be absent"
    );

    // 7. Phone width: the menu and the page heading stay visible.
    browser.set_window_size(390, 844).await;
    browser
        .client
        .refresh()
        .await
        .expect("cannot reload the page");
    wait_for_path(browser, &demo_accounts).await;
    let viewport = browser
        .client
        .execute("return window.innerWidth;", Vec::new())
        .await
        .expect("cannot read the viewport width");
    assert!(
        viewport.as_u64().is_some_and(|w| w <= 420),
        "the window was resized to phone width; the viewport is {viewport} px wide"
    );
    for (css, what) in [
        ("nav.sidebar", "the sidebar menu"),
        (".page-head h1", "the page heading"),
        (".partner-name", "the partner name"),
        ("details.user-menu summary", "the user menu"),
    ] {
        let element = browser
            .client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("{what} ({css}) is missing at phone width: {err}"));
        assert!(
            element.is_displayed().await.unwrap_or(false),
            "{what} ({css}) must be displayed at phone width"
        );
    }
    browser.screenshot("dashboard-phone").await;
}

/// Log in through the form on `/login`.
async fn log_in(app: &TestApp, browser: &Browser, email: &str, password: &str) {
    browser.goto(&app.link("/login")).await;
    wait_for_path(browser, "/login").await;
    browser.fill("#email", email).await;
    browser.fill("#password", password).await;
    click_xpath(browser, &button_xpath("Log in")).await;
    wait_until(
        browser,
        &format!("login of {email} to leave /login"),
        move || async move { !path_of(&browser.current_url().await).starts_with("/login") },
    )
    .await;
}

/// Log out through the Log out button in the user menu.
async fn log_out(browser: &Browser) {
    browser.click("details.user-menu summary").await;
    browser.click("details.user-menu .menu-panel button").await;
    wait_for_path(browser, "/login").await;
    browser.wait_for_text("You have logged out.", WAIT).await;
}

/// Open the account switcher and pick the partner named `name`.
async fn switch_to(browser: &Browser, name: &str) {
    browser.click("details.switcher summary").await;
    let xpath = format!(
        "//details[contains(concat(' ', @class, ' '), ' switcher ')]//a[contains(normalize-space(.), '{name}')]"
    );
    click_xpath(browser, &xpath).await;
}

async fn click_sidebar(browser: &Browser, label: &str) {
    let xpath = format!(
        "//nav[contains(concat(' ', @class, ' '), ' sidebar ')]//a[normalize-space(.)='{label}']"
    );
    click_xpath(browser, &xpath).await;
}

fn button_xpath(label: &str) -> String {
    format!("//button[normalize-space(.)='{label}']")
}

async fn click_xpath(browser: &Browser, xpath: &str) {
    browser
        .client
        .find(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|err| panic!("no element matches {xpath}: {err}"))
        .click()
        .await
        .unwrap_or_else(|err| panic!("cannot click {xpath}: {err}"));
}

async fn find_all(browser: &Browser, locator: Locator<'_>) -> Vec<fantoccini::elements::Element> {
    browser
        .client
        .find_all(locator)
        .await
        .unwrap_or_else(|err| panic!("cannot search the page: {err}"))
}

async fn field_value(browser: &Browser, css: &str) -> String {
    browser
        .client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|err| panic!("no field matches {css:?}: {err}"))
        .prop("value")
        .await
        .unwrap_or_else(|err| panic!("cannot read the value of {css:?}: {err}"))
        .unwrap_or_default()
}

/// Text of the table row that contains `needle`.
async fn row_of(browser: &Browser, needle: &str) -> String {
    let xpath = format!("//tr[td[contains(., '{needle}')]]");
    browser
        .client
        .find(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|err| panic!("no table row mentions {needle:?}: {err}"))
        .text()
        .await
        .unwrap_or_else(|err| panic!("cannot read the row of {needle:?}: {err}"))
}
