//! The pull loop shared by the worker and the dispatcher: one pull request at a time, for
//! exactly as many messages as there are free slots, so a process never holds a message
//! it cannot start on. Each message runs in a task that holds its slot.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer::PullConsumer};
use futures::StreamExt;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::backoff::Backoff;

/// How long one pull request waits on the server for messages.
const PULL_EXPIRES: Duration = Duration::from_secs(5);
const PULL_BACKOFF_CEILING: Duration = Duration::from_secs(5);
/// Pauses after failed pulls, until one succeeds.
const PULL_BACKOFF: Backoff = Backoff::new(Duration::from_millis(100), PULL_BACKOFF_CEILING);

/// Pulls from `consumer` into `slots` concurrent `handle` tasks until `shutdown`, then gives
/// the tasks in hand up to `grace` to finish or checkpoint; whatever is still unacknowledged
/// after that is left to JetStream to redeliver.
pub async fn for_free_slots<F, Fut>(
    consumer: &PullConsumer,
    slots: usize,
    shutdown: &CancellationToken,
    grace: Duration,
    handle: F,
) where
    F: Fn(jetstream::Message, OwnedSemaphorePermit) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let slots = Arc::new(Semaphore::new(slots));
    let tasks = TaskTracker::new();
    let mut failures = PULL_BACKOFF.delays();
    while let Some(mut permits) = free_slots(&slots, shutdown).await {
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
                pause(shutdown, failures.next()).await;
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
                    failures = PULL_BACKOFF.delays();
                    let Some(permit) = permits.pop() else { break };
                    // Boxed: a job's future is many kilobytes, which the task would
                    // otherwise copy on every move from spawning to finishing.
                    tasks.spawn(Box::pin(handle(message, permit)));
                }
                Some(Err(error)) => {
                    tracing::warn!(%error, "receiving messages failed");
                    pause(shutdown, failures.next()).await;
                    break;
                }
            }
        }
    }
    tasks.close();
    if tokio::time::timeout(grace, tasks.wait()).await.is_err() {
        tracing::warn!(
            unfinished = tasks.len(),
            ?grace,
            "grace period over; JetStream will redeliver what is left"
        );
    }
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

async fn pause(shutdown: &CancellationToken, delay: Option<Duration>) {
    tokio::select! {
        () = shutdown.cancelled() => {}
        () = tokio::time::sleep(delay.unwrap_or(PULL_BACKOFF_CEILING)) => {}
    }
}
