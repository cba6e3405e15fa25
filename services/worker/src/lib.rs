//! The worker: pulls jobs from the shared durable consumer and runs them.
//!
//! Jobs are pulled only for free slots (`shared::pull`); `job` runs one delivery and acknowledges it by
//! its outcome; `operation` works through an operation batch by batch, checkpointed in
//! Valkey, with `bulk_import` and `compensation` doing each kind's batches;
//! `heartbeat` keeps a long job's delivery and `updatedAt` alive meanwhile; `cancels`
//! carries cancel notices to running jobs; `dead_letter` ends jobs delivered too often or
//! unreadable; `sweeper` republishes the jobs of operations the intake accepted but never
//! queued.

mod bulk_import;
mod cancels;
mod compensation;
mod dead_letter;
mod heartbeat;
mod job;
mod operation;
mod sweeper;

use std::sync::Arc;

use async_nats::jetstream::consumer::PullConsumer;
use shared::config::Settings;
use shared::connect::{self, Deps};
use shared::pull;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

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
    let slots = usize::from(settings.worker.concurrency);
    let grace = settings.worker.shutdown_grace;
    let ctx = Arc::new(job::Context::new(settings, deps, shutdown.clone()));
    let tasks = TaskTracker::new();
    tasks.spawn(ctx.cancels.clone().listen(
        ctx.deps.nats.clone(),
        ctx.deps.names.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(sweeper::run(ctx.clone(), shutdown.clone()));
    tracing::info!(concurrency = slots, "worker pulling jobs");
    pull::for_free_slots(&consumer, slots, &shutdown, grace, |message, slot| {
        job::handle(ctx.clone(), message, slot)
    })
    .await;
    tasks.close();
    tasks.wait().await;
    tracing::info!("worker stopped");
    Ok(())
}

/// Declares the topology and binds the consumer, retrying while NATS is unavailable.
async fn consumer_when_ready(
    settings: &Settings,
    deps: &Deps,
    shutdown: &CancellationToken,
) -> Option<PullConsumer> {
    connect::until_ready("bind the jobs consumer", shutdown, || async {
        connect::declare_topology(deps, settings).await?;
        let consumer = deps
            .jetstream
            .get_consumer_from_stream(deps.names.workers_consumer(), deps.names.jobs_stream())
            .await?;
        Ok(consumer)
    })
    .await
}
