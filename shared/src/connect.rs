//! Connections with deadlines, and the JetStream topology (streams and the workers'
//! consumer) declared at start from configuration.

use std::time::Duration;

use async_nats::jetstream::{self, Context};

use crate::backoff::Backoff;
use crate::config::{ConnectionConfig, Settings};
use crate::names::Names;

mod topology;

pub use topology::{Unplaceable, declare_topology, workers_consumer};

/// Every call to NATS or Valkey answers within this, or counts as failed.
pub const DEADLINE: Duration = Duration::from_secs(2);

/// How long JetStream remembers a `Nats-Msg-Id` to drop a re-published duplicate.
pub const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);

/// Connects to NATS. The client connects in the background and reconnects by itself, so a
/// role can start while NATS is down; requests made meanwhile fail at their deadline.
pub async fn nats(
    config: &ConnectionConfig,
    name: &str,
) -> Result<async_nats::Client, async_nats::Error> {
    let auth = &config.nats_auth;
    let mut options = async_nats::ConnectOptions::new();
    if let Some(credentials) = &auth.credentials {
        options = options.credentials_file(credentials).await?;
    }
    if let Some(seed) = &auth.nkey_seed {
        options = options.nkey(std::fs::read_to_string(seed)?.trim().to_owned());
    }
    if let Some(ca) = &auth.ca_cert {
        options = options.add_root_certificates(ca.clone()).require_tls(true);
    }
    if let (Some(cert), Some(key)) = (&auth.cert, &auth.key) {
        options = options
            .add_client_certificate(cert.clone(), key.clone())
            .require_tls(true);
    }
    let client = options
        .name(name)
        .retry_on_initial_connect()
        .connection_timeout(DEADLINE)
        .request_timeout(Some(DEADLINE))
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| RECONNECT_BACKOFF.delay(attempts as u64))
        .connect(config.nats_seeds())
        .await?;
    Ok(client)
}

/// A JetStream context whose every request has the deadline.
pub fn jetstream(client: async_nats::Client) -> Context {
    jetstream::ContextBuilder::new()
        .timeout(DEADLINE)
        .build(client)
}

/// Calls `attempt` until it succeeds, waiting 200 ms, then about twice as long each time
/// up to 5 s ([`READY_BACKOFF`]), and logging each failure; `Ok(None)` if `shutdown` comes
/// first. Roles use it to declare the topology and bind their consumers while NATS may
/// still be down. An [`Unplaceable`] topology is no passing failure: it ends the retries.
pub async fn until_ready<T, F, Fut>(
    what: &str,
    shutdown: &tokio_util::sync::CancellationToken,
    mut attempt: F,
) -> Result<Option<T>, Unplaceable>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, async_nats::Error>>,
{
    for delay in READY_BACKOFF.delays() {
        match attempt().await {
            Ok(value) => return Ok(Some(value)),
            Err(error) => match error.downcast::<Unplaceable>() {
                Ok(unplaceable) => return Err(*unplaceable),
                Err(error) => tracing::warn!(%error, retry_in = ?delay, "cannot {what} yet"),
            },
        }
        tokio::select! {
            () = shutdown.cancelled() => return Ok(None),
            () = tokio::time::sleep(delay) => {}
        }
    }
    Ok(None)
}

/// Pauses between reconnects to NATS.
const RECONNECT_BACKOFF: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));

/// Pauses between attempts of [`until_ready`].
pub const READY_BACKOFF: Backoff = Backoff::new(Duration::from_millis(200), Duration::from_secs(5));

/// The connections every role holds.
#[derive(Clone)]
pub struct Deps {
    pub nats: async_nats::Client,
    pub jetstream: Context,
    pub store: crate::store::Store,
    pub names: Names,
    pub metrics: std::sync::Arc<crate::metrics::Metrics>,
}

impl Deps {
    /// Prepares both connections; neither waits for its server, so a role starts while
    /// NATS or Valkey is down and reconnects by itself when it returns.
    pub async fn connect(
        settings: &Settings,
        client_name: &str,
    ) -> Result<Self, async_nats::Error> {
        let names = Names::new(settings.connection.prefix.clone());
        let nats = nats(&settings.connection, client_name).await?;
        let store = crate::store::Store::connect(
            &settings.connection,
            names.clone(),
            DEADLINE,
            settings.retention.operations,
        )?;
        Ok(Self {
            jetstream: jetstream(nats.clone()),
            nats,
            store,
            names,
            metrics: Default::default(),
        })
    }
}
