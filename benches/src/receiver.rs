//! The webhook receiver (axum on port 0): `POST /hook` records each delivery's arrival by
//! the operation id in its body (`data.operationId`), `POST /bare` takes the bench's own
//! signed POSTs; both parse the body the same way and answer `200`. Also the bare signed
//! POST: Standard Webhooks headers over a body of the dispatcher's shape.

use std::sync::{Arc, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use serde::Deserialize;
use shared::signing::{SigningSecret, signature};
use tokio::time::Instant;
use uuid::Uuid;

use crate::arrivals::Arrivals;
use crate::ceilings::Served;
use crate::load::{Caller, Sample};

#[derive(Default)]
struct Inner {
    deliveries: Arrivals,
    /// The first delivered body, the template of the bare POSTs.
    first: OnceLock<Bytes>,
}

/// A running receiver.
pub struct Receiver {
    served: Served,
    inner: Arc<Inner>,
}

#[derive(Deserialize)]
struct Webhook {
    data: Data,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Data {
    operation_id: Uuid,
}

impl Receiver {
    pub async fn start() -> anyhow::Result<Self> {
        let inner = Arc::new(Inner::default());
        let router = Router::new()
            .route("/hook", post(hook))
            .route("/bare", post(bare))
            .with_state(inner.clone());
        Ok(Self {
            served: Served::start(router).await?,
            inner,
        })
    }

    /// Where the dispatcher delivers.
    pub fn hook_url(&self) -> String {
        format!("{}/hook", self.served.base_url)
    }

    /// Where the bare signed POSTs go.
    pub fn bare_url(&self) -> String {
        format!("{}/bare", self.served.base_url)
    }

    /// Arrival times of deliveries by operation id.
    pub fn deliveries(&self) -> Arrivals {
        self.inner.deliveries.clone()
    }

    /// A delivered body to imitate, or one of the same shape when none came.
    pub fn template(&self) -> Bytes {
        self.inner.first.get().cloned().unwrap_or_else(|| {
            let id = Uuid::now_v7();
            Bytes::from(format!(
                r#"{{"type":"operation.completed","timestamp":"2026-01-01T00:00:00Z","data":{{"operationId":"{id}","kind":"bulk-import","status":"completed","percentComplete":100,"result":{{"processed":10,"succeeded":10,"failed":0,"errors":[]}}}}}}"#
            ))
        })
    }
}

async fn hook(State(inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    let at = Instant::now();
    if let Ok(webhook) = serde_json::from_slice::<Webhook>(&body) {
        inner.deliveries.arrive(webhook.data.operation_id, at);
    }
    let _ = inner.first.set(body);
    StatusCode::OK
}

async fn bare(State(_inner): State<Arc<Inner>>, body: Bytes) -> StatusCode {
    // The same parse as a delivery, so both paths cost the receiver alike.
    let _ = serde_json::from_slice::<Webhook>(&body);
    StatusCode::OK
}

/// POSTs the template, freshly signed each time, as the dispatcher would: `webhook-id`,
/// `webhook-timestamp`, `webhook-signature`, `x-tenant-id`, `x-correlation-id`.
pub struct SignedPoster {
    pub client: reqwest::Client,
    pub url: String,
    pub body: Bytes,
    pub secrets: Arc<[SigningSecret]>,
}

impl Caller for SignedPoster {
    async fn call(&mut self, _seq: u64, start: Instant) -> Option<Sample> {
        let id = Uuid::new_v4().to_string();
        let timestamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
        let signed = signature(&self.secrets, &id, timestamp, &self.body);
        let response = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("webhook-id", &id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signed)
            .header("x-tenant-id", Uuid::nil().to_string())
            .header("x-correlation-id", &id)
            .body(self.body.clone())
            .send()
            .await
            .ok()?;
        let ok = response.status().is_success();
        let _ = response.bytes().await;
        let at = Instant::now();
        ok.then_some(Sample {
            at,
            latency: at - start,
        })
    }
}
