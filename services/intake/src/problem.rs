//! The one place errors become HTTP answers. A handler returns an [`ApiError`]; its
//! response carries the [`Problem`] as an extension, and the outermost middleware renders
//! it, adding `instance` and `correlationId`, so every error of every route (the fallback
//! and axum's own rejections included) has one format.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::contract::{FieldError, Problem, StatusDocument};
use shared::store::StoreError;

/// Seconds a client should wait before retrying after a dependency outage.
pub const RETRY_AFTER_OUTAGE_SECS: u64 = 2;

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    problem: Box<Problem>,
    /// What went wrong inside, for the log line; never sent.
    cause: Option<String>,
}

/// The cause of a 5xx, left on the response for the request log.
#[derive(Clone, Debug)]
pub struct ErrorCause(pub String);

impl ApiError {
    pub fn new(status: StatusCode, code: &str, detail: impl Into<String>) -> Self {
        let title = status.canonical_reason().unwrap_or("Error");
        Self {
            problem: Box::new(Problem::new(status.as_u16(), code, title, detail)),
            cause: None,
        }
    }

    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// `400` listing invalid fields by JSON pointer.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut error = Self::bad_request("validation-failed", "The request has invalid fields.");
        error.problem.errors = errors;
        error
    }

    /// Marks the error as one the same request may get past later.
    pub fn set_retryable(&mut self) {
        self.problem.retryable = true;
    }

    /// Replaces the machine `code`.
    pub fn with_code(mut self, code: &str) -> Self {
        self.problem.problem_type = format!("https://participant.dev/problems/{code}");
        self.problem.code = code.to_owned();
        self
    }

    /// Carries an operation's status document in the problem's `operation` member.
    pub fn with_operation(mut self, document: &StatusDocument) -> Self {
        self.problem.operation = serde_json::to_value(document).ok().map(Box::new);
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("No such {what}."),
        )
    }

    pub fn payload_too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload-too-large",
            "The request body is larger than this service accepts.",
        )
    }

    /// `431`: the request head is over a limit.
    pub fn header_fields_too_large(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "header-fields-too-large",
            detail,
        )
    }

    /// `408`: the request body arrived too slowly; the same request on a faster link may
    /// succeed.
    pub fn body_too_slow(detail: impl Into<String>) -> Self {
        let mut error = Self::new(StatusCode::REQUEST_TIMEOUT, "body-too-slow", detail);
        error.problem.retryable = true;
        error
    }

    /// `503` with `Retry-After`: no answer within the request deadline.
    pub fn answer_timeout(deadline: std::time::Duration) -> Self {
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "answer-timeout",
            "The service could not answer in time; retry later.",
        );
        error.problem.retryable = true;
        error.cause = Some(format!("no answer within {deadline:?} of the request body"));
        error
    }

    pub fn conflict(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// `503` with `Retry-After`: a dependency is down; the same request may succeed later.
    pub fn unavailable(dependency: &str, cause: impl std::fmt::Display) -> Self {
        let mut error = Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "dependency-unavailable",
            format!("{dependency} is unavailable; retry later."),
        );
        error.problem.retryable = true;
        error.cause = Some(format!("{dependency}: {cause}"));
        error
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        Self::unavailable("The operation store", error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = status.into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(RETRY_AFTER_OUTAGE_SECS),
            );
        }
        if let Some(cause) = self.cause {
            response.extensions_mut().insert(ErrorCause(cause));
        }
        response.extensions_mut().insert(*self.problem);
        response
    }
}

/// The problem for an error answer that no handler described (axum's `405`, say).
pub fn for_status(status: StatusCode) -> Problem {
    let title = status.canonical_reason().unwrap_or("Error");
    let (code, detail) = match status {
        StatusCode::NOT_FOUND => ("not-found", "No such resource."),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method-not-allowed",
            "This resource does not support that method.",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload-too-large", "The request body is too large."),
        s if s.is_server_error() => ("internal", "The request could not be completed."),
        _ => ("error", title),
    };
    let mut problem = Problem::new(status.as_u16(), code, title, detail);
    problem.retryable = status.is_server_error();
    problem
}
