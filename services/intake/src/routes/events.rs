//! `GET /api/operations/{id}/events` and `GET /api/events`: operation events as
//! server-sent events (contract §7a), resumable with `Last-Event-ID`.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use shared::contract::{FieldError, Problem};

use crate::context::StreamTenant;
use crate::event_stream::{self, Ending, Start};
use crate::problem::ApiError;
use crate::routes::operations::find;
use crate::state::AppState;

const LAST_EVENT_ID: &str = "last-event-id";

/// One operation's events, from `accepted` on (or after `Last-Event-ID`), then live; the
/// stream ends after the terminal event.
#[utoipa::path(
    get,
    path = "/api/operations/{id}/events",
    tag = "operations",
    params(
        ("id" = String, Path, description = "Operation id"),
        ("X-Tenant-Id" = Option<String>, Header, description = "The tenant (a UUID); or `?tenantId=`"),
        ("tenantId" = Option<String>, Query, description = "The tenant, for clients that cannot send headers"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume right after this event"),
    ),
    responses(
        (status = 200, description = "`text/event-stream`: `id` (a cursor), `event` (the event name), `data` (the event payload)", content_type = "text/event-stream", body = String),
        (status = 400, description = "No tenant, or a bad `Last-Event-ID`", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "Unknown, or another tenant's", content_type = "application/problem+json", body = Problem),
        (status = 503, description = "Too many streams open, or JetStream unavailable; see Retry-After", content_type = "application/problem+json", body = Problem),
    )
)]
pub async fn operation(
    State(state): State<AppState>,
    StreamTenant(tenant): StreamTenant,
    Path(id): Path<String>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let start = cursor(request_headers.get(LAST_EVENT_ID), "Last-Event-ID")?
        .map_or(Start::All, Start::After);
    let operation = find(&state, tenant, &id).await?.id;
    let filter = state.deps().names.operation_events(tenant, operation);
    event_stream::open(&state, filter, start, Some(Ending { tenant, operation })).await
}

/// Every event of the tenant, live (or from a point, with `?since=` or `Last-Event-ID`),
/// until the client leaves.
#[utoipa::path(
    get,
    path = "/api/events",
    tag = "operations",
    params(
        ("X-Tenant-Id" = Option<String>, Header, description = "The tenant (a UUID); or `?tenantId=`"),
        ("tenantId" = Option<String>, Query, description = "The tenant, for clients that cannot send headers"),
        ("since" = Option<String>, Query, description = "Replay from right after this event"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume right after this event; wins over `since`"),
    ),
    responses(
        (status = 200, description = "`text/event-stream`: `id` (a cursor), `event` (the event name), `data` (the event payload)", content_type = "text/event-stream", body = String),
        (status = 400, description = "No tenant, or a bad cursor", content_type = "application/problem+json", body = Problem),
        (status = 503, description = "Too many streams open, or JetStream unavailable; see Retry-After", content_type = "application/problem+json", body = Problem),
    )
)]
pub async fn tenant(
    State(state): State<AppState>,
    StreamTenant(tenant): StreamTenant,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let since = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(name, _)| name == "since")
        .map(|(_, value)| value.into_owned());
    let resumed = cursor(request_headers.get(LAST_EVENT_ID), "Last-Event-ID")?;
    let since = cursor(since.as_ref(), "?since")?;
    let start = resumed.or(since).map_or(Start::New, Start::After);
    let filter = state.deps().names.tenant_events(tenant);
    event_stream::open(&state, filter, start, None).await
}

/// A cursor of a previous event (its `id`), when one was sent.
fn cursor(value: Option<&impl AsRef<[u8]>>, name: &str) -> Result<Option<u64>, ApiError> {
    value
        .map(|value| {
            std::str::from_utf8(value.as_ref())
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::validation(vec![FieldError {
                        pointer: name.to_owned(),
                        detail: format!("{name} must be the id of an event of this stream"),
                    }])
                    .with_code("invalid-cursor")
                })
        })
        .transpose()
}
