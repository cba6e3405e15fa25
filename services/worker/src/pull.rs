//! The pull loop: one pull request at a time, for exactly as many jobs as there are free
//! slots, so a worker never holds a job it cannot start.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use futures::StreamExt;
use shared::config::Settings;
use shared::connect::Deps;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::{job, sweeper};

/// How long one pull request waits on the server for jobs.
const PULL_EXPIRES: Duration = Duration::from_secs(5);

pub async fn run(
    settings: Settings,
    deps: Deps,
    consumer: PullConsumer,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let slots = Arc::new(Semaphore::new(usize::from(settings.worker.concurrency)));
    let tasks = TaskTracker::new();
    let context = Arc::new(job::Context::new(settings, deps, shutdown.clone()));
    tasks.spawn(context.cancels.clone().listen(
        context.deps.nats.clone(),
        context.deps.names.clone(),
        shutdown.clone(),
    ));
    tasks.spawn(sweeper::run(context.clone(), shutdown.clone()));
    let mut backoff = Duration::from_millis(100);
    tracing::info!(
        concurrency = context.settings.worker.concurrency,
        "worker pulling jobs"
    );

    while let Some(mut permits) = free_slots(&slots, &shutdown).await {
        let batch = consumer
            .batch()
            .max_messages(permits.len())
            .expires(PULL_EXPIRES)
            .messages()
            .await;
        let mut batch = match batch {
            Ok(batch) => batch,
            Err(error) => {
                tracing::warn!(%error, "pull request failed");
                drop(permits);
                pause(&shutdown, &mut backoff).await;
                continue;
            }
        };
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => break,
                next = batch.next() => next,
            };
            match next {
                None => break,
                Some(Ok(message)) => {
                    backoff = Duration::from_millis(100);
                    let Some(permit) = permits.pop() else { break };
                    tasks.spawn(job::handle(context.clone(), message, permit));
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "receiving jobs failed");
                    pause(&shutdown, &mut backoff).await;
                    break;
                }
            }
        }
    }
    tasks.close();
    tasks.wait().await;
    tracing::info!("worker stopped");
    Ok(())
}

/// Waits for at least one free slot and takes every slot free now; `None` on shutdown.
async fn free_slots(
    slots: &Arc<Semaphore>,
    shutdown: &CancellationToken,
) -> Option<Vec<OwnedSemaphorePermit>> {
    let first = tokio::select! {
        () = shutdown.cancelled() => return None,
        permit = slots.clone().acquire_owned() => permit.ok()?,
    };
    let mut permits = vec![first];
    while let Ok(permit) = slots.clone().try_acquire_owned() {
        permits.push(permit);
    }
    Some(permits)
}

async fn pause(shutdown: &CancellationToken, backoff: &mut Duration) {
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = tokio::time::sleep(*backoff) => {}
    }
    *backoff = (*backoff * 2).min(Duration::from_secs(5));
}
