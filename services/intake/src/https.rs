//! Serving the router over HTTPS (hyper and tokio-rustls): each connection's TLS handshake
//! uses the configuration current when it was accepted, and the client's identity (from
//! its certificate, under mutual TLS) is put on every request of the connection. On
//! shutdown the listener closes and open connections finish their requests.

use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::Request;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use crate::tls::{Reloadable, peer_identity};

/// The identity of a client that presented a certificate.
#[derive(Clone, Debug)]
pub struct PeerIdentity(pub String);

/// Longest a client may take over its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest open connections get to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Reloadable,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let graceful = GracefulShutdown::new();
    loop {
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                continue;
            }
        };
        let acceptor = TlsAcceptor::from(tls.current());
        let app = app.clone();
        let watcher = graceful.watcher();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
            let stream = match handshake {
                Ok(Ok(stream)) => stream,
                Ok(Err(error)) => {
                    tracing::info!(%remote, %error, "TLS handshake refused");
                    return;
                }
                Err(_) => {
                    tracing::info!(%remote, "TLS handshake timed out");
                    return;
                }
            };
            let identity = peer_identity(stream.get_ref().1.peer_certificates()).map(PeerIdentity);
            let service = app.map_request(move |mut request: Request<Incoming>| {
                if let Some(identity) = &identity {
                    request.extensions_mut().insert(identity.clone());
                }
                request
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
            if let Err(error) = watcher.watch(connection).await {
                tracing::debug!(%remote, %error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .context("open connections did not finish in time")
}
