//! The contract's request headers (§1), read once into a [`RequestContext`].

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName};
use shared::contract::Workflow;
use shared::ids::TenantId;

use crate::header_names;
use crate::problem::ApiError;

/// The correlation id of a request, chosen by the outermost middleware.
#[derive(Clone, Debug)]
pub struct CorrelationId(pub String);

/// Who is asking, and on whose behalf: the headers every `/api` request may carry.
#[derive(Clone, Debug)]
pub struct RequestContext {
    pub tenant: TenantId,
    pub org: Option<String>,
    pub actor: Option<String>,
    pub correlation: String,
    pub workflow: Workflow,
    /// W3C trace context, when the caller sent a well-formed one.
    pub traceparent: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let tenant = match text(&parts.headers, &header_names::TENANT_ID) {
            None => {
                return Err(ApiError::bad_request(
                    "tenant-required",
                    "The X-Tenant-Id header is required.",
                ));
            }
            Some(value) => value.parse::<TenantId>().map_err(|_| {
                ApiError::bad_request("tenant-invalid", "X-Tenant-Id must be a UUID.")
            })?,
        };
        let correlation = parts
            .extensions
            .get::<CorrelationId>()
            .map(|c| c.0.clone())
            .unwrap_or_default();
        Ok(Self {
            tenant,
            org: text(&parts.headers, &header_names::ORG_ID),
            actor: text(&parts.headers, &header_names::ACTOR_ID),
            correlation,
            workflow: Workflow {
                id: text(&parts.headers, &header_names::WORKFLOW_ID),
                step: text(&parts.headers, &header_names::WORKFLOW_STEP),
                name: text(&parts.headers, &header_names::WORKFLOW_NAME),
            },
            traceparent: text(&parts.headers, &header_names::TRACEPARENT)
                .filter(|t| is_traceparent(t)),
        })
    }
}

/// The tenant of an event stream: `X-Tenant-Id`, else `?tenantId=` (a browser's
/// `EventSource` cannot send headers; contract §7a). The header wins when both are sent.
#[derive(Clone, Copy, Debug)]
pub struct StreamTenant(pub TenantId);

impl<S: Send + Sync> FromRequestParts<S> for StreamTenant {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let from_query = || {
            url::form_urlencoded::parse(parts.uri.query().unwrap_or_default().as_bytes())
                .find(|(name, _)| name == "tenantId")
                .map(|(_, value)| value.into_owned())
        };
        let value = text(&parts.headers, &header_names::TENANT_ID)
            .or_else(from_query)
            .ok_or_else(|| {
                ApiError::bad_request(
                    "tenant-required",
                    "The X-Tenant-Id header (or ?tenantId=) is required.",
                )
            })?;
        value
            .parse()
            .map(Self)
            .map_err(|_| ApiError::bad_request("tenant-invalid", "The tenant must be a UUID."))
    }
}

/// The id in a resource's path; one that is not a UUID names nothing, so it is `404`, like
/// an unknown id or another tenant's.
pub fn id_in_path<Id: std::str::FromStr>(raw: &str, what: &str) -> Result<Id, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found(what))
}

/// `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>` (W3C Trace Context).
fn is_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    parts.len() == 4
        && hex(parts[0], 2)
        && hex(parts[1], 32)
        && hex(parts[2], 16)
        && hex(parts[3], 2)
}

/// A header's value, trimmed, when present, non-empty and visible ASCII.
pub fn text(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}
