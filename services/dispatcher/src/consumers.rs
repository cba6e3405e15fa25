//! One durable consumer per terminal event kind, shared by every dispatcher. (One filter
//! subject per consumer works with nats-server 2.9, which has no multi-filter consumers.)

use std::time::Duration;

use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy, PullConsumer, pull};
use shared::callback::CALLBACK_EVENTS;
use shared::config::Settings;
use shared::connect::{self, Deps};
use tokio_util::sync::CancellationToken;

/// Declares the topology and binds the consumers, retrying while NATS is unavailable.
pub async fn when_ready(
    settings: &Settings,
    deps: &Deps,
    shutdown: &CancellationToken,
) -> Result<Option<Vec<PullConsumer>>, connect::Unplaceable> {
    connect::until_ready("bind the dispatch consumers", shutdown, || {
        bind(settings, deps)
    })
    .await
}

async fn bind(settings: &Settings, deps: &Deps) -> Result<Vec<PullConsumer>, async_nats::Error> {
    connect::declare_topology(deps, settings).await?;
    let events = deps
        .jetstream
        .get_stream(deps.names.events_stream())
        .await?;
    let mut consumers = Vec::new();
    for kind in CALLBACK_EVENTS {
        let consumer = events
            .create_consumer(pull::Config {
                durable_name: Some(deps.names.dispatch_consumer(kind.as_str())),
                description: Some(format!("Webhooks for {} events.", kind.as_str())),
                filter_subject: deps.names.events_of_kind(kind.as_str()),
                deliver_policy: DeliverPolicy::All,
                ack_policy: AckPolicy::Explicit,
                ack_wait: settings.callbacks.timeout * 2 + Duration::from_secs(5),
                max_deliver: -1,
                max_ack_pending: 10_000,
                ..Default::default()
            })
            .await?;
        consumers.push(consumer);
    }
    Ok(consumers)
}
