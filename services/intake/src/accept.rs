//! Accepting a long-running operation: the record goes to Valkey first (so a `GET` right
//! after the `202` finds it), then the `accepted` event goes to JetStream, where it is
//! also the job, and the caller answers `202` only once JetStream has stored it.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::value::RawValue;
use shared::clock;
use shared::connect::DEADLINE;
use shared::contract::{OperationStatus, Problem};
use shared::event::{Event, EventKind};
use shared::ids::OperationId;
use shared::job::{self, Job};
use shared::operation::Operation;
use shared::store::{CallbackTarget, FailOutcome, NewOperation};

use utoipa::ToSchema;

use crate::context::RequestContext;
use crate::header_names;
use crate::problem::ApiError;
use crate::state::AppState;

/// Seconds a client should wait between polls of a running operation.
pub const POLL_AFTER_SECS: u64 = 1;

/// What an operation-starting request asks for: its job names the operation, its tenant
/// and its kind.
pub struct Plan<'a> {
    pub job: Job,
    /// Input items kept for the worker (none for a compensation).
    pub items: &'a [&'a RawValue],
    /// Units of work, for `progress.total`.
    pub total: u64,
    pub callback: Option<CallbackTarget>,
}

/// The `202` body (contract §3).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Accepted {
    operation_id: OperationId,
    status: OperationStatus,
    status_url: String,
    estimated_completion_time: String,
}

/// Records the operation, publishes its `accepted` event (its job), and returns its record.
/// When an operation with the plan's id exists already, returns that one as it is.
pub async fn accept(
    state: &AppState,
    ctx: &RequestContext,
    plan: Plan<'_>,
) -> Result<Operation, ApiError> {
    let deps = state.deps();
    let operation = plan.job.operation_id();
    let new = NewOperation {
        job: plan.job,
        org: ctx.org.clone(),
        actor: ctx.actor.clone(),
        correlation: ctx.correlation.clone(),
        workflow: ctx.workflow.clone(),
        created_millis: clock::now_millis(),
        callback: plan.callback,
        traceparent: ctx.traceparent.clone(),
        total: plan.total,
    };
    let Some(record) = deps.store.create_operation(&new, plan.items).await? else {
        // Created meanwhile by a request repairing the same creation: its job is that
        // request's to publish (or the sweeper's, if that request dies).
        return deps
            .store
            .operation(ctx.tenant, operation)
            .await?
            .ok_or_else(|| ApiError::unavailable("The operation", "it is being created"));
    };
    #[cfg(feature = "fail-points")]
    crate::fail_point::reached("intake-after-record");
    if let Err(cause) = publish(state, &record).await
        && give_up(state, operation).await
    {
        return Err(ApiError::unavailable("The job queue", cause));
    }
    deps.metrics.operation("accepted");
    Ok(record)
}

/// `202 Accepted` for `record`: `Location` (the absolute URL of the status document, or of
/// the `result` view under `Prefer: poll=location`), `Operation-Location` and
/// `Azure-AsyncOperation` (the Azure status monitor), `Retry-After`, and the body of
/// contract §3. Always `202`, whatever the operation has become since.
pub fn accepted_response(
    state: &AppState,
    request_headers: &HeaderMap,
    record: &Operation,
) -> Response {
    let id = record.id;
    let status_url = format!("/api/operations/{id}");
    let location_polling = prefers_location_polling(request_headers);
    let location = if location_polling {
        format!("{status_url}/result")
    } else {
        status_url.clone()
    };
    let monitor = absolute_url(request_headers, state, &format!("{status_url}/monitor"));
    let location = absolute_url(request_headers, state, &location);
    let total = record.progress.total;
    let body = Accepted {
        operation_id: id,
        status: OperationStatus::Accepted,
        status_url,
        estimated_completion_time: clock::rfc3339(
            record.created_millis + i64::try_from(1_000 + total / 10).unwrap_or(i64::MAX),
        ),
    };
    let mut response = (StatusCode::ACCEPTED, Json(body)).into_response();
    let response_headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response_headers.insert(header::LOCATION, location);
    }
    if let Ok(monitor) = HeaderValue::from_str(&monitor) {
        response_headers.insert(header_names::OPERATION_LOCATION, monitor.clone());
        response_headers.insert(header_names::AZURE_ASYNC_OPERATION, monitor);
    }
    if location_polling {
        response_headers.insert(
            header_names::PREFERENCE_APPLIED,
            HeaderValue::from_static(POLL_LOCATION),
        );
    }
    response_headers.insert(header::RETRY_AFTER, HeaderValue::from(POLL_AFTER_SECS));
    response
}

/// The RFC 7240 preference that points `Location` at the `result` view (contract §3a).
const POLL_LOCATION: &str = "poll=location";

/// Does a `Prefer` header of the request carry `poll=location`?
fn prefers_location_polling(request_headers: &HeaderMap) -> bool {
    request_headers
        .get_all(header_names::PREFER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|preference| preference.split(';').next().unwrap_or_default())
        .any(|preference| {
            let mut parts = preference.splitn(2, '=');
            let name = parts.next().unwrap_or_default().trim();
            let value = parts.next().unwrap_or_default().trim().trim_matches('"');
            name.eq_ignore_ascii_case("poll") && value.eq_ignore_ascii_case("location")
        })
}

/// The absolute URL of `path` on this intake, as the client addressed it.
pub fn absolute_url(request_headers: &HeaderMap, state: &AppState, path: &str) -> String {
    let host = request_headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| state.settings().http.listen.to_string(), str::to_owned);
    format!("{}://{host}{path}", state.settings().tls.scheme())
}

/// Queues the job (sends the `accepted` event, which is the job) and awaits its PubAck
/// within the deadline.
async fn publish(state: &AppState, record: &Operation) -> Result<(), async_nats::Error> {
    let stored = async { job::send(state.events(), record).await?.await };
    tokio::time::timeout(DEADLINE * 2, stored)
        .await
        .map_err(|_| "no PubAck within the deadline")??;
    Ok(())
}

/// The job may not be queued: end the operation as failed, so that nothing waits on it,
/// and return true (answer `503`). If the job did reach JetStream after all, its worker
/// finds the operation ended and drops it. When the operation cannot be failed because a
/// worker has claimed it already (the PubAck was lost, not the job: in a JetStream cluster
/// the stream's leader may die between storing the event and answering), return false:
/// the operation runs, and a `503` would make the client submit it again.
async fn give_up(state: &AppState, operation: OperationId) -> bool {
    let deps = state.deps();
    let mut problem = Problem::new(
        503,
        "not-queued",
        "Service Unavailable",
        "The job could not be queued; the request was answered 503 and may be retried.",
    );
    problem.retryable = true;
    match deps
        .store
        .fail_operation(operation, 0, &problem, clock::now_millis())
        .await
    {
        Ok(FailOutcome::Failed(record)) => {
            let event = Event::of(EventKind::Failed, record.document());
            if let Err(error) = state.events().publish(&event).await {
                tracing::warn!(%operation, %error, "failed event not published");
            }
            true
        }
        Ok(FailOutcome::Unchanged) => {
            tracing::warn!(%operation, "a PubAck was lost but a worker has the job: accepted");
            false
        }
        Err(error) => {
            tracing::warn!(%operation, %error, "operation left accepted");
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefer(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(
            header_names::PREFER,
            HeaderValue::from_str(value).expect("header"),
        );
        map
    }

    #[test]
    fn the_location_polling_preference_among_others() {
        assert!(prefers_location_polling(&prefer("poll=location")));
        assert!(prefers_location_polling(&prefer(
            "respond-async, wait=10, Poll=\"location\""
        )));
        assert!(!prefers_location_polling(&prefer("poll=monitor")));
        assert!(!prefers_location_polling(&prefer("return=minimal")));
        assert!(!prefers_location_polling(&HeaderMap::new()));
    }
}
