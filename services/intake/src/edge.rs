//! The HTTP edge: everything between a client's socket and the router, and the deadlines
//! and limits that keep slow, idle and hostile clients from holding the intake.
//!
//! - [`accept_loop`]: the listener, the cap on open connections, graceful shutdown.
//! - [`connection`]: one connection: the TLS handshake (with its deadline), hyper, and the
//!   cut-off of a connection whose [`connection_clock`] runs out (a head read too slowly,
//!   a keep-alive idle too long).
//! - [`request_limits`]: per request, inside the problem rendering: the head's size and
//!   field count (`431`), the body's minimum rate ([`body_rate`], `408`), and the deadline
//!   for the answer once the body is in (`503`).

mod accept_loop;
mod body_rate;
mod connection;
mod connection_clock;
mod request_limits;

pub use accept_loop::serve;
pub use connection::PeerIdentity;
pub use request_limits::limit_request;

/// Why the edge cut a client off: the `reason` label of `participant_http_cutoffs_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cutoff {
    /// The TLS handshake did not finish within `Http__TlsHandshakeTimeout`.
    TlsHandshake,
    /// The request head did not arrive within `Http__HeaderReadTimeout`.
    HeaderRead,
    /// The request body arrived slower than `Http__BodyMinRate` allows (`408`).
    Body,
    /// No answer within `Http__RequestTimeout` of the body (`503`).
    Request,
    /// A keep-alive connection idle for `Http__IdleTimeout`.
    Idle,
    /// A request head over `Http__MaxHeaderBytes` or `Http__MaxHeaders` (`431`).
    HeadTooLarge,
}

impl Cutoff {
    pub fn reason(self) -> &'static str {
        match self {
            Self::TlsHandshake => "tls_handshake",
            Self::HeaderRead => "header_read",
            Self::Body => "body",
            Self::Request => "request",
            Self::Idle => "idle",
            Self::HeadTooLarge => "head_too_large",
        }
    }

    /// Counts this cut-off in the process's metrics.
    pub fn count(self, metrics: &shared::metrics::Metrics) {
        metrics.cutoff(self.reason());
    }
}
