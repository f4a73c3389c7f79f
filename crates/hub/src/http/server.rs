//! The public listener's connections: who may hold one, and for how long a request may take to
//! arrive. `axum::serve` keeps a connection open for as long as its client likes, so one client
//! with a thousand half-sent requests could hold every file descriptor (slowloris); here each
//! connection must deliver its request headers within `header_read_timeout`, each address (an
//! IPv6 address counts by its /64) may
//! hold `max_per_address` connections (a trusted proxy, which carries everyone's, is not capped
//! alone) and the process `max_total`. A connection over a cap is
//! closed at once. Slow bodies are bounded by the request timeout of the middleware.

use crate::config::ConnectionLimits;
use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use domain::ip_policy::AllowList;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

/// Raise the soft open-files limit to the hard one, so the caps above (not the kernel) decide
/// when connections are refused. Returns the soft limit now in force.
pub fn raise_open_files_limit() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => limit,
        Err(err) => {
            tracing::warn!(error = %err, "could not raise the open-files limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    }
}

/// Connections open per address, and in all.
#[derive(Default)]
struct Census {
    per_address: HashMap<IpAddr, usize>,
    total: usize,
}

/// One counted connection; dropping it gives its place back.
struct Slot {
    census: Arc<Mutex<Census>>,
    address: IpAddr,
}

impl Slot {
    /// A place for a connection from `address`; `shared` for a trusted proxy, which carries
    /// many people's connections and so counts only towards the total.
    fn take(
        census: &Arc<Mutex<Census>>,
        address: IpAddr,
        shared: bool,
        limits: &ConnectionLimits,
    ) -> Option<Self> {
        let mut c = census.lock().ok()?;
        let mine = c.per_address.get(&address).copied().unwrap_or(0);
        if (!shared && mine >= limits.max_per_address) || c.total >= limits.max_total {
            return None;
        }
        c.per_address.insert(address, mine + 1);
        c.total += 1;
        Some(Self {
            census: census.clone(),
            address,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Ok(mut c) = self.census.lock() {
            c.total = c.total.saturating_sub(1);
            if let Some(n) = c.per_address.get_mut(&self.address) {
                *n -= 1;
                if *n == 0 {
                    c.per_address.remove(&self.address);
                }
            }
        }
    }
}

/// How long shutdown waits for requests in flight.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

/// Serve `app` on `listener` until `shutdown`, then stop accepting and let requests in flight
/// finish, for at most `SHUTDOWN_GRACE` (idle keep-alive connections close at once; one still
/// sending its headers within its header timeout).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    trusted_proxies: AllowList,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let census = Arc::new(Mutex::new(Census::default()));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(limits.header_read_timeout_ms));
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = shutdown.cancelled() => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of file descriptors, or a connection reset before it was accepted: wait
                // a moment rather than spin, and keep serving the connections we have.
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let shared = trusted_proxies.contains(peer.ip());
        let network = domain::client_address::network(peer.ip());
        let Some(slot) = Slot::take(&census, network, shared, &limits) else {
            metrics::counter!("partnerhub_connections_refused_total").increment(1);
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = app
            .clone()
            .map_request(move |request: axum::http::Request<Incoming>| {
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(err) = connection.await {
                tracing::debug!(error = %err, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    // Requests in flight finish; a client that never reads its answer does not hold the
    // shutdown up for longer than this.
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace; closing them");
    }
    Ok(())
}
