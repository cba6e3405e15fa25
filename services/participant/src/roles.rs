//! Starting the roles: connect, then call each role's `run` with one shutdown token that
//! SIGTERM or Ctrl-C cancels.

use anyhow::Context as _;
use shared::config::Settings;
use shared::connect::Deps;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Clone, Copy, Debug)]
pub enum Roles {
    Intake,
    Worker,
    Dispatcher,
    All,
}

pub async fn serve(settings: Settings, roles: Roles) -> anyhow::Result<()> {
    shared::telemetry::init(settings.observability.log_format);
    let shutdown = CancellationToken::new();
    let deps = Deps::connect(&settings, &format!("participant-{roles:?}").to_lowercase())
        .await
        .map_err(|e| anyhow::anyhow!(e))
        .context("connecting")?;

    let intake = async {
        let listener = TcpListener::bind(settings.http.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.http.listen))?;
        tracing::info!(address = %settings.http.listen, "intake listening");
        intake::run(
            settings.clone(),
            deps.clone(),
            listener,
            shutdown.child_token(),
        )
        .await
    };
    let worker = worker::run(settings.clone(), deps.clone(), shutdown.child_token());
    let dispatcher = async {
        if settings.callbacks.signing_secrets.is_empty() {
            tracing::warn!(
                "no Callbacks__SigningSecrets: the dispatcher is off, no webhooks are sent"
            );
            return Ok(());
        }
        dispatcher::run(settings.clone(), deps.clone(), shutdown.child_token()).await
    };
    let metrics = async {
        match (roles, settings.observability.metrics_listen) {
            (Roles::Worker | Roles::Dispatcher, Some(address)) => {
                serve_metrics(address, deps.metrics.clone(), shutdown.child_token()).await
            }
            _ => Ok(()),
        }
    };
    let running = async {
        let (result, metrics) = tokio::join!(
            async {
                match roles {
                    Roles::Intake => intake.await,
                    Roles::Worker => worker.await,
                    Roles::Dispatcher => dispatcher.await,
                    Roles::All => {
                        let (intake, worker, dispatcher) = tokio::join!(
                            async {
                                let result = intake.await;
                                shutdown.cancel();
                                result
                            },
                            worker,
                            dispatcher
                        );
                        intake.and(worker).and(dispatcher)
                    }
                }
            },
            metrics
        );
        result.and(metrics)
    };
    tokio::pin!(running);
    tokio::select! {
        result = &mut running => return result,
        () = signalled() => shutdown.cancel(),
    }
    running.await
}

/// `/metrics` for a process that serves no API (a worker or a dispatcher).
async fn serve_metrics(
    address: std::net::SocketAddr,
    metrics: std::sync::Arc<shared::metrics::Metrics>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(address)
        .await
        .with_context(|| format!("cannot listen for metrics on {address}"))?;
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let metrics = metrics.clone();
            async move {
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    metrics.render(),
                )
            }
        }),
    );
    tracing::info!(%address, "serving metrics");
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
        .context("metrics server failed")
}

/// Resolves on SIGTERM or Ctrl-C.
async fn signalled() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
