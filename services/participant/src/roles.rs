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
    shared::telemetry::init();
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
    let running = async {
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
    };
    tokio::pin!(running);
    tokio::select! {
        result = &mut running => return result,
        () = signalled() => shutdown.cancel(),
    }
    running.await
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
