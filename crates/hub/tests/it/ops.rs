//! Operations: health, readiness, metrics, request ids and security headers.

use crate::support::app::{Backend, Options, Role, TestApp, for_each_backend};

#[tokio::test]
async fn health_readiness_and_headers() {
    for_each_backend(|app| async move {
        let res = app.client().get(app.link("/healthz")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let first_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let csp = res.headers()["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"));
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert!(
            res.headers().get("strict-transport-security").is_none(),
            "no HSTS over plain http"
        );

        let res = app.client().get(app.link("/readyz")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_ne!(
            res.headers()["x-request-id"].to_str().unwrap(),
            first_id,
            "every request gets its own id"
        );

        let res = app.client().get(app.link("/metrics")).send().await.unwrap();
        assert_eq!(
            res.status(),
            303,
            "metrics need a staff login on the public listener"
        );

        let res = app
            .client()
            .get(app.link("/assets/app.css"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        assert!(
            res.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("immutable")
        );
    })
    .await;
}

#[tokio::test]
async fn a_database_outage_is_a_clear_503() {
    let app = TestApp::start(Backend::Sqlite, Options::default()).await;
    let demo = app.partner("Demo Partner").await;
    app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
        .await;
    let owner = app.login("owner@demo.test").await;
    app.state.db.close().await;
    let res = app.client().get(app.link("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let res = owner
        .get(app.link(&format!("/partner/{demo}/users")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert!(res.text().await.unwrap().contains("briefly unavailable"));
    app.finish().await;
}

#[tokio::test]
async fn https_deployments_get_hsts_and_secure_host_cookies() {
    let app = TestApp::start(
        Backend::Sqlite,
        Options {
            public_url: Some("https://hub.example.com".into()),
            ..Options::default()
        },
    )
    .await;
    let demo = app.partner("Demo Partner").await;
    app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
        .await;
    let res = app
        .client()
        .post(app.link("/login"))
        .form(&[
            ("email", "owner@demo.test"),
            ("password", crate::support::app::PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
    let cookie = res.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cookie.starts_with("__Host-ph_session=") && cookie.contains("Secure"),
        "{cookie}"
    );
    app.finish().await;
}

#[tokio::test]
async fn the_admin_listener_serves_metrics_without_login() {
    let app = TestApp::start(Backend::Sqlite, Options::default()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let admin = hub::http::admin_router(app.state.clone());
    tokio::spawn(async move { axum::serve(listener, admin).await });
    app.client().get(app.link("/healthz")).send().await.unwrap();
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("partnerhub_http_requests_total"));
    assert_eq!(
        reqwest::get(format!("http://{addr}/login"))
            .await
            .unwrap()
            .status(),
        404,
        "only ops routes there"
    );
    app.finish().await;
}
