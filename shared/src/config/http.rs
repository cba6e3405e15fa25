//! The intake's listener: its address and TLS, the HTTP edge's deadlines and limits, and
//! its server-sent event streams.

use std::net::SocketAddr;
use std::time::Duration;

use super::{parse_duration, parse_positive_duration};

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

fn parse_keep_alive(value: &str) -> Result<Duration, String> {
    let duration = parse_positive_duration(value)?;
    if duration > Duration::from_secs(15) {
        return Err("must be at most 15s".into());
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

#[cfg(test)]
mod tests {
    use super::*;

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
