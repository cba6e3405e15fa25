//! The one typed configuration. Every setting is both an environment variable in the
//! `Section__Key` form and a flag; clap reads both, and the value parsers here validate
//! them, so a bad value stops the process at start with one message (exit code 64). The
//! intake's listener groups are in `http`, the webhooks' in `callbacks`.

mod callbacks;
mod http;

use std::net::SocketAddr;
use std::time::Duration;

pub use callbacks::{CallbacksConfig, NoSigningSecret, RetrySchedule};
pub use http::{EdgeConfig, EventStreamsConfig, HttpConfig, TlsConfig};

/// Exit code for a configuration error (`EX_USAGE`).
pub const EXIT_CONFIG: i32 = 64;

/// Settings that are each valid but cannot go together: a configuration error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Inconsistent(pub String);

/// Every setting of every role. Each role reads the groups it needs; all roles share the
/// topology settings, so whichever starts first declares the same streams and consumer.
#[derive(clap::Args, Clone, Debug)]
pub struct Settings {
    #[command(flatten)]
    pub connection: ConnectionConfig,
    #[command(flatten)]
    pub http: HttpConfig,
    #[command(flatten)]
    pub event_streams: EventStreamsConfig,
    #[command(flatten)]
    pub jobs: JobsConfig,
    #[command(flatten)]
    pub retention: RetentionConfig,
    #[command(flatten)]
    pub worker: WorkerConfig,
    #[command(flatten)]
    pub callbacks: CallbacksConfig,
    #[command(flatten)]
    pub observability: ObservabilityConfig,
    #[command(flatten)]
    pub discovery: DiscoveryConfig,
    #[command(flatten)]
    pub tls: TlsConfig,
}

/// Registration in the InfraSoT service registry.
#[derive(clap::Args, Clone, Debug)]
pub struct DiscoveryConfig {
    /// Register the intake in InfraSoT at start, renew it, deregister on shutdown.
    #[arg(long = "infrasot-register", env = "InfraSoT__EnableRegistration", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", requires = "infrasot_url")]
    pub enabled: bool,
    /// Base URL of the InfraSoT registry.
    #[arg(id = "infrasot_url", long = "infrasot-url", env = "InfraSoT__Url")]
    pub url: Option<url::Url>,
    /// This instance's id in the registry; by default `participant-<host name>`.
    #[arg(long = "service-id", env = "InfraSoT__ServiceId")]
    pub service_id: Option<String>,
    /// The intake's URL as others reach it; by default built from the listen address.
    #[arg(long = "advertise-url", env = "InfraSoT__AdvertiseUrl")]
    pub advertise_url: Option<url::Url>,
    /// How often the registration is renewed.
    #[arg(long = "infrasot-renew-every", env = "InfraSoT__RenewInterval", default_value = "30s", value_parser = parse_positive_duration)]
    pub renew_every: Duration,
}

/// Logs and metrics.
#[derive(clap::Args, Clone, Debug)]
pub struct ObservabilityConfig {
    /// `text` for people, `json` for log pipelines.
    #[arg(long = "log-format", env = "Log__Format", default_value = "text")]
    pub log_format: LogFormat,
    /// Where a worker or dispatcher process serves `/metrics` (the intake serves it on its
    /// own listener); off when unset.
    #[arg(long = "metrics-listen", env = "Metrics__Listen")]
    pub metrics_listen: Option<SocketAddr>,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Where NATS and Valkey are, and the prefix that namespaces everything in them. Valkey
/// over TLS is a `rediss://` URL.
#[derive(clap::Args, Clone, Debug)]
pub struct ConnectionConfig {
    /// NATS server URL, or a comma-separated list of seed servers of one cluster.
    #[arg(long = "nats-url", env = "Nats__Url", default_value = "nats://127.0.0.1:4222", value_parser = parse_nats_url)]
    pub nats_url: String,
    /// Replicas of every stream the service creates (3 on a 3-node JetStream cluster).
    #[arg(long = "nats-replicas", env = "Nats__Replicas", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=5))]
    pub nats_replicas: u8,
    /// Valkey (or Redis 7) URL; with `--valkey-cluster`, a comma-separated list of seeds.
    #[arg(long = "valkey-url", env = "Valkey__Url", default_value = "redis://127.0.0.1:6379", value_parser = parse_valkey_url)]
    pub valkey_url: String,
    /// Speak to a Valkey Cluster: slot routing, `MOVED`/`ASK`, topology refresh.
    #[arg(long = "valkey-cluster", env = "Valkey__Cluster", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub valkey_cluster: bool,
    /// With `--valkey-cluster`: replicas that must have each write the contract depends on
    /// (an operation's creation, each imported batch, its ending) before it counts as done
    /// (`WAIT`); 0 leaves replication asynchronous. Only for masters that have replicas.
    #[arg(
        long = "valkey-wait-replicas",
        env = "Valkey__WaitReplicas",
        default_value_t = 0
    )]
    pub valkey_wait_replicas: u8,
    /// How long one `WAIT` may take before the write counts as not replicated (and is
    /// refused, `503`, or retried).
    #[arg(long = "valkey-wait-timeout", env = "Valkey__WaitTimeout", default_value = "100ms", value_parser = parse_positive_duration)]
    pub valkey_wait_timeout: Duration,
    /// First token of every subject, stream name and Valkey key.
    #[arg(long = "prefix", env = "Participant__Prefix", default_value = "ops", value_parser = parse_prefix)]
    pub prefix: String,
    #[command(flatten)]
    pub nats_auth: NatsAuthConfig,
}

impl ConnectionConfig {
    /// The NATS servers to connect to; the client moves to another when one is lost.
    pub fn nats_seeds(&self) -> Vec<&str> {
        seeds(&self.nats_url)
    }

    /// The Valkey URL, or with `valkey_cluster` the seed nodes of the cluster.
    pub fn valkey_seeds(&self) -> Vec<&str> {
        seeds(&self.valkey_url)
    }

    /// Settings that are each valid but not together.
    pub fn check(&self) -> Result<(), Inconsistent> {
        let servers = self.valkey_seeds().len();
        if servers > 1 && !self.valkey_cluster {
            return Err(Inconsistent(format!(
                "--valkey-url (Valkey__Url) lists {servers} servers, which needs \
                 --valkey-cluster (Valkey__Cluster=true)"
            )));
        }
        if self.valkey_wait_replicas > 0 && !self.valkey_cluster {
            return Err(Inconsistent(
                "--valkey-wait-replicas (Valkey__WaitReplicas) is for a Valkey Cluster whose \
                 masters have replicas, which needs --valkey-cluster (Valkey__Cluster=true)"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// TLS and credentials for NATS.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct NatsAuthConfig {
    /// PEM file of a CA to trust for the NATS server (implies TLS).
    #[arg(id = "nats_ca_cert", long = "nats-ca-cert", env = "Nats__CaCertPath")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// PEM client certificate for NATS (with `--nats-key`).
    #[arg(
        id = "nats_cert",
        long = "nats-cert",
        env = "Nats__CertPath",
        requires = "nats_key"
    )]
    pub cert: Option<std::path::PathBuf>,
    /// PEM client key for NATS (with `--nats-cert`).
    #[arg(
        id = "nats_key",
        long = "nats-key",
        env = "Nats__KeyPath",
        requires = "nats_cert"
    )]
    pub key: Option<std::path::PathBuf>,
    /// A `.creds` file (JWT and nkey seed).
    #[arg(id = "nats_creds", long = "nats-creds", env = "Nats__CredentialsPath")]
    pub credentials: Option<std::path::PathBuf>,
    /// A file holding an nkey seed.
    #[arg(id = "nats_nkey", long = "nats-nkey", env = "Nats__NkeySeedPath")]
    pub nkey_seed: Option<std::path::PathBuf>,
}

/// How jobs are delivered by JetStream.
#[derive(clap::Args, Clone, Debug)]
pub struct JobsConfig {
    /// How long a silent worker keeps a job before JetStream redelivers it; heartbeats extend it.
    #[arg(long = "ack-wait", env = "Jobs__AckWait", default_value = "30s", value_parser = parse_ack_wait)]
    pub ack_wait: Duration,
    /// Deliveries of one job before its operation is failed and the job dead-lettered.
    #[arg(long = "max-deliver", env = "Jobs__MaxDeliver", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=100))]
    pub max_deliver: u64,
    /// How long an accepted operation may wait before the sweeper checks that its job is
    /// in the stream (and republishes it if the intake died before publishing).
    #[arg(long = "sweep-after", env = "Jobs__SweepAfter", default_value = "30s", value_parser = parse_positive_duration)]
    pub sweep_after: Duration,
    /// Longest an operation may stay accepted before the sweeper fails it.
    #[arg(long = "max-queue-time", env = "Jobs__MaxQueueTime", default_value = "24h", value_parser = parse_positive_duration)]
    pub max_queue_time: Duration,
}

/// How long operations and their events are kept.
#[derive(clap::Args, Clone, Debug)]
pub struct RetentionConfig {
    /// How long a terminal operation stays readable (at least 24 h).
    #[arg(long = "operations-retention", env = "Operations__Retention", default_value = "7days", value_parser = parse_retention)]
    pub operations: Duration,
    /// How long events are kept in the events stream.
    #[arg(long = "events-retention", env = "Events__Retention", default_value = "7days", value_parser = parse_positive_duration)]
    pub events: Duration,
    /// How long dead letters are kept.
    #[arg(long = "deadletter-retention", env = "DeadLetters__Retention", default_value = "30days", value_parser = parse_positive_duration)]
    pub dead_letters: Duration,
    /// How long an `Idempotency-Key` and its answer are kept.
    #[arg(long = "idempotency-retention", env = "Idempotency__Retention", default_value = "24h", value_parser = parse_positive_duration)]
    pub idempotency: Duration,
}

/// One worker process.
#[derive(clap::Args, Clone, Debug)]
pub struct WorkerConfig {
    /// Jobs one worker runs at once; it never pulls more than it has free slots for.
    #[arg(long = "concurrency", env = "Worker__Concurrency", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub concurrency: u16,
    /// On SIGTERM, how long jobs in hand may take to finish or checkpoint before the
    /// process exits and leaves them to JetStream to redeliver.
    #[arg(long = "shutdown-grace", env = "Worker__ShutdownGrace", default_value = "25s", value_parser = parse_duration)]
    pub shutdown_grace: Duration,
    /// Simulated I/O time per item, for tests and benchmarks only; `0s` in production.
    #[arg(long = "simulated-item-latency", env = "Worker__SimulatedItemLatency", default_value = "0s", value_parser = parse_duration)]
    pub simulated_item_latency: Duration,
}

/// A duration written `500ms`, `5s`, `2m`, `1h`, `7days`.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value)
        .map_err(|e| format!("`{value}` is not a duration like 500ms, 5s, 2m or 1h ({e})"))
}

fn parse_positive_duration(value: &str) -> Result<Duration, String> {
    let duration = parse_duration(value)?;
    if duration.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(duration)
}

fn parse_ack_wait(value: &str) -> Result<Duration, String> {
    let duration = parse_duration(value)?;
    if duration < Duration::from_secs(1) {
        return Err("must be at least 1s".into());
    }
    Ok(duration)
}

fn parse_retention(value: &str) -> Result<Duration, String> {
    let duration = parse_duration(value)?;
    if duration < Duration::from_secs(24 * 3600) {
        return Err("must be at least 24h".into());
    }
    Ok(duration)
}

fn parse_prefix(value: &str) -> Result<String, String> {
    let valid = !value.is_empty()
        && value.len() <= 32
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if valid {
        Ok(value.to_owned())
    } else {
        Err("must be 1 to 32 characters of A-Z, a-z, 0-9, `_` or `-`".into())
    }
}

fn parse_nats_url(value: &str) -> Result<String, String> {
    for seed in seeds(value) {
        seed.parse::<async_nats::ServerAddr>()
            .map_err(|e| format!("not a NATS URL: `{seed}`: {e}"))?;
    }
    Ok(value.to_owned())
}

/// The URLs of a comma-separated list, trimmed.
fn seeds(list: &str) -> Vec<&str> {
    list.split(',').map(str::trim).collect()
}

fn parse_valkey_url(value: &str) -> Result<String, String> {
    for seed in seeds(value) {
        redis::Client::open(seed).map_err(|e| format!("not a Valkey URL: `{seed}`: {e}"))?;
    }
    Ok(value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_take_the_contract_spelling() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert!(parse_duration("soon").is_err());
    }

    #[test]
    fn the_nats_url_may_list_seeds() {
        let list = "nats://127.0.0.1:4222, nats://127.0.0.1:4223";
        assert_eq!(parse_nats_url(list).as_deref(), Ok(list));
        assert_eq!(
            seeds(list),
            ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"]
        );
        assert!(parse_nats_url("nats://127.0.0.1:4222,nats://:x").is_err());
    }

    #[test]
    fn prefix_must_be_one_token() {
        assert!(parse_prefix("ops").is_ok());
        assert!(parse_prefix("a.b").is_err());
        assert!(parse_prefix("").is_err());
        assert!(parse_prefix("a b").is_err());
    }

    #[test]
    fn ack_wait_and_retention_have_floors() {
        assert!(parse_ack_wait("500ms").is_err());
        assert!(parse_retention("1h").is_err());
        assert!(parse_retention("24h").is_ok());
    }
}
