//! `Idempotency-Key` on every `POST` (contract §4). The key is reserved atomically in
//! Valkey before the handler runs, so of any number of concurrent requests with one key
//! exactly one executes. Its answer is stored with a fingerprint of the request and
//! replayed byte for byte, with `Idempotent-Replayed: true`. Answers a retry could change
//! (validation errors, `409`, `5xx`) are not stored: the reservation is released instead.
//! The reservation is a lease the request renews while it runs ([`lease`]).

mod lease;

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use shared::ids::TenantId;
use shared::store::{Reservation, StoredAnswer};

use self::lease::Lease;

use crate::context::text;
use crate::header_names;
use crate::problem::ApiError;
use crate::state::AppState;

const IDEMPOTENCY_KEY: &str = "idempotency-key";
const REPLAYED: &str = "idempotent-replayed";
/// Headers of an answer that are stored and replayed with its body.
const KEPT_HEADERS: [HeaderName; 6] = [
    header::CONTENT_TYPE,
    header::LOCATION,
    header::RETRY_AFTER,
    header_names::OPERATION_LOCATION,
    header_names::AZURE_ASYNC_OPERATION,
    header_names::PREFERENCE_APPLIED,
];

pub async fn idempotency(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(raw_key) = req.headers().get(IDEMPOTENCY_KEY).cloned() else {
        return next.run(req).await;
    };
    let key = match parse_key(&raw_key) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    let Some(tenant) =
        text(req.headers(), &header_names::TENANT_ID).and_then(|t| t.parse::<TenantId>().ok())
    else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let Ok(body) = to_bytes(body, state.settings().http.body_limit()).await else {
        return ApiError::payload_too_large().into_response();
    };
    let path = parts.uri.path();
    let scope = digest(&[
        parts.method.as_str().as_bytes(),
        path.as_bytes(),
        key.as_bytes(),
    ]);
    let fingerprint = digest(&[parts.method.as_str().as_bytes(), path.as_bytes(), &body]);

    let store = &state.deps().store;
    let token = match store
        .reserve_idempotency_key(tenant, &scope, &fingerprint)
        .await
    {
        Err(error) => return ApiError::from(error).into_response(),
        Ok(Reservation::Reserved { token }) => token,
        Ok(Reservation::InFlight { fingerprint: held }) if held == fingerprint => {
            let mut error = ApiError::conflict(
                "idempotency-key-in-flight",
                "A request with this Idempotency-Key is still being processed; retry later.",
            );
            error.set_retryable();
            return error.into_response();
        }
        Ok(Reservation::Done {
            fingerprint: held,
            answer,
        }) if held == fingerprint => return replay(answer),
        Ok(_) => return reused_key(),
    };

    // Run to the end even if the client goes away meanwhile: the answer must be stored (or
    // the key released), or a retry after the lease lapses would run it twice.
    let lease = Lease {
        store: store.clone(),
        tenant,
        scope,
        fingerprint,
        token,
    };
    let state_for_task = state.clone();
    let finished = state.tasks().spawn(async move {
        let request = Request::from_parts(parts, Body::from(body));
        let response = lease.hold(next.run(request)).await;
        settle(&state_for_task, lease, response).await
    });
    finished
        .await
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Stores the answer for the key, or releases the key when the answer is not to be kept.
async fn settle(state: &AppState, lease: Lease, response: Response) -> Response {
    if !is_kept(response.status()) {
        lease.release(state.tasks()).await;
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let answer = StoredAnswer {
        status: parts.status.as_u16(),
        headers: KEPT_HEADERS
            .iter()
            .filter_map(|name| {
                let value = parts.headers.get(name)?.to_str().ok()?;
                Some((name.as_str().to_owned(), value.to_owned()))
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    };
    let retention = state.settings().retention.idempotency;
    lease.complete(state.tasks(), answer, retention).await;
    Response::from_parts(parts, Body::from(body))
}

/// `"key"` (structured-field syntax) and `key` are the same key: 1 to 255 printable ASCII
/// characters.
fn parse_key(value: &HeaderValue) -> Result<String, ApiError> {
    let invalid = || {
        ApiError::bad_request(
            "idempotency-key-invalid",
            "Idempotency-Key must be 1 to 255 printable ASCII characters.",
        )
    };
    let raw = value.to_str().map_err(|_| invalid())?;
    let key = raw
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .unwrap_or(raw);
    let printable = key.bytes().all(|b| (0x20..=0x7e).contains(&b));
    if key.is_empty() || key.len() > 255 || !printable {
        return Err(invalid());
    }
    Ok(key.to_owned())
}

/// Answers worth replaying: not a validation error, a conflict or a server error, which a
/// retry could turn out differently.
fn is_kept(status: StatusCode) -> bool {
    let retry_may_differ = matches!(
        status,
        StatusCode::BAD_REQUEST
            | StatusCode::CONFLICT
            | StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::UNSUPPORTED_MEDIA_TYPE
            | StatusCode::UNPROCESSABLE_ENTITY
            | StatusCode::TOO_MANY_REQUESTS
    );
    !retry_may_differ && !status.is_server_error()
}

fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, Bytes::from(answer.body)).into_response();
    let response_headers = response.headers_mut();
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response_headers.insert(name, value);
        }
    }
    response_headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

fn reused_key() -> Response {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency-key-reused",
        "This Idempotency-Key was used for a different request.",
    )
    .into_response()
}

/// Hex SHA-256 over the parts, each length-prefixed so that no two lists collide.
fn digest(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    format!("{:x}", hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_and_bare_keys_are_the_same_key() {
        let bare = parse_key(&HeaderValue::from_static("abc-123")).unwrap();
        let quoted = parse_key(&HeaderValue::from_static("\"abc-123\"")).unwrap();
        assert_eq!(bare, quoted);
    }

    #[test]
    fn keys_must_be_short_printable_ascii() {
        assert!(parse_key(&HeaderValue::from_static("\"\"")).is_err());
        let long = "k".repeat(256);
        assert!(parse_key(&HeaderValue::from_str(&long).unwrap()).is_err());
        assert!(parse_key(&HeaderValue::from_bytes(b"caf\xc3\xa9").unwrap()).is_err());
        assert!(parse_key(&HeaderValue::from_str(&"k".repeat(255)).unwrap()).is_ok());
    }

    #[test]
    fn answers_a_retry_could_change_are_not_kept() {
        assert!(is_kept(StatusCode::ACCEPTED));
        assert!(is_kept(StatusCode::CREATED));
        assert!(is_kept(StatusCode::NOT_FOUND));
        assert!(!is_kept(StatusCode::BAD_REQUEST));
        assert!(!is_kept(StatusCode::CONFLICT));
        assert!(!is_kept(StatusCode::SERVICE_UNAVAILABLE));
    }

    #[test]
    fn digests_do_not_collide_across_boundaries() {
        assert_ne!(digest(&[b"ab", b"c"]), digest(&[b"a", b"bc"]));
    }
}
