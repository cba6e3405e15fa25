//! What waits in JetStream, read fresh on each call: the workers' consumer's backlog (for
//! `/metrics` and the console) and the dead letters (for the console). Each read has the
//! connection deadline.

use async_nats::jetstream::consumer::pull;
use futures::TryStreamExt as _;
use serde::Serialize;
use shared::connect::{DEADLINE, Deps};

/// The jobs the workers' consumer has yet to finish.
#[derive(Clone, Copy, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JobsBacklog {
    /// Stored and not yet delivered to any worker.
    pub pending: u64,
    /// Delivered to a worker and not yet acknowledged.
    pub ack_pending: u64,
    /// Delivered more than once and not yet acknowledged.
    pub redelivered: u64,
}

/// Messages kept in the dead-letter stream, by what died.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct DeadLetters {
    /// Jobs that exhausted their deliveries.
    pub jobs: u64,
    /// Webhook events whose every attempt failed.
    pub callbacks: u64,
}

/// The workers' consumer's counts, as JetStream has them now.
pub async fn jobs(deps: &Deps) -> Result<JobsBacklog, String> {
    let consumer = deps
        .jetstream
        .get_consumer_from_stream::<pull::Config, _, _>(
            deps.names.workers_consumer(),
            deps.names.events_stream(),
        );
    let consumer = tokio::time::timeout(DEADLINE, consumer)
        .await
        .map_err(|_| "no answer within 2s".to_owned())?
        .map_err(|e| format!("consumer {}: {e}", deps.names.workers_consumer()))?;
    let info = consumer.cached_info();
    Ok(JobsBacklog {
        pending: info.num_pending,
        ack_pending: count(info.num_ack_pending),
        redelivered: count(info.num_redelivered),
    })
}

/// The dead-letter stream's messages, counted by subject.
pub async fn dead_letters(deps: &Deps) -> Result<DeadLetters, String> {
    let names = &deps.names;
    let counts = async {
        let stream = deps
            .jetstream
            .get_stream(names.deadletter_stream())
            .await
            .map_err(|e| format!("stream {}: {e}", names.deadletter_stream()))?;
        let messages_on = |filter: String| {
            let stream = &stream;
            async move {
                stream
                    .info_with_subjects(filter)
                    .await
                    .map_err(|e| e.to_string())?
                    .try_fold(0u64, |sum, (_, n)| async move { Ok(sum + count(n)) })
                    .await
                    .map_err(|e| e.to_string())
            }
        };
        let (jobs, callbacks) = tokio::try_join!(
            messages_on(names.deadletter_jobs_wildcard()),
            messages_on(names.deadletter_callbacks_wildcard()),
        )?;
        Ok(DeadLetters { jobs, callbacks })
    };
    tokio::time::timeout(DEADLINE, counts)
        .await
        .unwrap_or_else(|_| Err("no answer within 2s".into()))
}

fn count(n: usize) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}
