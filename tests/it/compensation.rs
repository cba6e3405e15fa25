//! Contract §2 `POST /api/operations/{id}/compensate`: saga rollback of a completed bulk
//! import, by a new operation of kind `compensation`.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::app::{Options, TestApp, named_items, spawn_app_with};
use crate::support::events::replay_until;
use crate::support::{servers, spawn_app};

async fn compensate(app: &TestApp, id: Uuid) -> (StatusCode, Value) {
    let response = app
        .api(Method::POST, &format!("/api/operations/{id}/compensate"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn a_completed_import_is_undone_by_a_compensation_operation() {
    let app = spawn_app().await;
    let bystander = app
        .api(Method::POST, "/api/sampleentities")
        .json(&json!({"name": "not-imported"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bystander.status(), StatusCode::CREATED);
    let mut items = named_items("undo", 600);
    items.push(json!({"name": "not-imported"}));
    let original = app.accepted(items).await;
    app.until_terminal(original, Duration::from_secs(30)).await;
    assert_eq!(app.entity_count().await, (601, 601));

    let (status, accepted) = compensate(&app, original).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(accepted["status"], "accepted");
    let compensation: Uuid = accepted["operationId"].as_str().unwrap().parse().unwrap();
    assert_ne!(compensation, original);

    let done = app
        .until_terminal(compensation, Duration::from_secs(30))
        .await;
    assert_eq!(done["status"], "completed");
    assert_eq!(done["kind"], "compensation");
    assert_eq!(done["compensates"], original.to_string());
    assert_eq!(
        done["result"]["succeeded"], 600,
        "the 600 entities it created"
    );
    assert_eq!(
        app.entity_count().await,
        (1, 1),
        "only the bystander is left"
    );

    let shown = app.operation(original).await;
    assert_eq!(
        shown["compensation"],
        json!({"operationId": compensation.to_string(), "status": "completed"})
    );
    let events = replay_until(&app, original, &["compensated"]).await;
    assert!(
        events
            .iter()
            .any(|(subject, _, payload)| payload["event"] == "compensated"
                && subject.ends_with(&format!("{original}.compensated"))),
        "a compensated event on the original's subject"
    );

    let (status, again) = compensate(&app, original).await;
    assert_eq!(
        status,
        StatusCode::ACCEPTED,
        "repeated: the same compensation"
    );
    assert_eq!(again["operationId"], compensation.to_string());
}

#[tokio::test]
async fn only_a_completed_operation_of_the_tenant_can_be_compensated() {
    let options = Options {
        worker: false,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let pending = app.accepted(named_items("p", 1)).await;
    let (status, problem) = compensate(&app, pending).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(problem["code"], "operation-not-completed");

    let other = app
        .http
        .post(format!(
            "{}/api/operations/{pending}/compensate",
            app.base_url
        ))
        .header("x-tenant-id", Uuid::new_v4().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let (status, _) = compensate(&app, Uuid::new_v4()).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
