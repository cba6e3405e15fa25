//! A webhook receiver double: a real HTTP server on port 0 that records every request and
//! answers from a script (`500`, `429` with `Retry-After`, `410`...), then `200`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::wait;

/// One request the receiver got.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
    pub answered: StatusCode,
}

impl Received {
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

#[derive(Default)]
struct Log {
    script: VecDeque<(StatusCode, Option<u64>)>,
    received: Vec<Received>,
}

pub struct Receiver {
    pub url: String,
    log: Arc<Mutex<Log>>,
    stop: CancellationToken,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

impl Receiver {
    pub async fn start() -> Self {
        let log = Arc::new(Mutex::new(Log::default()));
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("listener");
        let url = format!("http://{}/hooks", listener.local_addr().expect("address"));
        let stop = CancellationToken::new();
        let app = Router::new()
            .route("/hooks", post(record))
            .with_state(log.clone());
        let until = stop.clone().cancelled_owned();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(until)
                .await
                .expect("receiver");
        });
        Self { url, log, stop }
    }

    /// The next answers, in order; `200` once they are used up.
    pub fn answer(&self, statuses: &[u16]) {
        let mut log = self.log.lock().expect("log");
        log.script.extend(
            statuses
                .iter()
                .map(|s| (StatusCode::from_u16(*s).expect("status"), None)),
        );
    }

    /// The next answer is `status` with `Retry-After: seconds`.
    pub fn answer_retry_after(&self, status: u16, seconds: u64) {
        let mut log = self.log.lock().expect("log");
        log.script
            .push_back((StatusCode::from_u16(status).expect("status"), Some(seconds)));
    }

    pub fn received(&self) -> Vec<Received> {
        self.log.lock().expect("log").received.clone()
    }

    /// Waits until `n` requests have arrived.
    pub async fn until_received(&self, n: usize, bound: Duration) -> Vec<Received> {
        wait::until(&format!("{n} webhook requests"), bound, || async {
            let received = self.received();
            (received.len() >= n).then_some(received)
        })
        .await
    }
}

async fn record(State(log): State<Arc<Mutex<Log>>>, headers: HeaderMap, body: Bytes) -> Response {
    let mut log = log.lock().expect("log");
    let (status, retry_after) = log.script.pop_front().unwrap_or((StatusCode::OK, None));
    log.received.push(Received {
        headers,
        body,
        at: Instant::now(),
        answered: status,
    });
    let mut response = status.into_response();
    if let Some(seconds) = retry_after {
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(seconds));
    }
    response
}
