//! Reading an operation's events back from the events stream.

use std::time::Duration;

use async_nats::jetstream::{self, consumer::DeliverPolicy, consumer::pull::OrderedConfig};
use futures::StreamExt;
use serde_json::Value;
use uuid::Uuid;

use super::TestApp;

/// Every stored event of one operation, replayed from the stream, up to its terminal one.
pub async fn replay(app: &TestApp, id: Uuid) -> Vec<(String, async_nats::HeaderMap, Value)> {
    replay_until(app, id, &["completed", "failed", "cancelled"]).await
}

/// Every stored event of one operation, replayed from the stream, up to the first event
/// named in `last`.
pub async fn replay_until(
    app: &TestApp,
    id: Uuid,
    last: &[&str],
) -> Vec<(String, async_nats::HeaderMap, Value)> {
    let js = jetstream::new(app.nats.clone());
    let stream = js
        .get_stream(format!("{}_EVENTS", app.prefix()))
        .await
        .unwrap();
    let consumer = stream
        .create_consumer(OrderedConfig {
            filter_subject: format!("{}.events.{}.{id}.*", app.prefix(), app.tenant),
            deliver_policy: DeliverPolicy::All,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut messages = consumer.messages().await.unwrap();
    let mut events = Vec::new();
    loop {
        let message = tokio::time::timeout(Duration::from_secs(30), messages.next())
            .await
            .expect("the awaited event within 30 s")
            .unwrap()
            .unwrap();
        let payload: Value = serde_json::from_slice(&message.payload).unwrap();
        let name = payload["event"].as_str().unwrap().to_owned();
        let terminal = last.contains(&name.as_str());
        events.push((
            message.subject.to_string(),
            message.headers.clone().unwrap_or_default(),
            payload,
        ));
        if terminal {
            return events;
        }
    }
}

/// The first dead letter on `<prefix>.deadletter.<kind>.<operation>` (`kind`: `jobs` or
/// `callbacks`), waiting up to 10 s for it.
pub async fn dead_letter(app: &TestApp, kind: &str, id: Uuid) -> jetstream::Message {
    let js = jetstream::new(app.nats.clone());
    let stream = js
        .get_stream(format!("{}_DEADLETTER", app.prefix()))
        .await
        .expect("the dead-letter stream");
    let consumer = stream
        .create_consumer(OrderedConfig {
            filter_subject: format!("{}.deadletter.{kind}.{id}", app.prefix()),
            ..Default::default()
        })
        .await
        .expect("a consumer");
    let mut messages = consumer.messages().await.expect("messages");
    tokio::time::timeout(Duration::from_secs(10), messages.next())
        .await
        .expect("a dead letter within 10 s")
        .expect("a message")
        .expect("a message")
}
