//! The public listener under hostile connections (slowloris), and client addresses behind
//! trusted reverse proxies.

use crate::support::app::{Backend, Options, PASSWORD, TestApp};
use hub::config::ConnectionLimits;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Issue 15, item 15: 2,000 connections that never finish their headers, from one address,
/// neither starve another address nor stay open.
#[tokio::test]
async fn unfinished_requests_from_one_address_neither_starve_others_nor_stay_open() {
    let open_files = hub::http::server::raise_open_files_limit();
    assert!(
        open_files >= 5000,
        "this test needs 5,000 open files, the hard limit allows {open_files}"
    );
    let limits = ConnectionLimits {
        header_read_timeout_ms: 2_000,
        ..ConnectionLimits::default()
    };
    let app = TestApp::start(
        Backend::Sqlite,
        Options {
            connections: Some(limits),
            ..Options::default()
        },
    )
    .await;
    let addr = app.url.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for i in 0..2_000 {
        let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
        // Half of them send part of a request's headers, half send nothing at all.
        if i % 2 == 0 {
            let _ = stream
                .write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .await;
        }
        held.push(stream);
    }
    let started = Instant::now();
    let res = app
        .client_from("127.0.0.2")
        .get(app.link("/login"))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("a page for another address while 2,000 connections hang");
    assert_eq!(res.status(), 200);
    eprintln!(
        "page from 127.0.0.2 in {:?} with 2,000 unfinished connections open",
        started.elapsed()
    );

    // Every held connection is closed by the server: over the cap at once, the others when
    // their headers have not arrived in time.
    let started = Instant::now();
    let mut closed = 0;
    for mut stream in held {
        let mut buf = [0u8; 512];
        loop {
            match tokio::time::timeout(Duration::from_secs(15), stream.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => {
                    closed += 1;
                    break;
                }
                Ok(Ok(_)) => continue,
                Err(_) => break,
            }
        }
    }
    assert_eq!(closed, 2_000, "connections left open by the server");
    eprintln!("all 2,000 closed within {:?}", started.elapsed());
    app.finish().await;
}

async fn login_from(app: &TestApp, forwarded_for: &str, password: &str) -> u16 {
    app.client()
        .post(app.link("/login"))
        .header("x-forwarded-for", forwarded_for)
        // What a client writes itself: the proxies here write X-Forwarded-For, so this is ignored.
        .header("forwarded", "for=6.6.6.6")
        .form(&[("email", "owner@proxy.test"), ("password", password)])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn login_ips(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT ip FROM audit_log WHERE action = 'user.login' ORDER BY created_ms")
        .fetch_all(app.state.db.pool())
        .await
        .unwrap()
}

/// Issue 15, item 16: behind a trusted proxy, each person has their own address (the audit
/// log and the throttles use it); from an untrusted peer the header is ignored.
#[tokio::test]
async fn behind_a_trusted_proxy_each_person_has_their_own_address() {
    let app = TestApp::start(
        Backend::Sqlite,
        Options {
            trusted_proxies: Some("127.0.0.0/8"),
            connections: Some(ConnectionLimits {
                max_per_address: 2,
                ..ConnectionLimits::default()
            }),
            ..Options::default()
        },
    )
    .await;
    app.partner_named("Proxied")
        .with_owner("owner@proxy.test", "Pia Proxy")
        .build()
        .await;
    // The proxy carries everyone's connections: the per-address cap is not its limit.
    let addr = app.url.trim_start_matches("http://").to_owned();
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(tokio::net::TcpStream::connect(&addr).await.unwrap());
    }
    // A client forged the first entry; the proxy appended the real address.
    assert_eq!(
        login_from(&app, "6.6.6.6, 198.51.100.7", PASSWORD).await,
        303
    );
    assert_eq!(login_ips(&app).await, ["198.51.100.7"]);
    // Someone else behind the same proxy locks only their own address out.
    for _ in 0..5 {
        assert_eq!(
            login_from(&app, "203.0.113.66", "wrong password 1").await,
            401
        );
    }
    assert_eq!(login_from(&app, "203.0.113.66", PASSWORD).await, 429);
    assert_eq!(login_from(&app, "198.51.100.7", PASSWORD).await, 303);
    drop(held);
    app.finish().await;

    let app = TestApp::start(Backend::Sqlite, Options::default()).await;
    app.partner_named("Direct")
        .with_owner("owner@proxy.test", "Pia Proxy")
        .build()
        .await;
    assert_eq!(login_from(&app, "198.51.100.7", PASSWORD).await, 303);
    assert_eq!(
        login_ips(&app).await,
        ["127.0.0.1"],
        "no trusted proxy: the header is ignored"
    );
    app.finish().await;
}
