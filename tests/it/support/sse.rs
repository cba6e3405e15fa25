//! Reading server-sent event streams (contract §7a) as a client does.

use std::time::Duration;

use eventsource_stream::Eventsource as _;
use futures::{Stream, StreamExt as _};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;

/// One message of an event stream.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub id: u64,
    pub event: String,
    pub data: Value,
}

/// Sends `request`, expecting `200` with `text/event-stream`; returns its messages.
pub async fn open(request: RequestBuilder) -> impl Stream<Item = Message> + Unpin {
    let response = request.send().await.expect("request");
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"].to_str().unwrap();
    assert!(
        content_type.starts_with("text/event-stream"),
        "{content_type}"
    );
    response.bytes_stream().eventsource().map(|message| {
        let message = message.expect("a well-formed event");
        Message {
            id: message.id.parse().expect("a numeric cursor"),
            event: message.event,
            data: serde_json::from_str(&message.data).expect("JSON data on one line"),
        }
    })
}

/// The next `n` messages, each within `bound`.
pub async fn take(stream: &mut (impl Stream<Item = Message> + Unpin), n: usize) -> Vec<Message> {
    let mut messages = Vec::new();
    for _ in 0..n {
        messages.push(next(stream).await.expect("another message"));
    }
    messages
}

/// The next message within 20 s, or `None` when the stream ended.
pub async fn next(stream: &mut (impl Stream<Item = Message> + Unpin)) -> Option<Message> {
    tokio::time::timeout(Duration::from_secs(20), stream.next())
        .await
        .expect("a message or the end within 20 s")
}

/// Every message until the stream ends by itself (each within 20 s).
pub async fn to_end(mut stream: impl Stream<Item = Message> + Unpin) -> Vec<Message> {
    let mut messages = Vec::new();
    while let Some(message) = next(&mut stream).await {
        messages.push(message);
    }
    messages
}
