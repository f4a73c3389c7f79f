//! Operations endpoints: liveness, readiness and Prometheus metrics.

use crate::http::extract::StaffCtx;
use crate::http::routes::Routes;
use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Health, readiness and metrics (metrics need a staff login here; see `admin_router`).
pub fn router() -> Routes {
    Routes::new()
        .get("/healthz", healthz)
        .get("/readyz", readyz)
        .get("/metrics", metrics_for_staff)
}

static PROMETHEUS: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide metrics recorder, installed on first use (several apps in one test process
/// share it).
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    PROMETHEUS
        .get_or_init(|| PrometheusBuilder::new().install_recorder().ok())
        .as_ref()
}

/// The process is up.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The process can serve: the database answers.
pub async fn readyz(State(state): State<AppState>) -> Response {
    // Ready means able to write: a full disk leaves reads working but every change failing.
    match state.db.check_writable().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(err) if err.is_storage_full() => {
            tracing::error!(error = %err, "readiness check failed: storage full");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "storage full: the database cannot write\n",
            )
                .into_response()
        }
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n").into_response()
        }
    }
}

async fn render_metrics(state: &AppState) -> Response {
    if let Ok(states) = store::jobs::count_by_state(state.db.pool()).await {
        for (job_state, count) in states {
            metrics::gauge!("partnerhub_jobs", "state" => job_state).set(count as f64);
        }
    }
    match prometheus() {
        Some(handle) => (
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            handle.render(),
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics recorder unavailable\n",
        )
            .into_response(),
    }
}

/// `/metrics` on the public listener: staff only.
pub async fn metrics_for_staff(_staff: StaffCtx, State(state): State<AppState>) -> Response {
    render_metrics(&state).await
}

/// `/metrics` on the admin listener, which only operators can reach.
pub async fn metrics_open(State(state): State<AppState>) -> Response {
    render_metrics(&state).await
}

/// Count requests and time them, labelled by route template (not raw path: ids would explode
/// the number of series).
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("partnerhub_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("partnerhub_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
