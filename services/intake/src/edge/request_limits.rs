//! What the edge checks of each request, inside the problem rendering so that its answers
//! are problems like every other: the head's size and field count (`431`), the body's
//! minimum rate (`408`, and the connection closes: the rest of the body is not read), and
//! the deadline for the answer (`503`), which starts once the body is in: a body's time
//! is bounded by its rate, so a slow upload does not eat into its handler's time, and a
//! streamed answer (an event stream) is bounded by nothing here once its head is sent.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use shared::config::EdgeConfig;

use super::Cutoff;
use super::body_rate::{MinRate, MinRateBody, Reading};
use crate::problem::ApiError;
use crate::state::AppState;

/// Bytes of a head's framing: ` HTTP/1.1\r\n` after the target, `\r\n` at the end.
const REQUEST_LINE_FRAMING: usize = 11 + 2;
/// Bytes of each header line's framing: `: ` and `\r\n`.
const HEADER_FRAMING: usize = 4;

pub async fn limit_request(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let edge = &state.settings().http.edge;
    let metrics = &state.deps().metrics;
    if let Err(error) = head_within_limits(&req, edge) {
        Cutoff::HeadTooLarge.count(metrics);
        return error.into_response();
    }
    let rate = MinRate {
        grace: edge.body_timeout,
        bytes_per_second: edge.body_min_rate,
    };
    let (parts, body) = req.into_parts();
    let (body, mut reading) = MinRateBody::wrap(body, rate);
    let request = Request::from_parts(parts, Body::new(body));
    let answer_deadline = async {
        let _ = reading
            .wait_for(|reading| *reading != Reading::Arriving)
            .await;
        tokio::time::sleep(edge.request_timeout).await;
    };
    let answered = tokio::select! {
        response = next.run(request) => Some(response),
        () = answer_deadline => None,
    };
    if *reading.borrow() == Reading::TooSlow {
        Cutoff::Body.count(metrics);
        return body_too_slow(edge);
    }
    answered.unwrap_or_else(|| {
        Cutoff::Request.count(metrics);
        ApiError::answer_timeout(edge.request_timeout).into_response()
    })
}

/// `431` for a head over `Http__MaxHeaderBytes` or `Http__MaxHeaders`.
fn head_within_limits(req: &Request, edge: &EdgeConfig) -> Result<(), ApiError> {
    let fields = req.headers().len();
    if fields > usize::from(edge.max_headers) {
        return Err(ApiError::header_fields_too_large(format!(
            "The request has {fields} header fields; this service accepts at most {}.",
            edge.max_headers
        )));
    }
    let size = head_size(req);
    if size > edge.max_header_bytes as usize {
        return Err(ApiError::header_fields_too_large(format!(
            "The request head is {size} bytes; this service accepts at most {}.",
            edge.max_header_bytes
        )));
    }
    Ok(())
}

/// The head's size as sent without optional whitespace: request line, header lines, the
/// blank line.
fn head_size(req: &Request) -> usize {
    let uri = req.uri();
    let target = uri.scheme_str().map_or(0, |s| s.len() + 3)
        + uri.authority().map_or(0, |a| a.as_str().len())
        + uri.path_and_query().map_or(1, |p| p.as_str().len());
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + HEADER_FRAMING)
        .sum();
    req.method().as_str().len() + 1 + target + REQUEST_LINE_FRAMING + headers
}

/// `408`, closing the connection: what is left of the body is never read.
fn body_too_slow(edge: &EdgeConfig) -> Response {
    let mut response = ApiError::body_too_slow(format!(
        "The request body arrived slower than this service accepts: {} bytes a second, \
         after {:?} of grace.",
        edge.body_min_rate, edge.body_timeout
    ))
    .into_response();
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_is_measured_as_sent() {
        let req = Request::builder()
            .method("POST")
            .uri("/api/x?a=1")
            .header("host", "h")
            .header("x-tenant-id", "t")
            .body(Body::empty())
            .unwrap();
        let sent = "POST /api/x?a=1 HTTP/1.1\r\nhost: h\r\nx-tenant-id: t\r\n\r\n";
        assert_eq!(head_size(&req), sent.len());
    }
}
