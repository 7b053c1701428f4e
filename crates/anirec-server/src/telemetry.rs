//! Request metrics (counts and latency histograms per route, Prometheus format) and one
//! structured access-log line per request; the model gauges.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Request latency histogram buckets, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// The process-wide Prometheus recorder (installed on first use; every server in the process
/// reports through it).
pub fn recorder() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full("anirec_http_request_duration_seconds".into()),
                    &LATENCY_BUCKETS,
                )
                .expect("the bucket list is not empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (an embedding program's); then this
            // handle renders an empty page rather than failing the server.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
            }
            metrics::describe_counter!(
                "anirec_http_requests_total",
                "HTTP requests answered, by method, route and status"
            );
            metrics::describe_histogram!(
                "anirec_http_request_duration_seconds",
                metrics::Unit::Seconds,
                "Time to answer an HTTP request, by method and route"
            );
            metrics::describe_gauge!("anirec_model_info", "1 for the model version being served");
            metrics::describe_counter!(
                "anirec_compute_shed_total",
                "Requests refused with 503 because the compute pool's queue was full"
            );
            // Present (at 0) from the start, so a dashboard sees the series before any shedding.
            metrics::counter!("anirec_compute_shed_total").increment(0);
            handle
        })
        .clone()
}

/// Records that `version` is now served.
pub fn model_loaded(version: &str, anime: usize) {
    metrics::gauge!("anirec_model_info", "version" => version.to_owned()).set(1.0);
    metrics::gauge!("anirec_model_anime").set(anime as f64);
    metrics::counter!("anirec_model_loads_total").increment(1);
}

/// Records that `version` is no longer served.
pub fn model_unloaded(version: &str) {
    metrics::gauge!("anirec_model_info", "version" => version.to_owned()).set(0.0);
}

/// Middleware: times the request, counts it by route template (`/api/v1/anime/{id}`, not the raw
/// path, so the label set stays small) and writes the access log.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |m| m.as_str())
        .to_owned();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let seconds = started.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    metrics::counter!(
        "anirec_http_requests_total",
        "method" => method.to_string(),
        "route" => route.clone(),
        "status" => status.to_string()
    )
    .increment(1);
    metrics::histogram!(
        "anirec_http_request_duration_seconds",
        "method" => method.to_string(),
        "route" => route
    )
    .record(seconds);
    tracing::info!(
        target: "anirec::access",
        method = %method,
        path,
        status,
        micros = (seconds * 1e6) as u64,
        "request"
    );
    response
}
