//! Prometheus metrics. One [`Metrics`] per process (shared by the roles it runs), each with
//! its own registry, so in-process tests never see each other's figures. The intake serves
//! them at `/metrics`; a worker or dispatcher process on `Metrics__Listen` when set.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DependencyLabels {
    pub dependency: String,
}

/// Every metric of the participant.
pub struct Metrics {
    registry: Registry,
    /// HTTP requests by route, method and status.
    pub requests: Family<RequestLabels, Counter>,
    /// HTTP request latency by route and method.
    pub request_seconds: Family<RouteLabels, Histogram>,
    /// Operations that reached a status in this process (accepted by the intake, running
    /// and ended by workers, cancelled by either).
    pub operations: Family<StatusLabels, Counter>,
    /// Jobs this process is running now.
    pub jobs_in_flight: Gauge,
    /// Jobs waiting for a worker, from the workers' consumer (what an autoscaler scales on).
    pub jobs_pending: Gauge,
    /// Jobs delivered to a worker and not yet acknowledged.
    pub jobs_ack_pending: Gauge,
    /// Webhook attempts by outcome (`delivered`, `failed`, `gone`).
    pub webhook_attempts: Family<OutcomeLabels, Counter>,
    /// Certificate reloads on SIGHUP, by outcome (`reloaded`, `failed`).
    pub tls_reloads: Family<OutcomeLabels, Counter>,
    /// 1 while a dependency answers, 0 while it does not.
    pub dependency_up: Family<DependencyLabels, Gauge>,
    /// Server-sent event streams this intake serves now.
    pub event_streams_open: Gauge,
    /// Connections the intake holds open now.
    pub http_connections: Gauge,
    /// Clients the HTTP edge cut off or refused, by reason (a deadline missed, a limit
    /// passed).
    pub http_cutoffs: Family<ReasonLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("participant");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        let request_seconds = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency",
            request_seconds.clone(),
        );
        let operations = Family::<StatusLabels, Counter>::default();
        registry.register(
            "operations",
            "Operations that reached a status here",
            operations.clone(),
        );
        let jobs_in_flight = Gauge::default();
        registry.register(
            "jobs_in_flight",
            "Jobs this process is running",
            jobs_in_flight.clone(),
        );
        let jobs_pending = Gauge::default();
        registry.register(
            "jobs_pending",
            "Jobs waiting for a worker (consumer num_pending)",
            jobs_pending.clone(),
        );
        let jobs_ack_pending = Gauge::default();
        registry.register(
            "jobs_ack_pending",
            "Jobs delivered and not yet acknowledged (consumer num_ack_pending)",
            jobs_ack_pending.clone(),
        );
        let tls_reloads = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "tls_reloads",
            "Certificate reloads on SIGHUP by outcome",
            tls_reloads.clone(),
        );
        let webhook_attempts = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_attempts",
            "Webhook delivery attempts by outcome",
            webhook_attempts.clone(),
        );
        let dependency_up = Family::<DependencyLabels, Gauge>::default();
        registry.register(
            "dependency_up",
            "Whether a dependency answers (1) or not (0)",
            dependency_up.clone(),
        );
        let event_streams_open = Gauge::default();
        registry.register(
            "event_streams_open",
            "Server-sent event streams this intake serves now",
            event_streams_open.clone(),
        );
        let http_connections = Gauge::default();
        registry.register(
            "http_connections",
            "HTTP connections open now",
            http_connections.clone(),
        );
        let http_cutoffs = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "http_cutoffs",
            "Clients cut off or refused by the HTTP edge, by reason",
            http_cutoffs.clone(),
        );
        Self {
            registry,
            requests,
            request_seconds,
            operations,
            jobs_in_flight,
            jobs_pending,
            jobs_ack_pending,
            webhook_attempts,
            tls_reloads,
            dependency_up,
            event_streams_open,
            http_connections,
            http_cutoffs,
        }
    }
}

impl Metrics {
    /// Counts an operation reaching `status`.
    pub fn operation(&self, status: &str) {
        self.operations
            .get_or_create(&StatusLabels {
                status: status.to_owned(),
            })
            .inc();
    }

    /// Counts a certificate reload with `outcome`.
    pub fn tls_reload(&self, outcome: &str) {
        self.tls_reloads
            .get_or_create(&OutcomeLabels {
                outcome: outcome.to_owned(),
            })
            .inc();
    }

    /// Sets whether `dependency` answers.
    pub fn dependency(&self, dependency: &str, up: bool) {
        self.dependency_up
            .get_or_create(&DependencyLabels {
                dependency: dependency.to_owned(),
            })
            .set(i64::from(up));
    }

    /// Counts a client cut off by the HTTP edge for `reason`.
    pub fn cutoff(&self, reason: &str) {
        self.http_cutoffs
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// 0.25 ms to about 8 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_was_counted() {
        let metrics = Metrics::default();
        metrics.operation("completed");
        metrics.dependency("nats", true);
        let text = metrics.render();
        assert!(
            text.contains("participant_operations_total{status=\"completed\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("participant_dependency_up{dependency=\"nats\"} 1"),
            "{text}"
        );
        assert!(text.ends_with("# EOF\n"));
    }
}
