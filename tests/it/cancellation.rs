//! Contract §2 `DELETE /api/operations/{id}`: best-effort cancellation.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::app::{Options, TestApp, named_items, spawn_app_with};
use crate::support::events::replay;
use crate::support::{servers, spawn_app, wait};

async fn cancel(app: &TestApp, id: uuid::Uuid) -> (StatusCode, reqwest::header::HeaderMap, Value) {
    let response = app
        .api(Method::DELETE, &format!("/api/operations/{id}"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.json().await.unwrap())
}

#[tokio::test]
async fn an_operation_not_started_is_cancelled_at_once_and_never_runs() {
    let options = Options {
        worker: false,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let id = app.accepted(named_items("c", 10)).await;

    let (status, headers, doc) = cancel(&app, id).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(doc["status"], "cancelled");
    assert_eq!(doc["cancelRequested"], true);
    assert!(!headers.contains_key("retry-after"));
    let (again, _, _) = cancel(&app, id).await;
    assert_eq!(again, StatusCode::OK, "repeated cancels are 200");

    let _worker = app.start_worker().await.drop_guard();
    wait::until("the job acked", Duration::from_secs(20), || async {
        (app.jobs_backlog().await == (0, 0)).then_some(())
    })
    .await;
    assert_eq!(app.operation(id).await["status"], "cancelled");
    assert_eq!(app.entity_count().await, (0, 0), "the job did not run");
    let events: Vec<String> = replay(&app, id)
        .await
        .iter()
        .map(|(_, _, p)| p["event"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(events, ["accepted", "cancelled"]);
}

#[tokio::test]
async fn a_running_operation_stops_promptly_and_keeps_its_partial_result() {
    let options = Options {
        simulated_item_latency: Duration::from_millis(20),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let id = app.accepted(named_items("r", 2_000)).await;
    wait::until(
        "running past the first batch",
        Duration::from_secs(30),
        || async {
            let doc = app.operation(id).await;
            (doc["progress"]["current"].as_u64().unwrap() > 0).then_some(())
        },
    )
    .await;

    let asked = Instant::now();
    let (status, headers, doc) = cancel(&app, id).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(doc["cancelRequested"], true);
    assert_eq!(doc["status"], "running");
    assert!(headers.contains_key("retry-after"));

    let done = app.until_terminal(id, Duration::from_secs(30)).await;
    assert!(
        asked.elapsed() < Duration::from_millis(2_500),
        "a batch takes 5 s; the notice stopped it in {:?}",
        asked.elapsed()
    );
    assert_eq!(done["status"], "cancelled");
    let processed = done["result"]["processed"].as_u64().unwrap();
    assert!(processed > 0 && processed < 2_000, "{done}");
    assert_eq!(done["result"]["succeeded"], processed);
    assert_eq!(app.entity_count().await, (processed, processed));
    let (status, _, _) = cancel(&app, id).await;
    assert_eq!(status, StatusCode::OK);
    let events = replay(&app, id).await;
    assert_eq!(events.last().unwrap().2["event"], "cancelled");
}

#[tokio::test]
async fn ended_operations_cannot_be_cancelled_and_others_tenants_are_not_found() {
    let app = spawn_app().await;
    let id = app.accepted(named_items("e", 2)).await;
    app.until_terminal(id, Duration::from_secs(30)).await;
    let (status, _, problem) = cancel(&app, id).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "operation-ended");

    let other = app
        .http
        .delete(format!("{}/api/operations/{id}", app.base_url))
        .header("x-tenant-id", uuid::Uuid::new_v4().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.operation(id).await["status"], "completed");
}
