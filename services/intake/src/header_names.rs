//! The contract's HTTP headers (`shared::contract::headers`) as names made once: a lookup
//! or an insert by `&str` parses and checks the name every time.

use axum::http::HeaderName;
use shared::contract::headers;

pub const TENANT_ID: HeaderName = HeaderName::from_static(headers::TENANT_ID);
pub const ORG_ID: HeaderName = HeaderName::from_static(headers::ORG_ID);
pub const ACTOR_ID: HeaderName = HeaderName::from_static(headers::ACTOR_ID);
pub const CORRELATION_ID: HeaderName = HeaderName::from_static(headers::CORRELATION_ID);
pub const WORKFLOW_ID: HeaderName = HeaderName::from_static(headers::WORKFLOW_ID);
pub const WORKFLOW_STEP: HeaderName = HeaderName::from_static(headers::WORKFLOW_STEP);
pub const WORKFLOW_NAME: HeaderName = HeaderName::from_static(headers::WORKFLOW_NAME);
pub const TRACEPARENT: HeaderName = HeaderName::from_static(headers::TRACEPARENT);
pub const PREFER: HeaderName = HeaderName::from_static(headers::PREFER);
pub const PREFERENCE_APPLIED: HeaderName = HeaderName::from_static(headers::PREFERENCE_APPLIED);
pub const OPERATION_LOCATION: HeaderName = HeaderName::from_static(headers::OPERATION_LOCATION);
pub const AZURE_ASYNC_OPERATION: HeaderName =
    HeaderName::from_static(headers::AZURE_ASYNC_OPERATION);
pub const CALLBACK_URL: HeaderName = HeaderName::from_static(headers::CALLBACK_URL);
pub const CALLBACK_EVENTS: HeaderName = HeaderName::from_static(headers::CALLBACK_EVENTS);
