//! What runs around every route: the correlation id, content negotiation, the canonical
//! log line, and the rendering of problems.

use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::contract::Problem;
use uuid::Uuid;

use shared::metrics::{RequestLabels, RouteLabels};

use tracing::Instrument as _;

use crate::context::{CorrelationId, text};
use crate::edge::PeerIdentity;
use crate::header_names;
use crate::problem::{self, ApiError, ErrorCause};
use crate::state::AppState;

const PROBLEM_JSON: &str = "application/problem+json";

/// The route template that served a request, left on its response for [`finish`].
#[derive(Clone, Debug)]
pub struct RouteTemplate(pub String);

/// Runs inside routing (a route layer), where the matched route is known.
pub async fn tag_route(req: Request, next: Next) -> Response {
    let template = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let mut response = next.run(req).await;
    if let Some(template) = template {
        response.extensions_mut().insert(RouteTemplate(template));
    }
    response
}

/// Outermost layer: picks the correlation id (the caller's, or a new UUID), echoes it,
/// runs the request in a span with it and the client's certificate identity, renders any
/// error answer as a problem, counts the request and logs one line for it.
pub async fn finish(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let correlation = text(req.headers(), &header_names::CORRELATION_ID)
        .filter(|c| c.len() <= 255)
        .unwrap_or_else(|| Uuid::new_v4().to_string());
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let peer = req.extensions().get::<PeerIdentity>().map(|p| p.0.clone());
    req.extensions_mut()
        .insert(CorrelationId(correlation.clone()));
    let span = tracing::info_span!("request", %correlation, peer = peer.as_deref());

    let mut response = next.run(req).instrument(span).await;

    let status = response.status();
    if status.is_client_error() || status.is_server_error() {
        response = render_problem(response, &path, &correlation);
    }
    if let Ok(value) = HeaderValue::from_str(&correlation) {
        response
            .headers_mut()
            .insert(header_names::CORRELATION_ID, value);
    }
    let elapsed = started.elapsed();
    let route = response
        .extensions()
        .get::<RouteTemplate>()
        .map_or("unmatched", |r| r.0.as_str())
        .to_owned();
    let metrics = &state.deps().metrics;
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route: route.clone(),
            method: method.to_string(),
            status: status.as_u16(),
        })
        .inc();
    metrics
        .request_seconds
        .get_or_create(&RouteLabels {
            route,
            method: method.to_string(),
        })
        .observe(elapsed.as_secs_f64());
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    match response.extensions().get::<ErrorCause>() {
        Some(ErrorCause(cause)) => tracing::warn!(
            %method, %path, status = status.as_u16(), latency_ms, %correlation, peer = peer.as_deref(), %cause, "request"
        ),
        None => tracing::info!(
            %method, %path, status = status.as_u16(), latency_ms, %correlation, peer = peer.as_deref(), "request"
        ),
    }
    response
}

/// Gives an error answer its problem body: the problem a handler left on it, or one for
/// its status when it came without a JSON body (axum's own rejections).
fn render_problem(response: Response, path: &str, correlation: &str) -> Response {
    let described = response.extensions().get::<Problem>().is_some();
    let has_json_body = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().ends_with(b"json"));
    if !described && has_json_body {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let mut problem = parts
        .extensions
        .remove::<Problem>()
        .unwrap_or_else(|| problem::for_status(parts.status));
    problem.instance = Some(path.to_owned());
    problem.correlation_id = Some(correlation.to_owned());
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// Media ranges that select the JSON representations.
const JSON_RANGES: &[&str] = &[
    "*/*",
    "application/*",
    "application/json",
    "application/problem+json",
    "application/vnd.rithm.v1+json",
];
/// Media ranges that select an event stream.
const EVENT_STREAM_RANGES: &[&str] = &["*/*", "text/*", "text/event-stream"];

/// Refuses an `Accept` that names no representation this service serves (`406`):
/// `application/json`, `application/problem+json`, `*/*`, `application/*` and
/// `application/vnd.rithm.v1+json` are served; another `vnd.rithm` version is not.
pub async fn negotiate(req: Request, next: Next) -> Response {
    if accepts_any(&req, JSON_RANGES) {
        return next.run(req).await;
    }
    not_acceptable("This service serves application/json and application/vnd.rithm.v1+json.")
}

/// The same for the event streams, which serve `text/event-stream`.
pub async fn negotiate_event_stream(req: Request, next: Next) -> Response {
    if accepts_any(&req, EVENT_STREAM_RANGES) {
        return next.run(req).await;
    }
    not_acceptable("This resource serves text/event-stream.")
}

fn not_acceptable(detail: &str) -> Response {
    ApiError::new(StatusCode::NOT_ACCEPTABLE, "not-acceptable", detail).into_response()
}

/// No `Accept` at all, or one that names a range in `served`.
fn accepts_any(req: &Request, served: &[&str]) -> bool {
    let acceptable = req
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>();
    acceptable.is_empty() || names_a_served_range(&acceptable, served)
}

fn names_a_served_range(values: &[&str], served: &[&str]) -> bool {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|range| !refused_by_quality(range))
        .map(|range| {
            range
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
        .any(|media| served.contains(&media.as_str()))
}

/// `q=0` means "not this one".
fn refused_by_quality(range: &str) -> bool {
    range.split(';').skip(1).any(|param| {
        let param = param.trim().replace(' ', "");
        param == "q=0" || param == "q=0.0" || param == "q=0.00" || param == "q=0.000"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_media_ranges() {
        let json = |values: &[&str]| names_a_served_range(values, JSON_RANGES);
        assert!(json(&["application/json"]));
        assert!(json(&["application/vnd.rithm.v1+json"]));
        assert!(json(&["text/html, */*;q=0.8"]));
        assert!(!json(&["application/vnd.rithm.v2+json"]));
        assert!(!json(&["text/html"]));
        assert!(!json(&["application/json;q=0"]));
        assert!(!json(&["text/event-stream"]));
    }

    #[test]
    fn event_stream_media_ranges() {
        let stream = |values: &[&str]| names_a_served_range(values, EVENT_STREAM_RANGES);
        assert!(stream(&["text/event-stream"]));
        assert!(stream(&["*/*"]));
        assert!(!stream(&["application/json"]));
    }
}
