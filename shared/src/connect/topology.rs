//! The JetStream topology: the events and dead-letter streams, each with `Nats__Replicas`
//! replicas, and the workers' consumer of the `accepted` events (the jobs), which inherits
//! them.

use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, pull};
use async_nats::jetstream::context::{CreateStreamError, CreateStreamErrorKind};
use async_nats::jetstream::stream::{self, DiscardPolicy, StorageType};

use super::{DUPLICATE_WINDOW, Deps};
use crate::config::{JobsConfig, Settings};
use crate::names::Names;

/// The servers cannot hold a stream with the replicas asked for (a single server asked for
/// more than one, or fewer servers than replicas): a configuration error, which no retry
/// mends.
#[derive(Debug, thiserror::Error)]
#[error("Nats__Replicas={replicas}: JetStream cannot place the stream {stream}: {reason}")]
pub struct Unplaceable {
    pub replicas: u8,
    pub stream: String,
    pub reason: String,
}

/// The JetStream answers that mean "not with this many replicas".
const UNPLACEABLE: [ErrorCode; 3] = [
    ErrorCode::STREAM_REPLICAS_NOT_SUPPORTED,
    ErrorCode::CLUSTER_NO_PEERS,
    ErrorCode::INSUFFICIENT_RESOURCES,
];

/// Creates or updates the events and dead-letter streams and the workers' consumer.
pub async fn declare_topology(deps: &Deps, settings: &Settings) -> Result<(), async_nats::Error> {
    let (names, replicas) = (&deps.names, settings.connection.nats_replicas);
    let (jobs, retention) = (&settings.jobs, &settings.retention);
    let streams = [
        stream::Config {
            name: names.events_stream(),
            description: Some(
                "Every state change of every operation; the accepted events are the jobs.".into(),
            ),
            subjects: vec![names.events_wildcard()],
            max_age: retention.events,
            ..Default::default()
        },
        stream::Config {
            name: names.deadletter_stream(),
            description: Some("Jobs and callbacks that could not be done, with the reason.".into()),
            subjects: vec![names.deadletter_wildcard()],
            max_age: retention.dead_letters,
            ..Default::default()
        },
    ];
    for config in streams {
        let stream = config.name.clone();
        deps.jetstream
            .create_or_update_stream(stream::Config {
                discard: DiscardPolicy::Old,
                storage: StorageType::File,
                duplicate_window: DUPLICATE_WINDOW,
                num_replicas: usize::from(replicas),
                ..config
            })
            .await
            .map_err(|error| unplaceable(error, replicas, stream))?;
    }
    deps.jetstream
        .create_consumer_on_stream(workers_consumer(names, jobs), names.events_stream())
        .await?;
    Ok(())
}

/// The durable pull consumer every worker process shares, of the `accepted` events. It
/// starts with the events that arrive after it is created: the roles declare it before the
/// intake serves, and a consumer created on an events stream that holds history (a
/// re-created consumer) must not run every accepted operation of the last days again;
/// the sweeper republishes what such a gap leaves behind. JetStream redelivers without
/// limit; the worker itself dead-letters a job delivered more than `Jobs__MaxDeliver`
/// times, so an exhausted job is never left pending with nobody to fail it. Its replicas
/// are the stream's (`num_replicas` 0).
pub fn workers_consumer(names: &Names, jobs: &JobsConfig) -> pull::Config {
    pull::Config {
        durable_name: Some(names.workers_consumer()),
        description: Some("Shared by every worker process.".into()),
        filter_subject: names.jobs_filter(),
        deliver_policy: DeliverPolicy::New,
        ack_policy: AckPolicy::Explicit,
        ack_wait: jobs.ack_wait,
        max_deliver: -1,
        max_ack_pending: 10_000,
        ..Default::default()
    }
}

/// An [`Unplaceable`] when JetStream refused the replicas, else the error as it came.
fn unplaceable(error: CreateStreamError, replicas: u8, stream: String) -> async_nats::Error {
    match error.kind() {
        CreateStreamErrorKind::JetStream(answer) if UNPLACEABLE.contains(&answer.error_code()) => {
            Box::new(Unplaceable {
                replicas,
                stream,
                reason: answer.to_string(),
            })
        }
        _ => Box::new(error),
    }
}
