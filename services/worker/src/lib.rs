//! The worker: runs the jobs of the shared durable consumer, which reads the `accepted`
//! events (an operation's `accepted` event is its job).
//!
//! A delivery goes: the shared runner (`shared::runner`: pulls for free slots, counts
//! deliveries, settles by outcome) → `handler` (reads the job from the event) → `kinds` (the job's kind,
//! registered in one match) → `operation` (claim, then batch by batch from the checkpoint,
//! each batch done by the kind: `bulk_import`, `compensation`) → the store. `heartbeat`
//! keeps a long job's delivery and `updatedAt` alive meanwhile; `cancels` carries cancel
//! notices to running jobs; `dead_letter` gives up jobs that can never be done; `ending`
//! ends operations from outside the batch loop; `sweeper` republishes the `accepted`
//! events of operations the intake recorded but never queued.

mod bulk_import;
mod cancels;
mod compensation;
mod context;
mod dead_letter;
mod ending;
mod handler;
mod heartbeat;
mod kind;
mod kinds;
mod operation;
mod sweeper;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use shared::backoff::Backoff;
use shared::config::Settings;
use shared::connect::{self, Deps};
use shared::runner::{self, Pace};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Delays before a job that failed for now is delivered again.
const JOB_BACKOFF: Backoff = Backoff::new(Duration::from_millis(500), Duration::from_secs(30));

/// Runs one worker until `shutdown` is cancelled; jobs in hand then stop at their next
/// checkpoint and are handed back to JetStream for redelivery.
pub async fn run(
    settings: Settings,
    deps: Deps,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let Some(consumer) = consumer_when_ready(&settings, &deps, &shutdown).await? else {
        return Ok(());
    };
    let pace = Pace {
        slots: usize::from(settings.worker.concurrency),
        grace: settings.worker.shutdown_grace,
        backoff: JOB_BACKOFF,
    };
    let ctx = Arc::new(context::Context::new(settings, deps, shutdown.clone()));
    let tasks = TaskTracker::new();
    tasks.spawn(ctx.cancels.clone().listen(
        ctx.deps.nats.clone(),
        ctx.deps.names.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(sweeper::run(ctx.clone(), shutdown.clone()));
    tracing::info!(concurrency = pace.slots, "worker pulling jobs");
    let jobs = Arc::new(handler::Jobs { ctx: ctx.clone() });
    runner::run(&consumer, pace, &shutdown, jobs).await;
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
) -> Result<Option<PullConsumer>, connect::Unplaceable> {
    connect::until_ready("bind the jobs consumer", shutdown, || async {
        connect::declare_topology(deps, settings).await?;
        let consumer = deps
            .jetstream
            .get_consumer_from_stream(deps.names.workers_consumer(), deps.names.events_stream())
            .await?;
        Ok(consumer)
    })
    .await
}
