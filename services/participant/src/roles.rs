//! Starting the roles: connect, then call each role's `run` with one shutdown token that
//! SIGTERM or Ctrl-C cancels; beside them, the NATS service registration and, for a worker
//! or dispatcher process, a metrics listener.

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
    settings.connection.check()?;
    shared::telemetry::init(settings.observability.log_format);
    let role = format!("{roles:?}").to_lowercase();
    let shutdown = CancellationToken::new();
    let deps = Deps::connect(&settings, &format!("participant-{role}"))
        .await
        .map_err(|e| anyhow::anyhow!(e))
        .context("connecting")?;

    let work = async {
        let result = run(&settings, &deps, roles, &shutdown).await;
        shutdown.cancel();
        result
    };
    let metrics = async {
        match (roles, settings.observability.metrics_listen) {
            (Roles::Worker | Roles::Dispatcher, Some(address)) => {
                serve_metrics(address, deps.metrics.clone(), shutdown.child_token()).await
            }
            _ => Ok(()),
        }
    };
    let nats_service = shared::nats_service::serve(deps.clone(), &role, shutdown.child_token());
    let stop_on_signal = async {
        tokio::select! {
            () = signalled() => shutdown.cancel(),
            () = shutdown.cancelled() => {}
        }
    };
    let (result, metrics, (), ()) = tokio::join!(work, metrics, nats_service, stop_on_signal);
    result.and(metrics)
}

/// Runs the roles until `shutdown` (or until one fails, which stops the others).
async fn run(
    settings: &Settings,
    deps: &Deps,
    roles: Roles,
    shutdown: &CancellationToken,
) -> anyhow::Result<()> {
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
        if let Err(missing) = settings.callbacks.secrets() {
            tracing::warn!(%missing, "the dispatcher is off, no webhooks are sent");
            return Ok(());
        }
        dispatcher::run(settings.clone(), deps.clone(), shutdown.child_token()).await
    };
    match roles {
        Roles::Intake => intake.await,
        Roles::Worker => worker.await,
        Roles::Dispatcher => dispatcher.await,
        Roles::All => {
            let stop_all_on_failure = |result: anyhow::Result<()>| {
                if result.is_err() {
                    shutdown.cancel();
                }
                result
            };
            let (intake, worker, dispatcher) = tokio::join!(
                async { stop_all_on_failure(intake.await) },
                async { stop_all_on_failure(worker.await) },
                async { stop_all_on_failure(dispatcher.await) },
            );
            intake.and(worker).and(dispatcher)
        }
    }
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
