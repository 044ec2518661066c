//! The Prometheus endpoint: process metrics and the appliance's own counters, served as text on
//! a loopback address only.

use std::net::TcpListener;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use prometheus::{Encoder, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry, TextEncoder};
use tokio_util::sync::CancellationToken;

/// Every metric the daemon exports.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    /// Configuration reloads by outcome (`applied`, `refused`).
    pub config_reloads: IntCounterVec,
    /// Tenants in the running configuration.
    pub tenants_configured: IntGauge,
    /// Requests refused, by listener and reason.
    pub refused_requests: IntCounterVec,
    /// 1 while the storage is full or read-only and new calls are refused.
    pub storage_refusing: IntGauge,
    /// Calls deleted by retention, by tenant.
    pub retention_purged_calls: IntCounterVec,
    /// Outbox records waiting for the control plane, by tenant.
    pub outbox_pending: IntGaugeVec,
    /// 1 while a tenant's outbox backlog is at 80% of its cap or more.
    pub outbox_alert: IntGaugeVec,
}

/// A metric could not be registered; only a programming error causes this.
#[derive(Debug, thiserror::Error)]
#[error("cannot register metrics: {0}")]
pub struct MetricsError(#[from] prometheus::Error);

impl Metrics {
    /// Registers a metric kept by another part of the daemon (the sync task).
    pub fn register(
        &self,
        collector: Box<dyn prometheus::core::Collector>,
    ) -> Result<(), MetricsError> {
        Ok(self.registry.register(collector)?)
    }

    /// Registers every metric, with `diala_edge_` as the prefix.
    pub fn new() -> Result<Self, MetricsError> {
        let registry = Registry::new_custom(Some("diala_edge".to_owned()), None)?;
        registry.register(Box::new(
            prometheus::process_collector::ProcessCollector::for_self(),
        ))?;

        let build_info = IntGaugeVec::new(
            Opts::new("build_info", "Version and revision of the running daemon"),
            &["version", "revision"],
        )?;
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION"), env!("DIALA_GIT_REVISION")])
            .set(1);
        registry.register(Box::new(build_info))?;

        let metrics = Metrics {
            config_reloads: counter_vec(
                &registry,
                "config_reloads_total",
                "Configuration reloads",
                &["outcome"],
            )?,
            tenants_configured: IntGauge::new(
                "tenants_configured",
                "Tenants in the running configuration",
            )?,
            refused_requests: counter_vec(
                &registry,
                "refused_requests_total",
                "Requests refused",
                &["listener", "reason"],
            )?,
            storage_refusing: IntGauge::new(
                "storage_refusing_new_calls",
                "1 while the storage is full or read-only and new calls are refused",
            )?,
            retention_purged_calls: counter_vec(
                &registry,
                "retention_purged_calls_total",
                "Calls deleted by retention",
                &["tenant"],
            )?,
            outbox_pending: gauge_vec(
                &registry,
                "outbox_pending",
                "Outbox records waiting for the control plane",
                &["tenant"],
            )?,
            outbox_alert: gauge_vec(
                &registry,
                "outbox_alert",
                "1 while the outbox backlog is at 80% of its cap or more",
                &["tenant"],
            )?,
            registry,
        };
        metrics
            .registry
            .register(Box::new(metrics.tenants_configured.clone()))?;
        metrics
            .registry
            .register(Box::new(metrics.storage_refusing.clone()))?;
        // Present from the start, so a dashboard shows zero rather than no data.
        for outcome in ["applied", "refused"] {
            metrics.config_reloads.with_label_values(&[outcome]);
        }
        Ok(metrics)
    }

    /// The registry, for collectors kept by other parts of the daemon.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The current values in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Encoding into a Vec cannot fail for well-formed metric families.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// A labelled counter, registered in `registry`.
pub(crate) fn counter_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntCounterVec, prometheus::Error> {
    let counter = IntCounterVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(counter.clone()))?;
    Ok(counter)
}

fn gauge_vec(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
) -> Result<IntGaugeVec, prometheus::Error> {
    let gauge = IntGaugeVec::new(Opts::new(name, help), labels)?;
    registry.register(Box::new(gauge.clone()))?;
    Ok(gauge)
}

/// Serves `GET /metrics` on `listener` until `stop` is cancelled.
pub async fn serve(
    listener: TcpListener,
    metrics: Metrics,
    stop: CancellationToken,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let app = Router::new()
        .route("/metrics", get(render))
        .fallback(not_found)
        .with_state(metrics);
    axum::serve(listener, app)
        .with_graceful_shutdown(stop.cancelled_owned())
        .await
}

async fn render(State(metrics): State<Metrics>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}

async fn not_found(State(metrics): State<Metrics>) -> StatusCode {
    metrics
        .refused_requests
        .with_label_values(&["metrics", "not_found"])
        .inc();
    StatusCode::NOT_FOUND
}
