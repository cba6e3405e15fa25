//! One connection, from the accept to its close: the TLS handshake when the intake serves
//! HTTPS (cut off after `Http__TlsHandshakeTimeout`), then HTTP/1.1 by hyper, with the
//! client's certificate identity put on each request, hyper's own head limits set as a
//! backstop above the problem-answering ones of [`super::request_limits`], and the
//! connection dropped when its [`Clock`] runs out.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::Watcher;
use shared::config::EdgeConfig;
use shared::metrics::Metrics;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt as _;

use super::Cutoff;
use super::connection_clock::{Clock, ResponseGuard, Watched};
use crate::tls::peer_identity;

/// The identity of a client that presented a certificate.
#[derive(Clone, Debug)]
pub struct PeerIdentity(pub String);

/// hyper refuses heads this many times over the configured limits itself, with a bare
/// `431` (it has no hook for the body of its automatic answers); between the limit and
/// this, [`super::request_limits`] answers a `431` problem. It bounds what one head may
/// make the intake buffer.
const BACKSTOP: usize = 4;

/// What every connection shares.
pub struct Connections {
    pub app: Router,
    pub edge: EdgeConfig,
    pub metrics: Arc<Metrics>,
}

impl Connections {
    /// Serves one accepted connection until it closes or is cut off.
    pub async fn serve(
        &self,
        stream: TcpStream,
        remote: SocketAddr,
        tls: Option<TlsAcceptor>,
        watcher: Watcher,
    ) {
        let _open = OpenConnection::count(&self.metrics);
        let _ = stream.set_nodelay(true);
        let Some(acceptor) = tls else {
            return self.serve_http(stream, remote, None, watcher).await;
        };
        let handshake =
            tokio::time::timeout(self.edge.tls_handshake_timeout, acceptor.accept(stream)).await;
        match handshake {
            Ok(Ok(stream)) => {
                let identity =
                    peer_identity(stream.get_ref().1.peer_certificates()).map(PeerIdentity);
                self.serve_http(stream, remote, identity, watcher).await;
            }
            Ok(Err(error)) => tracing::info!(%remote, %error, "TLS handshake refused"),
            Err(_) => {
                Cutoff::TlsHandshake.count(&self.metrics);
                tracing::debug!(%remote, "TLS handshake timed out");
            }
        }
    }

    async fn serve_http<S>(
        &self,
        stream: S,
        remote: SocketAddr,
        identity: Option<PeerIdentity>,
        watcher: Watcher,
    ) where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let clock = Clock::start(self.edge.header_read_timeout, self.edge.idle_timeout);
        let service = {
            let (app, clock) = (self.app.clone(), clock.clone());
            hyper::service::service_fn(move |mut request: Request<Incoming>| {
                clock.request_started();
                let guard = clock.response_guard();
                if let Some(identity) = &identity {
                    request.extensions_mut().insert(identity.clone());
                }
                let app = app.clone();
                async move {
                    let response = app.oneshot(request).await?;
                    Ok::<_, Infallible>(response.map(|body| Guarded {
                        body,
                        _guard: guard,
                    }))
                }
            })
        };
        let mut http = http1::Builder::new();
        http.header_read_timeout(None)
            .max_header_size(BACKSTOP * self.edge.max_header_bytes as usize)
            .max_headers(BACKSTOP * usize::from(self.edge.max_headers));
        let connection =
            http.serve_connection(TokioIo::new(Watched::new(stream, clock.clone())), service);
        tokio::select! {
            served = watcher.watch(connection) => match served {
                Ok(()) => {}
                Err(error) if error.is_parse_too_large() => {
                    Cutoff::HeadTooLarge.count(&self.metrics);
                    tracing::debug!(%remote, %error, "request head over the backstop");
                }
                Err(error) => tracing::debug!(%remote, %error, "connection ended with an error"),
            },
            cutoff = clock.expired() => {
                cutoff.count(&self.metrics);
                tracing::debug!(%remote, reason = cutoff.reason(), "connection cut off");
            }
        }
    }
}

/// Counts a connection in `participant_http_connections` while it lives.
struct OpenConnection<'a>(&'a Metrics);

impl<'a> OpenConnection<'a> {
    fn count(metrics: &'a Metrics) -> Self {
        metrics.http_connections.inc();
        Self(metrics)
    }
}

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0.http_connections.dec();
    }
}

/// A response body that ends its request on the connection's clock when dropped.
struct Guarded {
    body: Body,
    _guard: ResponseGuard,
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
