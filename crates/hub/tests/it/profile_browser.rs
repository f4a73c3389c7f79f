//! Browser test in headless Chromium: an Owner chooses a new logo file and types a new brand
//! name, previews them before saving (the onboarding screen shows both, next to the platform's
//! branding), sees that the saved-values preview and the Partner API still show the old values,
//! then saves and finds the new values in the saved preview. Screenshots land in
//! `test-artifacts/`.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::Value;

use crate::profile::{encoded, png};
use crate::support::app::{Backend, Options, PASSWORD, Role, TestApp, path_of};
use crate::support::browser::wait_for_path;
use crate::support::browser::{self, Browser};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test]
async fn an_owner_previews_an_unsaved_logo_and_brand_name_then_saves_them_in_the_browser() {
    if !browser::required("profile_browser") {
        return;
    }
    let app = TestApp::start(Backend::Sqlite, Options::default()).await;
    browser::run("profile-browser", app, flow).await;
}

/// The `src` of the partner logo on the page, and whether the browser could draw it.
async fn shown_logo(browser: &Browser) -> (String, bool) {
    let logo = browser
        .client
        .find(Locator::Css("#partner-logo"))
        .await
        .unwrap();
    let src = logo.prop("src").await.unwrap().unwrap_or_default();
    // Images load asynchronously; wait until this one has settled.
    let mut drawn = false;
    for _ in 0..50 {
        let answer = browser
            .client
            .execute(
                "const i = document.getElementById('partner-logo'); return i.complete ? i.naturalWidth : -1;",
                vec![],
            )
            .await
            .unwrap();
        match answer.as_i64() {
            Some(-1) | None => tokio::time::sleep(Duration::from_millis(100)).await,
            Some(width) => {
                drawn = width > 0;
                break;
            }
        }
    }
    (src, drawn)
}

async fn api_partner(app: &TestApp, key: &str, partner: &domain::PartnerId) -> Value {
    app.api(key)
        .get(app.link(&format!("/api/v2/partners/{partner}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn flow(app: &TestApp, browser: &Browser) {
    let demo = app.partner("Demo Partner").await;
    app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
        .await;
    let key = app.api_key(&demo).await;
    // What is saved before: "Old Brand" with a small logo.
    let old_logo = hub::services::profile::check_logo(png(64, 64))
        .await
        .unwrap();
    let partner = store::partners::get(app.state.db.pool(), &demo)
        .await
        .unwrap()
        .unwrap();
    hub::services::profile::save(
        &app.state,
        &partner,
        &hub::services::profile::ProfileChange {
            brand_name: Some(Some(domain::BrandName::parse("Old Brand").unwrap())),
            logo: Some(old_logo.clone()),
            allow_client_to_add_phone_no: None,
        },
        &hub::services::audit::Actor::System,
    )
    .await
    .unwrap();
    let old_path = hub::services::profile::logo_path(&demo, &old_logo.hash);

    // The new logo, a file on disk as a person would choose it.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("new-logo.jpg");
    let wide = image::DynamicImage::ImageRgb8(image::RgbImage::from_fn(900, 300, |x, _| {
        image::Rgb([(x % 256) as u8, 120, 200])
    }));
    std::fs::write(&file, encoded(&wide, image::ImageFormat::Jpeg)).unwrap();
    let file = file.to_str().unwrap().to_owned();

    let profile = format!("/partner/{demo}/profile");
    let saved_preview = format!("{profile}/preview?screen=onboarding");
    browser.goto(&app.link("/login")).await;
    browser.fill("#email", "owner@demo.test").await;
    browser.fill("#password", PASSWORD).await;
    crate::support::browser::click_button(browser, "Log in").await;
    // The login's own redirect must land before we navigate, or it overtakes our page.
    crate::support::browser::wait_for_path(browser, &format!("/partner/{demo}/accounts")).await;
    browser.goto(&app.link(&profile)).await;
    browser.wait_for_text("Brand and onboarding", WAIT).await;

    // Choose, type, Preview — without saving.
    browser.fill("#brand_name", "New Brand").await;
    browser
        .client
        .find(Locator::Css("#logo-file"))
        .await
        .unwrap()
        .send_keys(&file)
        .await
        .unwrap();
    browser.screenshot("profile-form-filled").await;
    browser.click("#preview-unsaved").await;
    browser
        .wait_for_text("Preview — this is what your clients see", WAIT)
        .await;
    assert_eq!(browser.text("#partner-brand-name").await, "New Brand");
    let (src, drawn) = shown_logo(browser).await;
    assert!(src.starts_with("data:image/png;base64,"), "{src}");
    assert!(drawn, "the unsaved logo is drawn");
    assert!(
        browser
            .text("#platform-brand")
            .await
            .contains("Partner Hub")
    );
    assert!(
        browser
            .text("#preview-banner")
            .await
            .contains("Not saved yet")
    );
    browser.screenshot("profile-preview-unsaved").await;

    // Nothing leaked: the saved preview and the API still show the old values.
    browser.goto(&app.link(&saved_preview)).await;
    browser
        .wait_for_text("Preview — this is what your clients see", WAIT)
        .await;
    assert_eq!(browser.text("#partner-brand-name").await, "Old Brand");
    let (src, drawn) = shown_logo(browser).await;
    assert_eq!(path_of(&src), old_path);
    assert!(drawn);
    let before = api_partner(app, &key, &demo).await;
    assert_eq!(before["brand_name"], "Old Brand");
    assert_eq!(
        path_of(before["logo_url"].as_str().unwrap()),
        old_path,
        "the API shows the saved logo"
    );

    // Save for real.
    browser.goto(&app.link(&profile)).await;
    browser.wait_for_text("Brand and onboarding", WAIT).await;
    browser.fill("#brand_name", "New Brand").await;
    browser
        .client
        .find(Locator::Css("#logo-file"))
        .await
        .unwrap()
        .send_keys(&file)
        .await
        .unwrap();
    browser.click("#save-profile").await;
    wait_for_path(browser, &profile).await;
    browser.wait_for_text("Profile saved", WAIT).await;
    browser.screenshot("profile-saved").await;
    let after = api_partner(app, &key, &demo).await;
    assert_eq!(after["brand_name"], "New Brand");
    let new_path = path_of(after["logo_url"].as_str().unwrap());
    assert_ne!(new_path, old_path);

    browser.goto(&app.link(&saved_preview)).await;
    browser
        .wait_for_text("Preview — this is what your clients see", WAIT)
        .await;
    assert_eq!(browser.text("#partner-brand-name").await, "New Brand");
    let (src, drawn) = shown_logo(browser).await;
    assert_eq!(path_of(&src), new_path);
    assert!(drawn, "the saved logo is served and drawn");
    browser.screenshot("profile-preview-saved-signup").await;
    browser
        .click(".preview-links a[href$='screen=migration']")
        .await;
    browser.wait_for_text("Bring your number", WAIT).await;
    assert_eq!(browser.text("#partner-brand-name").await, "New Brand");
    browser.screenshot("profile-preview-saved-migration").await;
}
