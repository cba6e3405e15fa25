//! Contract §2 `POST /api/operations/{id}/compensate`: saga rollback of a completed bulk
//! import, by a new operation of kind `compensation`.

use std::os::unix::process::ExitStatusExt as _;
use std::time::Duration;

use futures::future::join_all;
use nix::sys::signal::Signal::SIGABRT;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::app::{Options, TestApp, named_items, spawn_app_with};
use crate::support::events::{replay, replay_until};
use crate::support::processes::doomed_intake;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compensation_whose_intake_died_before_creating_it_is_created_by_the_retry() {
    let app = spawn_app().await;
    let original = app.accepted(named_items("redo", 20)).await;
    app.until_terminal(original, Duration::from_secs(30)).await;

    // The intake dies after naming the compensation on the original, before creating it.
    let (mut doomed, doomed_url) = doomed_intake(&app, "intake-after-compensation-named").await;
    let answer = app
        .http
        .post(format!("{doomed_url}/api/operations/{original}/compensate"))
        .header("x-tenant-id", app.tenant.to_string())
        .send()
        .await;
    assert!(answer.is_err(), "the intake died before answering");
    let died = doomed.until_exited().await;
    assert_eq!(
        died.signal(),
        Some(SIGABRT as i32),
        "aborted at the fail point: {died:?}"
    );
    let named = app.operation(original).await["compensation"]["operationId"]
        .as_str()
        .expect("the compensation named on the original")
        .to_owned();

    // Retries racing one another: each answers the named compensation, one creates it.
    let retries = join_all((0..4).map(|_| compensate(&app, original))).await;
    for (status, accepted) in &retries {
        assert_eq!(*status, StatusCode::ACCEPTED, "{accepted}");
        assert_eq!(accepted["operationId"], named.as_str(), "the one named");
    }
    let named_id = named.parse().unwrap();
    let done = app.until_terminal(named_id, Duration::from_secs(30)).await;
    assert_eq!(done["status"], "completed");
    let events = replay(&app, named_id).await;
    let count = |kind: &str| events.iter().filter(|(_, _, p)| p["event"] == kind).count();
    assert_eq!(
        (count("accepted"), count("running")),
        (1, 1),
        "created and run once"
    );
    assert_eq!(done["result"]["succeeded"], 20);
    assert_eq!(app.entity_count().await, (0, 0));
    assert_eq!(
        app.operation(original).await["compensation"],
        json!({"operationId": named, "status": "completed"})
    );
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
