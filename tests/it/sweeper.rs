//! An intake that dies between writing an operation's record and publishing its job leaves
//! no operation stuck in `accepted`: the sweeper republishes the job. The sweeper only ever
//! looks at operations no worker has claimed.

use std::os::unix::process::ExitStatusExt as _;
use std::time::Duration;

use nix::sys::signal::Signal::SIGABRT;
use serde_json::json;

use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::processes::doomed_intake;
use crate::support::servers;
use crate::support::spawn_app;

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
