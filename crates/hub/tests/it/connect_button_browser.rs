//! The vendor's official connect button (npm `360dialog-connect-button`, React, `local`
//! environment) against our Hub, in headless Chromium. The Hub listens on 127.0.0.1:8082,
//! where the button's `local` environment opens `http://localhost:8082/dashboard/app/{id}`; a
//! small partner site on another port serves the page with the button (bundled by esbuild from
//! `tests/connect-button/`) and is the partner's Redirect URL. The client signs up in the popup,
//! adds and verifies a number and shares it; the popup lands on the partner's page, which posts
//! the result to the opener; the button's callback must receive the client id and channel ids
//! that the database holds for that partner.

use std::path::PathBuf;

use axum::response::{Html, IntoResponse};
use axum::routing::get;

use crate::onboarding_browser::{
    WAIT, assert_result_is_in_db, onboard_in_popup, popup, run_jobs_in_background, wait_for_script,
};
use crate::support::app::{Backend, Options, TestApp};
use crate::support::browser::{self, Browser};

/// Where the button's `local` environment expects the Hub.
const HUB_ADDR: &str = "127.0.0.1:8082";

fn button_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/connect-button")
}

/// The bundled partner page script; built here when `scripts/test` has not done it yet.
fn bundle() -> String {
    let dir = button_dir();
    let bundle = dir.join("dist/partner.js");
    if !bundle.is_file() {
        for args in [
            &["ci", "--no-audit", "--no-fund"][..],
            &["run", "build"][..],
        ] {
            let status = std::process::Command::new("npm")
                .args(args)
                .current_dir(&dir)
                .status()
                .unwrap_or_else(|err| panic!("cannot run npm in {}: {err}", dir.display()));
            assert!(status.success(), "npm {args:?} failed in {}", dir.display());
        }
    }
    std::fs::read_to_string(&bundle)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", bundle.display()))
}

/// The partner's site: `/` is the page with the button (and the Redirect URL), `/partner.js`
/// the bundle. Returns its origin.
async fn partner_site(
    partner_id: &str,
    script: String,
) -> (String, tokio_util::sync::CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Example partner</title></head>\
         <body><div id=\"root\" data-partner-id=\"{partner_id}\" data-state=\"cb-state\"></div>\
         <script src=\"/partner.js\"></script></body></html>"
    );
    let router = axum::Router::new()
        .route("/", get(move || async move { Html(page) }))
        .route(
            "/partner.js",
            get(move || async move {
                ([("content-type", "text/javascript; charset=utf-8")], script).into_response()
            }),
        );
    let stop = tokio_util::sync::CancellationToken::new();
    let token = stop.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(token.cancelled_owned())
            .await;
    });
    (origin, stop)
}

#[tokio::test]
async fn the_official_connect_button_onboards_a_client_and_gets_the_ids() {
    if !browser::required("connect_button_browser") {
        return;
    }
    let script = bundle();
    let app = TestApp::start(
        Backend::Sqlite,
        Options {
            dev: true,
            bind: Some(HUB_ADDR.parse().unwrap()),
            ..Options::default()
        },
    )
    .await;
    browser::run("connect-button", app, async |app, browser| {
        let _jobs = run_jobs_in_background(app).drop_guard();
        flow(app, browser, script).await;
    })
    .await;
}

async fn flow(app: &TestApp, browser: &Browser, script: String) {
    let demo = app.partner("Demo Partner").await;
    let (origin, site) = partner_site(demo.as_str(), script).await;
    store::webhooks::set_redirect_url(app.state.db.pool(), &demo, Some(&format!("{origin}/")))
        .await
        .unwrap();

    browser.goto(&format!("{origin}/")).await;
    browser.wait_for_text("Connect WhatsApp", WAIT).await;
    browser.screenshot("connect-button-partner-page").await;
    let main = browser.client.window().await.unwrap();
    browser.click("#connect").await;
    let popup = popup(browser, &main).await;
    browser.client.switch_to_window(popup).await.unwrap();
    let opened = browser.current_url().await;
    assert!(
        opened.starts_with(&format!("http://localhost:8082/dashboard/app/{demo}")),
        "the button opened {opened}"
    );
    onboard_in_popup(
        browser,
        "ann@button.test",
        "+4915123457201",
        "connect-button",
    )
    .await;

    browser.client.switch_to_window(main).await.unwrap();
    let json = wait_for_script(
        browser,
        "return document.getElementById('result').textContent;",
        "the button's callback",
    )
    .await;
    browser.screenshot("connect-button-callback").await;
    let result: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_result_is_in_db(app, &demo, &result).await;
    site.cancel();
}
