//! `POST /api/sampleentities` and `GET /api/sampleentities/{id}`: quick work, answered at
//! once.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::value::RawValue;
use shared::clock;
use shared::contract::FieldError;
use shared::entity::{Fields, entity_json, valid_name};
use shared::store::EntityCreated;
use uuid::Uuid;

use shared::contract::Problem;

use crate::body::JsonBody;
use crate::context::{RequestContext, id_in_path};
use crate::problem::ApiError;
use crate::routes::docs::{IdempotencyHeader, TenantHeader};
use crate::state::AppState;

/// Creates one entity: `201` with `Location`, or `409` when the tenant has the name.
#[utoipa::path(
    post,
    path = "/api/sampleentities",
    tag = "sample entities",
    params(TenantHeader, IdempotencyHeader),
    request_body(content = serde_json::Value, description = "`name` (a non-empty string, unique in the tenant) and any other fields"),
    responses(
        (status = 201, description = "Created; `Location` names it", body = serde_json::Value),
        (status = 400, description = "Invalid name or body", content_type = "application/problem+json", body = Problem),
        (status = 409, description = "The tenant has an entity of that name", content_type = "application/problem+json", body = Problem),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    ctx: RequestContext,
    JsonBody(fields): JsonBody<Fields<Box<RawValue>>>,
) -> Result<Response, ApiError> {
    let Some(name) = valid_name(&fields) else {
        return Err(ApiError::validation(vec![FieldError {
            pointer: "/name".into(),
            detail: "name required: a non-empty string".into(),
        }]));
    };
    let id = Uuid::now_v7();
    let entity = entity_json(&fields, id, &clock::rfc3339(clock::now_millis()));
    let created = state
        .deps()
        .store
        .import_entities(ctx.tenant, &[(name.clone(), id, entity.clone())])
        .await?;
    if created.first() != Some(&EntityCreated::Created) {
        return Err(ApiError::conflict(
            "duplicate-name",
            format!("The tenant already has an entity named {name:?}."),
        ));
    }
    let location = format!("/api/sampleentities/{id}");
    Ok((
        StatusCode::CREATED,
        [
            (header::LOCATION, location),
            (header::CONTENT_TYPE, "application/json".to_owned()),
        ],
        entity,
    )
        .into_response())
}

/// One entity of the tenant; `404` for an unknown id or another tenant's.
#[utoipa::path(
    get,
    path = "/api/sampleentities/{id}",
    tag = "sample entities",
    params(TenantHeader, ("id" = String, Path, description = "Entity id")),
    responses(
        (status = 200, description = "The entity", body = serde_json::Value),
        (status = 404, description = "Unknown, or another tenant's", content_type = "application/problem+json", body = Problem),
    )
)]
pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = id_in_path(&id, "entity")?;
    let entity = state
        .deps()
        .store
        .entity(ctx.tenant, id)
        .await?
        .ok_or_else(|| ApiError::not_found("entity"))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], entity).into_response())
}
