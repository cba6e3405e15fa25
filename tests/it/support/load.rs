//! A steady load of small imports, for fault tests: it records every operation that was
//! accepted and counts the refusals, so a test can check that each accepted one ends.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::{TestApp, wait};

/// Items per import of the load.
pub const ITEMS: usize = 10;
/// Concurrent submitters.
const SUBMITTERS: usize = 4;

#[derive(Default)]
struct Tally {
    accepted: Vec<Uuid>,
    refused: usize,
}

pub struct Load {
    tally: Arc<Mutex<Tally>>,
    stop: CancellationToken,
    submitters: JoinSet<()>,
}

impl Load {
    pub fn start(app: &TestApp) -> Self {
        let tally = Arc::new(Mutex::new(Tally::default()));
        let stop = CancellationToken::new();
        let mut submitters = JoinSet::new();
        for submitter in 0..SUBMITTERS {
            let (tally, stop) = (tally.clone(), stop.clone());
            let request = app
                .http
                .post(format!("{}/api/sampleentities/bulk-import", app.base_url))
                .header("x-tenant-id", app.tenant.to_string())
                .timeout(Duration::from_secs(10));
            submitters.spawn(async move {
                let mut round = 0;
                while !stop.is_cancelled() {
                    round += 1;
                    let items: Vec<Value> = (0..ITEMS)
                        .map(|i| json!({ "name": format!("load-{submitter}-{round}-{i}") }))
                        .collect();
                    let request = request.try_clone().expect("cloneable request");
                    let answer = request.json(&json!({ "items": items })).send().await;
                    let mut tally = tally.lock().expect("tally");
                    match answer {
                        Ok(response) if response.status() == StatusCode::ACCEPTED => {
                            let location = response.headers()["location"]
                                .to_str()
                                .expect("location")
                                .rsplit('/')
                                .next()
                                .and_then(|id| id.parse().ok())
                                .expect("operation id in Location");
                            tally.accepted.push(location);
                        }
                        Ok(response) => {
                            assert_eq!(
                                response.status(),
                                StatusCode::SERVICE_UNAVAILABLE,
                                "an outage is a 503, nothing else"
                            );
                            assert!(
                                response.headers().contains_key("retry-after"),
                                "a 503 says when to retry"
                            );
                            tally.refused += 1;
                        }
                        Err(_) => tally.refused += 1,
                    }
                }
            });
        }
        Self {
            tally,
            stop,
            submitters,
        }
    }

    pub fn accepted(&self) -> usize {
        self.tally.lock().expect("tally").accepted.len()
    }

    pub fn refused(&self) -> usize {
        self.tally.lock().expect("tally").refused
    }

    /// Waits until `more` further operations have been accepted.
    pub async fn until_accepted(&self, more: usize) {
        let target = self.accepted() + more;
        wait::until("operations accepted", Duration::from_secs(60), || async {
            (self.accepted() >= target).then_some(())
        })
        .await;
    }

    /// Waits until at least one submission has been refused.
    pub async fn until_refused(&self) {
        wait::until("a refusal", Duration::from_secs(30), || async {
            (self.refused() > 0).then_some(())
        })
        .await;
    }

    /// Stops the load; returns every accepted operation.
    pub async fn stop(mut self) -> Vec<Uuid> {
        self.stop.cancel();
        while let Some(joined) = self.submitters.join_next().await {
            joined.expect("a submitter panicked");
        }
        std::mem::take(&mut self.tally.lock().expect("tally").accepted)
    }
}
