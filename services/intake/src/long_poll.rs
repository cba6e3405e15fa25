//! `?waitSeconds=N`: hold the answer until the status document changes or N passes.
//! The operation's events wake the wait at once; a light re-read every half second catches
//! the changes that publish no event (heartbeats), and any event missed while NATS is down.

use std::time::Duration;

use futures::StreamExt;
use shared::operation::Operation;
use tokio::time::Instant;

use crate::problem::ApiError;
use crate::state::AppState;

const REREAD_EVERY: Duration = Duration::from_millis(500);

/// Waits up to `wait` for `seen` to change; returns the newest record either way.
pub async fn until_changed(
    state: &AppState,
    seen: Operation,
    wait: Duration,
) -> Result<Operation, ApiError> {
    let deps = state.deps();
    let (tenant, id) = (seen.tenant, seen.id);
    let mut events = deps
        .nats
        .subscribe(deps.names.operation_events(tenant, id))
        .await
        .ok();
    let deadline = Instant::now() + wait;
    let mut latest = seen.clone();
    loop {
        if let Some(record) = deps.store.operation(tenant, id).await? {
            latest = record;
        }
        if latest.revision != seen.revision || latest.status.is_terminal() {
            return Ok(latest);
        }
        let next_look = (Instant::now() + REREAD_EVERY).min(deadline);
        if Instant::now() >= deadline {
            return Ok(latest);
        }
        match events.as_mut() {
            Some(subscriber) => {
                if let Ok(None) = tokio::time::timeout_at(next_look, subscriber.next()).await {
                    events = None;
                }
            }
            None => tokio::time::sleep_until(next_look).await,
        }
    }
}
