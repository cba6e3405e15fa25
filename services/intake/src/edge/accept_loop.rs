//! The listener: accepts while fewer than `Http__MaxConnections` connections are open
//! (past it, new connections wait in the kernel's listen backlog and are taken as soon as
//! one closes, so requests in flight are never slowed), serves each in a task of its own,
//! and on shutdown stops accepting, lets open connections finish their requests (idle
//! ones close at once) and gives up on them after [`DRAIN_TIMEOUT`].

use std::io;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use hyper_util::server::graceful::GracefulShutdown;
use shared::config::EdgeConfig;
use shared::metrics::Metrics;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::connection::Connections;
use crate::tls::Reloadable;

/// Longest open connections get to finish once shutdown starts.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Pause after an accept that failed for want of resources (file descriptors, memory).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` (over TLS when `tls` is given) until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<Reloadable>,
    edge: EdgeConfig,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let slots = Arc::new(Semaphore::new(edge.max_connections as usize));
    let connections = Arc::new(Connections { app, edge, metrics });
    let graceful = GracefulShutdown::new();
    let tasks = TaskTracker::new();
    loop {
        let permit = tokio::select! {
            () = shutdown.cancelled() => break,
            permit = slots.clone().acquire_owned() => permit,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                tracing::warn!(%error, "accept failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let acceptor = tls.as_ref().map(|tls| TlsAcceptor::from(tls.current()));
        let (connections, watcher) = (connections.clone(), graceful.watcher());
        tasks.spawn(async move {
            connections.serve(stream, remote, acceptor, watcher).await;
            drop(permit);
        });
    }
    drop(listener);
    tasks.close();
    let drained = async {
        graceful.shutdown().await;
        tasks.wait().await;
    };
    tokio::time::timeout(DRAIN_TIMEOUT, drained)
        .await
        .context("open connections did not finish in time")
}

/// An error of the one connection being accepted, not of the listener.
fn is_connection_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}
