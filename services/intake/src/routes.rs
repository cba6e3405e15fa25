//! The one route table.

mod bulk_import;
mod cancel;
mod compensate;
mod console;
mod docs;
mod entities;
mod events;
pub mod health;
mod metrics;
mod monitor;
mod operations;
mod result;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;
use utoipa::OpenApi as _;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt as _};
use utoipa_axum::routes;

use crate::edge::limit_request;
use crate::idempotency::idempotency;
use crate::middleware::{finish, negotiate, negotiate_event_stream, tag_route};
use crate::problem::ApiError;
use crate::state::AppState;

/// Every route the intake serves, and what runs around them. The API's routes come with
/// their OpenAPI descriptions, which the router serves at `/openapi.json`; the console's
/// (`/ui`) are no part of the API and are not described there.
pub fn router(state: AppState) -> Router {
    let body_limit = state.settings().http.body_limit();
    let idempotent = from_fn_with_state(state.clone(), idempotency);
    let json = OpenApiRouter::new()
        .routes(routes!(entities::create).map(|m| m.route_layer(idempotent.clone())))
        .routes(routes!(entities::show))
        .routes(routes!(bulk_import::submit).map(|m| m.route_layer(idempotent.clone())))
        .routes(routes!(compensate::compensate).map(|m| m.route_layer(idempotent)))
        .routes(routes!(operations::list))
        .routes(routes!(operations::show, cancel::cancel))
        .routes(routes!(monitor::monitor))
        .routes(routes!(result::result))
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(metrics::render))
        .routes(routes!(docs::openapi))
        .layer(from_fn(negotiate));
    let event_streams = OpenApiRouter::new()
        .routes(routes!(events::operation))
        .routes(routes!(events::tenant))
        .layer(from_fn(negotiate_event_stream));
    let (router, document) = OpenApiRouter::with_openapi(docs::ApiDoc::openapi())
        .merge(json)
        .merge(event_streams)
        .split_for_parts();
    state.set_openapi_json(document.to_json().unwrap_or_default());
    let console = Router::new()
        .route("/ui", get(console::page))
        .route("/ui/operations/{id}", get(console::page))
        .route("/ui/service", get(console::page))
        .route("/ui/assets/{name}", get(console::asset))
        .route(
            "/ui/api/service",
            get(console::service).layer(from_fn(negotiate)),
        );
    router
        .merge(console)
        .route_layer(from_fn(tag_route))
        .fallback(|| async { ApiError::not_found("resource") })
        .layer(from_fn_with_state(state.clone(), limit_request))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(from_fn_with_state(state.clone(), finish))
        .with_state(state)
}
