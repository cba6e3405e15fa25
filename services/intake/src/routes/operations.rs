//! `GET /api/operations/{id}` (with `ETag`, `If-None-Match` and long polling) and
//! `GET /api/operations` (the tenant's operations, newest first, paged).

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use shared::contract::{FieldError, OperationStatus, StatusDocument};
use shared::ids::{OperationId, TenantId};
use shared::operation::Operation;
use uuid::Uuid;

use shared::contract::Problem;
use utoipa::ToSchema;

use crate::accept::POLL_AFTER_SECS;
use crate::context::{RequestContext, id_in_path};
use crate::long_poll;
use crate::problem::ApiError;
use crate::routes::docs::TenantHeader;
use crate::state::AppState;

/// Longest `?waitSeconds=` accepted.
const MAX_WAIT_SECS: u64 = 30;
const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: usize = 100;

/// An operation's status document, with `ETag`, `If-None-Match` and long polling.
#[utoipa::path(
    get,
    path = "/api/operations/{id}",
    tag = "operations",
    params(
        TenantHeader,
        ("id" = String, Path, description = "Operation id"),
        ("waitSeconds" = Option<u64>, Query, description = "Hold the answer up to this many seconds (at most 30) until the document changes"),
        ("If-None-Match" = Option<String>, Header, description = "`304` while the document still has this ETag"),
    ),
    responses(
        (status = 200, description = "The status document; `Retry-After` while not terminal", body = StatusDocument),
        (status = 304, description = "Unchanged"),
        (status = 404, description = "Unknown, or another tenant's", content_type = "application/problem+json", body = Problem),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let wait = match query.get("waitSeconds") {
        None => Duration::ZERO,
        Some(value) => value
            .parse::<u64>()
            .ok()
            .filter(|s| *s <= MAX_WAIT_SECS)
            .map(Duration::from_secs)
            .ok_or_else(|| {
                invalid_query(
                    "waitSeconds",
                    &format!("waitSeconds must be 0 to {MAX_WAIT_SECS}"),
                )
            })?,
    };
    let mut record = find(&state, ctx.tenant, &id).await?;

    let if_none_match = request_headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok());
    let client_is_current = if_none_match.is_none_or(|tags| matches_etag(tags, &etag(&record)));
    if !wait.is_zero() && !record.status.is_terminal() && client_is_current {
        record = long_poll::until_changed(&state, record, wait).await?;
    }
    if if_none_match.is_some_and(|tags| matches_etag(tags, &etag(&record))) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        set_caching_headers(response.headers_mut(), &record);
        return Ok(response);
    }
    Ok(document_response(StatusCode::OK, &record))
}

/// The operation `raw` (its id as the path gave it) of `tenant`; `404` when unknown, not
/// an id, or another tenant's.
pub async fn find(state: &AppState, tenant: TenantId, raw: &str) -> Result<Operation, ApiError> {
    let id: OperationId = id_in_path(raw, "operation")?;
    state
        .deps()
        .store
        .operation(tenant, id)
        .await?
        .ok_or_else(|| ApiError::not_found("operation"))
}

/// A status document answer, with its `ETag` and, while not terminal, `Retry-After`.
pub fn document_response(status: StatusCode, record: &Operation) -> Response {
    let mut response = (status, Json(&record.document())).into_response();
    set_caching_headers(response.headers_mut(), record);
    response
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationList {
    operations: Vec<StatusDocument>,
    next_cursor: Option<String>,
}

/// The tenant's operations, newest first.
#[utoipa::path(
    get,
    path = "/api/operations",
    tag = "operations",
    params(
        TenantHeader,
        ("status" = Option<OperationStatus>, Query, description = "Only operations in this status"),
        ("limit" = Option<usize>, Query, description = "1 to 100, default 20"),
        ("cursor" = Option<String>, Query, description = "`nextCursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of status documents", body = OperationList),
        (status = 400, description = "A bad filter, limit or cursor", content_type = "application/problem+json", body = Problem),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    ctx: RequestContext,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let status = query
        .get("status")
        .map(|s| {
            OperationStatus::parse(s).ok_or_else(|| {
                invalid_query(
                    "status",
                    "status must be accepted, running, completed, failed or cancelled",
                )
            })
        })
        .transpose()?;
    let limit = query
        .get("limit")
        .map(|l| {
            l.parse::<usize>()
                .ok()
                .filter(|l| (1..=MAX_LIMIT).contains(l))
                .ok_or_else(|| invalid_query("limit", "limit must be 1 to 100"))
        })
        .transpose()?
        .unwrap_or(DEFAULT_LIMIT);
    let after = query
        .get("cursor")
        .map(|c| decode_cursor(c).ok_or_else(|| invalid_query("cursor", "cursor is not valid")))
        .transpose()?;
    let page = state
        .deps()
        .store
        .operations(ctx.tenant, status, limit, after)
        .await?;
    Ok(Json(OperationList {
        operations: page.operations.into_iter().map(|r| r.document()).collect(),
        next_cursor: page.next_after.map(encode_cursor),
    })
    .into_response())
}

/// The strong entity tag of a record: its revision, which every write advances.
fn etag(record: &Operation) -> String {
    format!("\"r{}\"", record.revision)
}

/// Does an `If-None-Match` list name this tag (weak comparison, as RFC 9110 asks)?
fn matches_etag(if_none_match: &str, tag: &str) -> bool {
    if_none_match
        .split(',')
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == tag)
}

/// `ETag` always; `Retry-After` only while the operation is not terminal.
fn set_caching_headers(headers: &mut HeaderMap, record: &Operation) {
    if let Ok(tag) = HeaderValue::from_str(&etag(record)) {
        headers.insert(header::ETAG, tag);
    }
    if !record.status.is_terminal() {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(POLL_AFTER_SECS));
    }
}

fn invalid_query(name: &str, detail: &str) -> ApiError {
    ApiError::validation(vec![FieldError {
        pointer: format!("?{name}"),
        detail: detail.into(),
    }])
    .with_code("invalid-query")
}

fn encode_cursor(after: OperationId) -> String {
    URL_SAFE_NO_PAD.encode(after.0.as_bytes())
}

fn decode_cursor(cursor: &str) -> Option<OperationId> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    Uuid::from_slice(&bytes).ok().map(OperationId)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_lists_and_weak_tags() {
        assert!(matches_etag("\"r3\"", "\"r3\""));
        assert!(matches_etag("\"r1\", W/\"r3\"", "\"r3\""));
        assert!(matches_etag("*", "\"r3\""));
        assert!(!matches_etag("\"r2\"", "\"r3\""));
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let id = OperationId::generate();
        assert_eq!(decode_cursor(&encode_cursor(id)), Some(id));
        assert_eq!(decode_cursor("not a cursor"), None);
    }
}
