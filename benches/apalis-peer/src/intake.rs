//! The HTTP side (`apalis-peer serve`): `POST /api/sampleentities/bulk-import` pushes one
//! apalis task and answers `202` with its id; `GET /api/operations/{id}` answers apalis'
//! view of the task (status, attempt, lock holder) merged with the worker's progress hash.

use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr as _;

use apalis::prelude::{FetchById as _, TaskBuilder, TaskId, TaskSink as _};
use apalis_redis::{ConnectionManager, RedisStorage};
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use redis::AsyncCommands as _;
use serde_json::json;

use crate::store::{BulkImport, progress_key};

/// The path imports are posted to: the participant's, so one client drives both.
pub const IMPORT_PATH: &str = "/api/sampleentities/bulk-import";

#[derive(Clone)]
struct App {
    storage: RedisStorage<BulkImport>,
    redis: ConnectionManager,
}

/// The one route table.
pub fn router(storage: RedisStorage<BulkImport>, redis: ConnectionManager) -> Router {
    Router::new()
        .route(IMPORT_PATH, post(create))
        .route("/api/operations/{id}", get(show))
        .with_state(App { storage, redis })
}

/// Serves `router` on `listener` until `shutdown` resolves, then finishes what is in flight.
pub async fn run(
    listener: tokio::net::TcpListener,
    storage: RedisStorage<BulkImport>,
    redis: ConnectionManager,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    axum::serve(listener, router(storage, redis))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}

/// Pushes the body as one task under an id chosen here (`push_task` answers nothing).
async fn create(State(app): State<App>, Json(import): Json<BulkImport>) -> Response {
    if import.items.is_empty() {
        return problem(StatusCode::BAD_REQUEST, "items must not be empty");
    }
    let id = TaskId::from_ulid(ulid::Ulid::generate());
    let task = TaskBuilder::new(import).task_id(id.clone()).build();
    let mut storage = app.storage.clone();
    if let Err(error) = storage.push_task(task).await {
        eprintln!("serve: pushing a task: {error}");
        return problem(StatusCode::SERVICE_UNAVAILABLE, "the queue is unavailable");
    }
    let location = format!("/api/operations/{id}");
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(json!({ "operationId": id.to_string() })),
    )
        .into_response()
}

/// apalis' task (`FetchById`) and the worker's progress, in one document.
async fn show(State(app): State<App>, Path(id): Path<String>) -> Response {
    let Ok(task_id) = TaskId::from_str(&id) else {
        return problem(StatusCode::NOT_FOUND, "no such operation");
    };
    let mut storage = app.storage.clone();
    let task = match storage.fetch_by_id(&task_id).await {
        Ok(Some(task)) => task,
        Ok(None) => return problem(StatusCode::NOT_FOUND, "no such operation"),
        Err(error) => {
            eprintln!("serve: fetching task {id}: {error}");
            return problem(StatusCode::SERVICE_UNAVAILABLE, "the queue is unavailable");
        }
    };
    let mut redis = app.redis.clone();
    let progress: HashMap<String, String> = match redis.hgetall(progress_key(&id)).await {
        Ok(progress) => progress,
        Err(error) => {
            eprintln!("serve: reading the progress of {id}: {error}");
            return problem(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
        }
    };
    let number = |field: &str| progress.get(field).and_then(|v| v.parse::<u64>().ok());
    let context = task.ctx();
    Json(json!({
        "operationId": id,
        "status": context.status().to_string(),
        "attempt": context.attempt(),
        "lockedBy": context.lock_by(),
        "state": progress.get("state"),
        "progress": { "current": number("current"), "total": number("total") },
        "startedAtUs": number("started_at"),
        "completedAtUs": number("completed_at"),
    }))
    .into_response()
}

fn problem(status: StatusCode, detail: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        Json(json!({ "status": status.as_u16(), "detail": detail })),
    )
        .into_response()
}
