//! Servers the bench runs in its own process on port-0 listeners: the two intake ceilings
//! (publish to a JetStream work queue and answer `202` after the PubAck; answer `202`
//! without any I/O), and the generic serving of an axum router used by the webhook receiver.

use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream::{self, stream};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::stage::ceiling_stream;
use crate::submit::IMPORT_PATH;

/// An axum router served on `127.0.0.1:0` until dropped.
pub struct Served {
    pub base_url: String,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

impl Served {
    pub async fn start(router: Router) -> anyhow::Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding a port-0 listener")?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let stop = CancellationToken::new();
        let shutdown = stop.clone().cancelled_owned();
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router)
                .with_graceful_shutdown(shutdown)
                .await
            {
                eprintln!("a bench server stopped: {error}");
            }
        });
        Ok(Self {
            base_url,
            stop,
            task,
        })
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.stop.cancel();
        self.task.abort();
    }
}

#[derive(Clone)]
struct Publisher {
    jetstream: jetstream::Context,
    subject_prefix: String,
}

/// The publish-only ceiling: declares `<prefix>_CEILING` (a file-stored work queue with a
/// two-minute duplicate window, as the jobs stream) and serves `POST` at the import path:
/// publish a small message with a `Nats-Msg-Id`, await the PubAck, answer `202`.
pub async fn publish_only(jetstream: &jetstream::Context, prefix: &str) -> anyhow::Result<Served> {
    jetstream
        .create_or_update_stream(stream::Config {
            name: ceiling_stream(prefix),
            subjects: vec![format!("{prefix}.ceiling.>")],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        })
        .await
        .context("creating the ceiling stream")?;
    let state = Publisher {
        jetstream: jetstream.clone(),
        subject_prefix: format!("{prefix}.ceiling.job"),
    };
    let router = Router::new()
        .route(IMPORT_PATH, post(publish))
        .with_state(state);
    Served::start(router).await
}

async fn publish(State(publisher): State<Publisher>, _body: Bytes) -> StatusCode {
    let id = Uuid::now_v7().to_string();
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", id.as_str());
    let payload = Bytes::from(format!(r#"{{"type":"BulkImportV1","operationId":"{id}"}}"#));
    let subject = format!("{}.{id}", publisher.subject_prefix);
    let sent = publisher
        .jetstream
        .publish_with_headers(subject, headers, payload)
        .await;
    match sent {
        Ok(ack) => match ack.await {
            Ok(_) => StatusCode::ACCEPTED,
            Err(_) => StatusCode::SERVICE_UNAVAILABLE,
        },
        Err(_) => StatusCode::SERVICE_UNAVAILABLE,
    }
}

/// The no-I/O ceiling: reads the body and answers `202`.
pub async fn no_io() -> anyhow::Result<Served> {
    let router = Router::new().route(
        IMPORT_PATH,
        post(|_body: Bytes| async { StatusCode::ACCEPTED }),
    );
    Served::start(router).await
}
