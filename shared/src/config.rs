//! The one typed configuration. Every setting is both an environment variable in the
//! `Section__Key` form and a flag; clap reads both, and the value parsers here validate
//! them, so a bad value stops the process at start with one message (exit code 64).

use std::net::SocketAddr;
use std::time::Duration;

use ipnet::IpNet;

use crate::callback::AddressPolicy;
use crate::signing::SigningSecret;

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

/// TLS of the HTTP listener: HTTPS with a certificate and key, and with mutual TLS a client
/// certificate signed by the CA is required. Certificate and key are reloaded on SIGHUP.
#[derive(clap::Args, Clone, Debug)]
pub struct TlsConfig {
    /// Require a client certificate signed by `--ca-cert`.
    #[arg(long = "mtls", env = "MutualTLS__Enabled", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", requires_all = ["ca_cert", "cert", "key"])]
    pub mutual: bool,
    /// PEM file of the CA that signs client certificates.
    #[arg(id = "ca_cert", long = "ca-cert", env = "MutualTLS__CaCertPath")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// PEM file of the server's certificate chain; with `--key`, the intake serves HTTPS.
    #[arg(
        id = "cert",
        long = "cert",
        env = "MutualTLS__CertPath",
        requires = "key"
    )]
    pub cert: Option<std::path::PathBuf>,
    /// PEM file of the server's private key.
    #[arg(
        id = "key",
        long = "key",
        env = "MutualTLS__KeyPath",
        requires = "cert"
    )]
    pub key: Option<std::path::PathBuf>,
}

impl TlsConfig {
    /// The scheme the intake serves: `https` with a certificate, else `http`.
    pub fn scheme(&self) -> &'static str {
        if self.cert.is_some() { "https" } else { "http" }
    }
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

/// The HTTP intake's listener and limits.
#[derive(clap::Args, Clone, Debug)]
pub struct HttpConfig {
    /// Address the HTTP intake listens on.
    #[arg(
        long = "listen",
        env = "Http__Listen",
        default_value = "127.0.0.1:8080"
    )]
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes; larger ones are refused with 413.
    #[arg(long = "max-body-bytes", env = "Http__MaxBodyBytes", default_value_t = 16 * 1024 * 1024, value_parser = clap::value_parser!(u64).range(1024..))]
    pub max_body_bytes: u64,
    #[command(flatten)]
    pub edge: EdgeConfig,
}

/// How the HTTP edge treats slow, idle and hostile clients: a cap on connections, a
/// deadline for each stage of a request, and limits on the request head. A client that
/// misses a deadline is cut off (with a `408` problem when its request can still be
/// answered); the defaults let a large import through on a slow link.
#[derive(clap::Args, Clone, Debug, PartialEq, Eq)]
pub struct EdgeConfig {
    /// Connections the intake holds open at once (keep it below `ulimit -n`); past it, new
    /// connections wait in the listen backlog until one closes.
    #[arg(long = "max-connections", env = "Http__MaxConnections", default_value_t = 10_000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,
    /// Longest a client may take over its TLS handshake.
    #[arg(long = "tls-handshake-timeout", env = "Http__TlsHandshakeTimeout", default_value = "10s", value_parser = parse_positive_duration)]
    pub tls_handshake_timeout: Duration,
    /// Longest a request head may take to arrive, from its first byte (from the accept, on a
    /// new connection) to its last header.
    #[arg(long = "header-read-timeout", env = "Http__HeaderReadTimeout", default_value = "10s", value_parser = parse_positive_duration)]
    pub header_read_timeout: Duration,
    /// Time a request body has beyond one second per `--body-min-rate` bytes received: it
    /// is cut off once it has taken longer than that.
    #[arg(long = "body-timeout", env = "Http__BodyTimeout", default_value = "10s", value_parser = parse_positive_duration)]
    pub body_timeout: Duration,
    /// The slowest a request body may arrive on average, in bytes per second (after
    /// `--body-timeout` of grace).
    #[arg(long = "body-min-rate", env = "Http__BodyMinRate", default_value_t = 8192, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_min_rate: u64,
    /// Longest the intake takes to answer (the response head) once it has the request
    /// body; a streamed answer may go on for longer. At least 35s: long polls wait 30s.
    #[arg(long = "request-timeout", env = "Http__RequestTimeout", default_value = "60s", value_parser = parse_request_timeout)]
    pub request_timeout: Duration,
    /// Longest a keep-alive connection may stay idle between requests.
    #[arg(long = "idle-timeout", env = "Http__IdleTimeout", default_value = "75s", value_parser = parse_positive_duration)]
    pub idle_timeout: Duration,
    /// Largest request head (request line and headers) accepted, in bytes; larger is `431`.
    #[arg(long = "max-header-bytes", env = "Http__MaxHeaderBytes", default_value_t = 16 * 1024, value_parser = clap::value_parser!(u32).range(1024..=1024 * 1024))]
    pub max_header_bytes: u32,
    /// Most header fields accepted in a request; more is `431`.
    #[arg(long = "max-headers", env = "Http__MaxHeaders", default_value_t = 100, value_parser = clap::value_parser!(u16).range(8..=4096))]
    pub max_headers: u16,
}

impl Default for EdgeConfig {
    /// The defaults of the flags.
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            tls_handshake_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(10),
            body_min_rate: 8192,
            request_timeout: Duration::from_secs(60),
            idle_timeout: Duration::from_secs(75),
            max_header_bytes: 16 * 1024,
            max_headers: 100,
        }
    }
}

impl HttpConfig {
    /// `max_body_bytes` as a length to read up to.
    pub fn body_limit(&self) -> usize {
        usize::try_from(self.max_body_bytes).unwrap_or(usize::MAX)
    }
}

/// Server-sent event streams of operation events (contract §7a).
#[derive(clap::Args, Clone, Debug)]
pub struct EventStreamsConfig {
    /// Event streams one intake serves at once; past it a new one is refused with 503.
    #[arg(long = "max-event-streams", env = "Events__MaxStreams", default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_streams: u32,
    /// Longest an event stream stays silent before a comment line keeps it open (at most 15 s).
    #[arg(long = "event-keep-alive", env = "Events__KeepAlive", default_value = "15s", value_parser = parse_keep_alive)]
    pub keep_alive: Duration,
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

/// Webhook callbacks: who may receive them, how they are signed, how often retried.
#[derive(clap::Args, Clone, Debug)]
pub struct CallbacksConfig {
    /// `whsec_...` secrets; every active one signs each callback.
    #[arg(long = "signing-secret", env = "Callbacks__SigningSecrets", value_delimiter = ',', value_parser = SecretParser, hide_env_values = true)]
    pub signing_secrets: Vec<SigningSecret>,
    /// Delays before each retry; attempts in all are one more than its length.
    #[arg(long = "retry-schedule", env = "Callbacks__RetrySchedule", default_value = "5s,30s,2m,10m,30m,1h,3h,6h", value_parser = parse_schedule)]
    pub retry_schedule: RetrySchedule,
    /// How long a receiver has to answer one attempt.
    #[arg(long = "callback-timeout", env = "Callbacks__Timeout", default_value = "10s", value_parser = parse_positive_duration)]
    pub timeout: Duration,
    /// Allow plain `http` callback URLs (development only).
    #[arg(long = "callback-allow-http", env = "Callbacks__AllowHttp", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub allow_http: bool,
    /// Networks a callback may reach although not public (CIDR); by default private,
    /// loopback and link-local targets are refused.
    #[arg(
        long = "callback-allow-network",
        env = "Callbacks__AllowedNetworks",
        value_delimiter = ','
    )]
    pub allowed_networks: Vec<IpNet>,
    /// Callback deliveries one dispatcher makes at once for each terminal event kind
    /// (`completed`, `failed`, `cancelled`), so up to three times this in all.
    #[arg(id = "dispatcher_concurrency", long = "dispatcher-concurrency", env = "Callbacks__Concurrency", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub concurrency: u16,
}

/// The dispatcher was started without a secret to sign with.
#[derive(Debug, thiserror::Error)]
#[error(
    "the dispatcher needs at least one signing secret (Callbacks__SigningSecrets or --signing-secret); `participant secret` makes one"
)]
pub struct NoSigningSecret;

impl CallbacksConfig {
    /// The secrets that sign each callback: at least one, or the dispatcher cannot run.
    pub fn secrets(&self) -> Result<&[SigningSecret], NoSigningSecret> {
        if self.signing_secrets.is_empty() {
            Err(NoSigningSecret)
        } else {
            Ok(&self.signing_secrets)
        }
    }

    pub fn address_policy(&self) -> AddressPolicy {
        AddressPolicy {
            allow_http: self.allow_http,
            allowed_networks: self.allowed_networks.clone(),
        }
    }
}

/// The delays before each retry of a callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

impl RetrySchedule {
    /// Attempts in all: the first, and one after each delay.
    pub fn attempts(&self) -> u64 {
        self.0.len() as u64 + 1
    }

    /// The delay before attempt `attempt + 1`, when there is one.
    pub fn delay_after(&self, attempt: u64) -> Option<Duration> {
        let index = usize::try_from(attempt.checked_sub(1)?).ok()?;
        self.0.get(index).copied()
    }
}

/// Parses signing secrets without ever echoing one in an error (clap's own messages quote
/// the rejected value).
#[derive(Clone)]
struct SecretParser;

impl clap::builder::TypedValueParser for SecretParser {
    type Value = SigningSecret;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<SigningSecret, clap::Error> {
        let name = arg.map_or_else(|| "--signing-secret".to_owned(), ToString::to_string);
        let fail = |why: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for '{name}': {why}\n"),
            )
        };
        let text = value.to_str().ok_or_else(|| fail("not UTF-8".into()))?;
        SigningSecret::parse(text).map_err(fail)
    }
}

fn parse_schedule(value: &str) -> Result<RetrySchedule, String> {
    value
        .split(',')
        .map(|d| parse_positive_duration(d.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map(RetrySchedule)
}

/// A duration written `500ms`, `5s`, `2m`, `1h`, `7days`.
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    humantime::parse_duration(value)
        .map_err(|e| format!("`{value}` is not a duration like 500ms, 5s, 2m or 1h ({e})"))
}

fn parse_keep_alive(value: &str) -> Result<Duration, String> {
    let duration = parse_positive_duration(value)?;
    if duration > Duration::from_secs(15) {
        return Err("must be at most 15s".into());
    }
    Ok(duration)
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

/// The longest long poll (`waitSeconds`) the contract allows, and a margin for its re-read.
const LONGEST_WAIT: Duration = Duration::from_secs(35);

fn parse_request_timeout(value: &str) -> Result<Duration, String> {
    let duration = parse_duration(value)?;
    if duration < LONGEST_WAIT {
        return Err("must be at least 35s: a long poll waits up to 30s".into());
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
    fn a_retry_schedule_lists_the_delays_before_each_retry() {
        let schedule = parse_schedule("1s,1s,1s").unwrap();
        assert_eq!(schedule.attempts(), 4);
        assert_eq!(schedule.delay_after(1), Some(Duration::from_secs(1)));
        assert_eq!(schedule.delay_after(4), None);
        assert!(parse_schedule("1s,,2s").is_err());
    }

    #[test]
    fn ack_wait_and_retention_have_floors() {
        assert!(parse_ack_wait("500ms").is_err());
        assert!(parse_retention("1h").is_err());
        assert!(parse_retention("24h").is_ok());
    }

    #[test]
    fn the_request_deadline_outlasts_a_long_poll() {
        assert!(parse_request_timeout("30s").is_err());
        assert!(parse_request_timeout("60s").is_ok());
    }

    #[test]
    fn the_edge_defaults_are_the_flags_defaults() {
        #[derive(clap::Parser)]
        struct Flags {
            #[command(flatten)]
            edge: EdgeConfig,
        }
        let parsed = <Flags as clap::Parser>::try_parse_from(["participant"]).unwrap();
        assert_eq!(parsed.edge, EdgeConfig::default());
    }
}
