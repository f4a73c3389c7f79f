//! A partner's webhook receiver for the tests: a tiny axum server on `127.0.0.1:0` that records
//! every request (method, path, headers, body) and answers from a programmable script — status
//! codes, delays, `Retry-After` headers, huge bodies — then with a fallback (200 `ok` unless
//! told otherwise). Signatures are checked with the `standardwebhooks` crate, an implementation
//! independent of ours.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// One answer of the receiver.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub delay: Duration,
    pub retry_after: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Reply {
    pub fn status(status: u16) -> Self {
        Self {
            status,
            delay: Duration::ZERO,
            retry_after: None,
            headers: Vec::new(),
            body: Bytes::from(format!("answered {status}")),
        }
    }

    pub fn ok() -> Self {
        Self::status(200).body("ok")
    }

    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// A body of `len` bytes of `a`.
    pub fn big_body(self, len: usize) -> Self {
        self.body(vec![b'a'; len])
    }

    pub fn retry_after(mut self, value: &str) -> Self {
        self.retry_after = Some(value.to_owned());
        self
    }

    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn delay(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

/// One request as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub method: Method,
    /// Path and query.
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the delivery's body is JSON")
    }

    /// The `event` field of the body.
    pub fn event(&self) -> String {
        self.json()["event"].as_str().unwrap_or_default().to_owned()
    }

    /// The entries of `webhook-signature` (`v1,…` each).
    pub fn signatures(&self) -> Vec<String> {
        self.header("webhook-signature")
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The `v1,…` signature `secret` gives this delivery (per `standardwebhooks`), whatever the
    /// time: our test clock is not the wall clock.
    pub fn expected_signature(&self, secret: &str) -> String {
        let id = self.header("webhook-id").expect("webhook-id header");
        let ts: i64 = self
            .header("webhook-timestamp")
            .expect("webhook-timestamp header")
            .parse()
            .expect("webhook-timestamp is UNIX seconds");
        standardwebhooks::Webhook::new(secret)
            .expect("secret")
            .sign(id, ts, &self.body)
            .expect("sign")
    }

    /// Whether one of the delivery's signatures was made with `secret`.
    pub fn signed_with(&self, secret: &str) -> bool {
        self.signatures().contains(&self.expected_signature(secret))
    }

    /// The full Standard Webhooks check (signature and timestamp tolerance against the wall
    /// clock): only meaningful when the app's clock is near the wall clock.
    pub fn verify(&self, secret: &str) -> Result<(), standardwebhooks::WebhookError> {
        standardwebhooks::Webhook::new(secret)?.verify(&self.body, &self.headers)
    }
}

#[derive(Debug)]
struct Shared {
    script: Mutex<VecDeque<Reply>>,
    fallback: Mutex<Reply>,
    received: Mutex<Vec<Received>>,
}

/// The running receiver; stops when dropped.
#[derive(Debug)]
pub struct WebhookReceiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: CancellationToken,
}

impl WebhookReceiver {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let addr = listener.local_addr().expect("receiver addr");
        let shared = Arc::new(Shared {
            script: Mutex::new(VecDeque::new()),
            fallback: Mutex::new(Reply::ok()),
            received: Mutex::new(Vec::new()),
        });
        let handler_shared = shared.clone();
        let router = axum::Router::new().fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let shared = handler_shared.clone();
                async move { answer(&shared, method, uri, headers, body).await }
            },
        );
        let shutdown = CancellationToken::new();
        let token = shutdown.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(token.cancelled_owned())
                .await;
        });
        Self {
            addr,
            shared,
            shutdown,
        }
    }

    /// `http://127.0.0.1:<port>/hook` (development mode only: plain http with a port).
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Answer the next request (after those already scripted) with `reply`.
    pub fn then(&self, reply: Reply) -> &Self {
        self.shared.script.lock().unwrap().push_back(reply);
        self
    }

    /// Answer every request past the script with `reply`.
    pub fn always(&self, reply: Reply) {
        *self.shared.fallback.lock().unwrap() = reply;
    }

    /// Every request so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Every request so far, oldest first, forgetting them.
    pub fn take(&self) -> Vec<Received> {
        std::mem::take(&mut *self.shared.received.lock().unwrap())
    }

    pub fn count(&self) -> usize {
        self.shared.received.lock().unwrap().len()
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

async fn answer(
    shared: &Shared,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let next = shared.script.lock().unwrap().pop_front();
        next.unwrap_or_else(|| shared.fallback.lock().unwrap().clone())
    };
    shared.received.lock().unwrap().push(Received {
        method,
        path: uri
            .path_and_query()
            .map_or_else(|| uri.path().to_owned(), ToString::to_string),
        headers,
        body,
    });
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let status = StatusCode::from_u16(reply.status).expect("status code");
    let mut response = (status, reply.body).into_response();
    if let Some(after) = &reply.retry_after {
        response.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            HeaderValue::from_str(after).expect("retry-after value"),
        );
    }
    for (name, value) in &reply.headers {
        response.headers_mut().insert(
            axum::http::HeaderName::from_bytes(name.as_bytes()).expect("header name"),
            HeaderValue::from_str(value).expect("header value"),
        );
    }
    response
}

#[tokio::test]
async fn the_receiver_records_requests_and_follows_its_script() {
    let receiver = WebhookReceiver::start().await;
    receiver
        .then(Reply::status(503).retry_after("120"))
        .then(Reply::status(201).body("made"));
    hub::install_crypto_provider();
    let client = reqwest::Client::new();
    let first = client
        .post(receiver.url())
        .header("webhook-id", "msg_1")
        .body("{\"a\":1}")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 503);
    assert_eq!(first.headers()["retry-after"], "120");
    let second = client.post(receiver.url()).send().await.unwrap();
    assert_eq!(second.status(), 201);
    assert_eq!(second.text().await.unwrap(), "made");
    let third = client
        .get(format!("{}?x=1", receiver.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 200, "the fallback answers after the script");
    receiver.always(Reply::status(200).big_body(2 * 1024 * 1024));
    let big = client.post(receiver.url()).send().await.unwrap();
    assert_eq!(big.bytes().await.unwrap().len(), 2 * 1024 * 1024);

    let seen = receiver.received();
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[0].header("webhook-id"), Some("msg_1"));
    assert_eq!(seen[0].json()["a"], 1);
    assert_eq!(seen[2].method, Method::GET);
    assert_eq!(seen[2].path, "/hook?x=1");
    assert_eq!(receiver.take().len(), 4);
    assert_eq!(receiver.count(), 0);
}

#[test]
fn standardwebhooks_agrees_with_the_known_answer_of_design_md() {
    let mut headers = HeaderMap::new();
    headers.insert(
        "webhook-id",
        "msg_p5jXN8AQM9LWM0D4loKWxJek".parse().unwrap(),
    );
    headers.insert("webhook-timestamp", "1614265330".parse().unwrap());
    headers.insert(
        "webhook-signature",
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
            .parse()
            .unwrap(),
    );
    let received = Received {
        method: Method::POST,
        path: "/".into(),
        headers,
        body: Bytes::from_static(br#"{"test": 2432232314}"#),
    };
    assert!(received.signed_with("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
    assert!(!received.signed_with("whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"));
}
