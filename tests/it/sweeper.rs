//! An intake that dies between writing an operation's record and publishing its job leaves
//! no operation stuck in `accepted`: the sweeper republishes the job. One that dies between
//! the writes of the creation leaves nothing that lies: the sweeper removes a pending entry
//! without a record, and lists a record the index missed. The sweeper only ever looks at
//! operations no worker has claimed.

use std::os::unix::process::ExitStatusExt as _;
use std::time::Duration;

use nix::sys::signal::Signal::SIGABRT;
use serde_json::json;

use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::processes::doomed_intake;
use crate::support::servers;
use crate::support::spawn_app;
use crate::support::{TestApp, wait};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operation_whose_intake_died_before_publishing_is_finished_by_the_sweeper() {
    let options = Options {
        sweep_after: Duration::from_secs(1),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let (mut doomed, doomed_url) = doomed_intake(&app, "intake-after-record").await;

    let answer = app
        .http
        .post(format!("{doomed_url}/api/sampleentities/bulk-import"))
        .header("x-tenant-id", app.tenant.to_string())
        .json(&json!({ "items": named_items("swept", 4) }))
        .send()
        .await;
    assert!(answer.is_err(), "the intake died before answering");
    let died = doomed.until_exited().await;
    assert_eq!(
        died.signal(),
        Some(SIGABRT as i32),
        "aborted at the fail point: {died:?}"
    );

    let list = app.operations_list().await;
    let stranded = &list["operations"][0];
    let id = stranded["operationId"].as_str().unwrap().parse().unwrap();
    let doc = app.until_terminal(id, Duration::from_secs(30)).await;
    assert_eq!(doc["status"], "completed");
    assert_eq!(doc["result"]["succeeded"], 4);
    assert_eq!(app.entity_count().await, (4, 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_that_died_after_its_first_write_leaves_a_stray_the_sweeper_removes() {
    let options = Options {
        sweep_after: Duration::from_secs(1),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    die_creating(&app, "store-after-pending").await;

    let pending = pending_set(&app).await;
    assert_eq!(pending.len(), 1, "the first write is the pending entry");
    let stray = &pending[0];
    let answer = app
        .api(reqwest::Method::GET, &format!("/api/operations/{stray}"))
        .send()
        .await
        .expect("request");
    assert_eq!(answer.status(), 404, "no record, so no operation");
    assert_eq!(app.operations_list().await["operations"], json!([]));

    wait::until("the stray removed", Duration::from_secs(30), || async {
        pending_set(&app).await.is_empty().then_some(())
    })
    .await;
    assert_eq!(app.operations_list().await["operations"], json!([]));
    assert_eq!(app.entity_count().await, (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_creation_that_died_after_its_record_is_listed_and_finished_by_the_sweeper() {
    let options = Options {
        sweep_after: Duration::from_secs(1),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    die_creating(&app, "store-after-record").await;

    // On a Valkey Cluster the index is written after the record, so the list shows the
    // operation only once the sweeper has republished its job (on one server at once).
    let id = wait::until("the operation listed", Duration::from_secs(30), || async {
        app.operations_list().await["operations"][0]["operationId"]
            .as_str()
            .and_then(|id| id.parse().ok())
    })
    .await;
    let doc = app.until_terminal(id, Duration::from_secs(30)).await;
    assert_eq!(doc["status"], "completed");
    assert_eq!(doc["result"]["succeeded"], 4);
    assert_eq!(app.entity_count().await, (4, 4));
    let listed = app.operations_list().await;
    assert_eq!(listed["operations"].as_array().map(Vec::len), Some(1));
}

/// Submits an import of 4 items to an intake that aborts at the store's fail point `point`,
/// and waits until it has.
async fn die_creating(app: &TestApp, point: &str) {
    let (mut doomed, doomed_url) = doomed_intake(app, point).await;
    let answer = app
        .http
        .post(format!("{doomed_url}/api/sampleentities/bulk-import"))
        .header("x-tenant-id", app.tenant.to_string())
        .json(&json!({ "items": named_items("swept", 4) }))
        .send()
        .await;
    assert!(answer.is_err(), "the intake died before answering");
    let died = doomed.until_exited().await;
    assert_eq!(
        died.signal(),
        Some(SIGABRT as i32),
        "aborted at the fail point: {died:?}"
    );
}

/// The sweeper's pending set of the app.
async fn pending_set(app: &TestApp) -> Vec<String> {
    redis::cmd("ZRANGE")
        .arg(format!("{}:pending", app.prefix()))
        .arg(0)
        .arg(-1)
        .query_async(&mut app.valkey().await)
        .await
        .expect("ZRANGE pending")
}

#[tokio::test]
async fn a_claimed_operation_leaves_the_sweepers_pending_set() {
    let app = spawn_app().await;
    let id = app.accepted(named_items("claimed", 2)).await;
    app.until_terminal(id, Duration::from_secs(30)).await;
    let pending: Option<f64> = redis::cmd("ZSCORE")
        .arg(format!("{}:pending", app.prefix()))
        .arg(id.to_string())
        .query_async(&mut app.valkey().await)
        .await
        .unwrap();
    assert_eq!(
        pending, None,
        "only operations no worker has claimed wait for the sweeper"
    );
}
