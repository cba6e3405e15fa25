//! `POST /api/operations/{id}/compensate`: saga rollback of a completed operation. Answers
//! `202` with a new operation of kind `compensation` that undoes what the original did (for
//! a bulk import: deletes the entities it created); a repeated call answers the same
//! compensation. Naming the compensation on the original and creating it are two steps
//! (two hash tags, so no one script can do both on a cluster); a repeated call finds a
//! compensation named but not created and creates it, under that name, once.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use shared::contract::{OperationStatus, Problem};
use shared::ids::OperationId;
use shared::job::Job;
use shared::store::CompensationStart;

use crate::accept::{self, Accepted, Plan};
use crate::callback_target;
use crate::context::RequestContext;
use crate::problem::ApiError;
use crate::routes::docs::{CallbackHeaders, IdempotencyHeader, PreferHeader, TenantHeader};
use crate::routes::operations::find;
use crate::state::AppState;

#[utoipa::path(
    post,
    path = "/api/operations/{id}/compensate",
    tag = "operations",
    params(
        TenantHeader,
        IdempotencyHeader,
        CallbackHeaders,
        PreferHeader,
        ("id" = String, Path, description = "The completed operation to undo"),
    ),
    responses(
        (status = 202, description = "The compensation, new or (on a repeat) the one already started", body = Accepted, headers(
            ("Location" = String, description = "The absolute URL of the status document; of `/api/operations/{id}/result` under `Prefer: poll=location`"),
            ("Operation-Location" = String, description = "The absolute URL of the Azure status monitor, `/api/operations/{id}/monitor`"),
            ("Azure-AsyncOperation" = String, description = "The same as `Operation-Location`"),
            ("Retry-After" = u64, description = "Seconds before the first poll"),
            ("Preference-Applied" = String, description = "`poll=location` when that preference was applied"),
        )),
        (status = 404, description = "Unknown, or another tenant's", content_type = "application/problem+json", body = Problem),
        (status = 409, description = "The operation is not completed", content_type = "application/problem+json", body = Problem),
    )
)]
pub async fn compensate(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
    request_headers: HeaderMap,
) -> Result<Response, ApiError> {
    let record = find(&state, ctx.tenant, &id).await?;
    let original = record.id;
    let store = &state.deps().store;
    let callback = callback_target::from_headers(&request_headers, state.callback_policy()).await?;
    let candidate = OperationId::generate();
    let compensation = match store
        .begin_compensation(ctx.tenant, original, candidate)
        .await?
    {
        CompensationStart::New => candidate,
        CompensationStart::Existing(named) => match store.operation(ctx.tenant, named).await? {
            Some(existing) => {
                return Ok(accept::accepted_response(
                    &state,
                    &request_headers,
                    &existing,
                ));
            }
            // Named on the original, but its creation was interrupted (the intake died, or
            // Valkey or NATS failed in between): create it now, under the name it has.
            None => named,
        },
        CompensationStart::NotCompleted(status) => return Err(not_completed(status)),
        CompensationStart::NotFound => return Err(ApiError::not_found("operation")),
    };
    #[cfg(feature = "fail-points")]
    crate::fail_point::reached("intake-after-compensation-named");
    let plan = Plan {
        job: Job::Compensation {
            operation_id: compensation,
            tenant_id: ctx.tenant,
            compensates: original,
        },
        items: &[],
        total: record.progress.total,
        callback,
    };
    let created = accept::accept(&state, &ctx, plan).await?;
    Ok(accept::accepted_response(
        &state,
        &request_headers,
        &created,
    ))
}

fn not_completed(status: OperationStatus) -> ApiError {
    ApiError::conflict(
        "operation-not-completed",
        format!(
            "Only a completed operation can be compensated; this one is {}.",
            status.as_str()
        ),
    )
}
