//! `GET /api/operations/{id}/monitor`: the operation as an Azure status monitor (contract
//! §3a), the URL of every `202`'s `Operation-Location` and `Azure-AsyncOperation`. Azure
//! REST pollers stop on `Succeeded`, `Failed` or `Canceled`, then read `Location`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use shared::contract::{OperationStatus, Problem, StatusDocument};
use shared::ids::OperationId;
use utoipa::ToSchema;

use crate::accept::POLL_AFTER_SECS;
use crate::context::RequestContext;
use crate::problem::ApiError;
use crate::routes::docs::TenantHeader;
use crate::routes::operations::find;
use crate::state::AppState;

/// The Azure status monitor body.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Monitor {
    id: OperationId,
    status: MonitorStatus,
    /// 0 to 100.
    percent_complete: u8,
    created_date_time: String,
    last_updated_date_time: String,
    /// Only when `Failed` or `Canceled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<MonitorError>,
}

/// The Azure names of the lifecycle.
#[derive(Serialize, ToSchema)]
pub enum MonitorStatus {
    NotStarted,
    Running,
    Succeeded,
    Failed,
    Canceled,
}

#[derive(Serialize, ToSchema)]
pub struct MonitorError {
    code: String,
    message: String,
}

/// The operation as an Azure status monitor: always `200`, `Retry-After` while not ended.
#[utoipa::path(
    get,
    path = "/api/operations/{id}/monitor",
    tag = "operations",
    params(TenantHeader, ("id" = String, Path, description = "Operation id")),
    responses(
        (status = 200, description = "The status monitor; `Retry-After` while not terminal", body = Monitor),
        (status = 404, description = "Unknown, or another tenant's", content_type = "application/problem+json", body = Problem),
    )
)]
pub async fn monitor(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let record = find(&state, ctx.tenant, &id).await?;
    let document = &record.document();
    let mut response = Json(Monitor::of(document)).into_response();
    if !document.status.is_terminal() {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(POLL_AFTER_SECS));
    }
    Ok(response)
}

impl Monitor {
    fn of(document: &StatusDocument) -> Self {
        let (status, error) = match document.status {
            OperationStatus::Accepted => (MonitorStatus::NotStarted, None),
            OperationStatus::Running => (MonitorStatus::Running, None),
            OperationStatus::Completed => (MonitorStatus::Succeeded, None),
            OperationStatus::Failed => (
                MonitorStatus::Failed,
                Some(document.error.as_ref().map_or_else(
                    || MonitorError {
                        code: "operation-failed".into(),
                        message: "The operation failed.".into(),
                    },
                    |problem| MonitorError {
                        code: problem.code.clone(),
                        message: problem.detail.clone(),
                    },
                )),
            ),
            OperationStatus::Cancelled => (
                MonitorStatus::Canceled,
                Some(MonitorError {
                    code: "operation-cancelled".into(),
                    message: "The operation was cancelled.".into(),
                }),
            ),
        };
        Self {
            id: document.operation_id,
            status,
            percent_complete: document.progress.percentage,
            created_date_time: document.created_at.clone(),
            last_updated_date_time: document.updated_at.clone(),
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};
    use uuid::Uuid;

    use super::*;

    fn monitor_of(status: &str, error: Value) -> Value {
        let document: StatusDocument = serde_json::from_value(json!({
            "operationId": Uuid::nil(), "kind": "k", "status": status,
            "cancelRequested": false,
            "progress": {"current": 3, "total": 4, "percentage": 75},
            "result": null, "error": error, "tenantId": Uuid::nil(), "orgId": null,
            "actorId": null, "correlationId": "c", "attempt": 1,
            "createdAt": "2026-01-01T00:00:00Z", "startedAt": null,
            "updatedAt": "2026-01-01T00:00:01Z", "completedAt": null,
        }))
        .expect("a status document");
        serde_json::to_value(Monitor::of(&document)).expect("JSON")
    }

    #[test]
    fn each_status_has_its_azure_name_and_only_endings_carry_an_error() {
        for (status, azure) in [
            ("accepted", "NotStarted"),
            ("running", "Running"),
            ("completed", "Succeeded"),
        ] {
            let monitor = monitor_of(status, Value::Null);
            assert_eq!(monitor["status"], azure);
            assert!(monitor.get("error").is_none());
        }
        let problem = serde_json::to_value(Problem::new(500, "max-deliveries", "t", "gave up"))
            .expect("JSON");
        let failed = monitor_of("failed", problem);
        assert_eq!(failed["status"], "Failed");
        assert_eq!(
            failed["error"],
            json!({"code": "max-deliveries", "message": "gave up"})
        );
        let cancelled = monitor_of("cancelled", Value::Null);
        assert_eq!(cancelled["status"], "Canceled");
        assert_eq!(cancelled["error"]["code"], "operation-cancelled");
        assert_eq!(monitor_of("running", Value::Null)["percentComplete"], 75);
        assert_eq!(
            monitor_of("running", Value::Null)["lastUpdatedDateTime"],
            "2026-01-01T00:00:01Z"
        );
    }
}
