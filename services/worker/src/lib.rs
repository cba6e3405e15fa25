//! The worker: pulls jobs from the shared durable consumer and runs them.
//!
//! `pull` takes jobs only for free slots; `job` runs one delivery and acknowledges it by
//! its outcome; `bulk_import` is the work itself, checkpointed in Valkey batch by batch;
//! `heartbeat` keeps a long job's delivery and `updatedAt` alive meanwhile; `cancels`
//! carries cancel notices to running jobs; `dead_letter` ends jobs delivered too often or
//! unreadable; `sweeper` republishes the jobs of operations the intake accepted but never
//! queued.

mod bulk_import;
mod cancels;
mod dead_letter;
mod heartbeat;
mod job;
mod pull;
mod sweeper;

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::consumer::PullConsumer;
use shared::config::Settings;
use shared::connect::{self, Deps};
use tokio_util::sync::CancellationToken;

/// Runs one worker until `shutdown` is cancelled; jobs in hand then stop at their next
/// checkpoint and are handed back to JetStream for redelivery.
pub async fn run(
    settings: Settings,
    deps: Deps,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let Some(consumer) = consumer_when_ready(&settings, &deps, &shutdown).await else {
        return Ok(());
    };
    pull::run(settings, deps, consumer, shutdown)
        .await
        .context("worker stopped")
}

/// Declares the topology and binds the consumer, retrying while NATS is unavailable.
async fn consumer_when_ready(
    settings: &Settings,
    deps: &Deps,
    shutdown: &CancellationToken,
) -> Option<PullConsumer> {
    let mut delay = Duration::from_millis(200);
    loop {
        let bound = async {
            connect::declare_topology(
                &deps.jetstream,
                &deps.names,
                &settings.jobs,
                &settings.retention,
            )
            .await?;
            deps.jetstream
                .get_consumer_from_stream(deps.names.workers_consumer(), deps.names.jobs_stream())
                .await
                .map_err(async_nats::Error::from)
        };
        match bound.await {
            Ok(consumer) => return Some(consumer),
            Err(error) => {
                tracing::warn!(%error, retry_in = ?delay, "cannot bind the jobs consumer yet")
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return None,
            () = tokio::time::sleep(delay) => {}
        }
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}
