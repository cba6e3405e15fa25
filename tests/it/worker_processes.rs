//! Workers as real processes: many imports shared by two workers, and a worker killed with
//! SIGKILL in the middle of an import.

use std::cell::RefCell;
use std::time::Duration;

use futures::future::join_all;
use serde_json::json;
use uuid::Uuid;

use crate::support::app::{Options, TestApp, named_items, spawn_app_with};
use crate::support::events::replay;
use crate::support::processes::Process;
use crate::support::{metrics, servers, wait};

/// A worker process for `app` with `extra` flags, serving its metrics; returns it and the
/// URL of its `/metrics`.
fn worker(app: &TestApp, extra: &[&str]) -> (Process, String) {
    let (listen, url) = metrics::free_address();
    let mut flags = app.worker_flags(extra);
    flags.extend(["--metrics-listen".into(), listen]);
    (Process::start(&flags, &app.process_env()), url)
}

/// Operations the worker serving `metrics_url` has completed, once it has completed one
/// (it counts each just after the operation's record shows it ended).
async fn completed(app: &TestApp, metrics_url: &str) -> f64 {
    wait::until("a completion counted", Duration::from_secs(10), || async {
        let samples = metrics::samples(&app.http, metrics_url).await?;
        let completed = metrics::count(
            &samples,
            "participant_operations_total",
            ("status", "completed"),
        );
        (completed >= 1.0).then_some(completed)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_concurrent_imports_over_two_worker_processes_all_complete() {
    let options = Options {
        worker: false,
        simulated_item_latency: Duration::from_millis(1),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let flags = ["--concurrency", "3", "--simulated-item-latency", "1ms"];
    let workers = [worker(&app, &flags), worker(&app, &flags)];

    let submissions = (0..20).map(|i| {
        let mut items = named_items(&format!("c{i}"), 200);
        items.push(json!({"name": format!("c{i}-0")}));
        items.push(json!({}));
        let app = &app;
        async move { app.accepted(items).await }
    });
    let ids: Vec<Uuid> = join_all(submissions).await;
    for id in ids {
        let doc = app.until_terminal(id, Duration::from_secs(120)).await;
        assert_eq!(doc["status"], "completed", "{doc}");
        assert_eq!(doc["result"]["processed"], 202);
        assert_eq!(doc["result"]["succeeded"], 200);
        assert_eq!(doc["result"]["failed"], 2);
    }
    assert_eq!(app.entity_count().await, (4_000, 4_000));
    for (_, metrics_url) in &workers {
        // Each worker took a share: `completed` waits for one.
        completed(&app, metrics_url).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_import_is_replaced_and_the_import_resumes_from_its_checkpoint() {
    let options = Options {
        worker: false,
        ack_wait: Duration::from_secs(2),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let flags = ["--simulated-item-latency", "1ms"];
    let (mut first, _) = worker(&app, &flags);

    let total = 5_000;
    let id = app.accepted(named_items("k", total)).await;
    let seen = RefCell::new(Vec::new());
    let before_kill = wait::until("progress past 1000", Duration::from_secs(60), || async {
        let doc = app.operation(id).await;
        let current = doc["progress"]["current"].as_u64().unwrap();
        seen.borrow_mut().push(current);
        (current >= 1_000).then_some(current)
    })
    .await;
    let (_second, second_metrics) = worker(&app, &flags);
    first.kill();
    assert!(before_kill < total as u64, "killed in the middle");

    let doc = wait::until("completion elsewhere", Duration::from_secs(120), || async {
        let doc = app.operation(id).await;
        seen.borrow_mut()
            .push(doc["progress"]["current"].as_u64().unwrap());
        (doc["status"] == "completed").then_some(doc)
    })
    .await;
    let seen = seen.into_inner();
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "progress went backwards: {seen:?}"
    );
    assert_eq!(doc["attempt"], 2, "{doc}");
    assert_eq!(doc["result"]["succeeded"], total);
    assert_eq!(doc["result"]["failed"], 0);
    assert_eq!(doc["result"]["errors"], json!([]));
    assert_eq!(app.entity_count().await, (total as u64, total as u64));
    assert_eq!(
        completed(&app, &second_metrics).await,
        1.0,
        "the second ended it"
    );

    let events = replay(&app, id).await;
    let takeover = events
        .iter()
        .map(|(_, _, payload)| payload)
        .find(|p| p["event"] == "running" && p["operation"]["attempt"] == 2)
        .expect("a running event for the second attempt");
    let resumed_from = takeover["operation"]["progress"]["current"]
        .as_u64()
        .unwrap();
    assert!(
        resumed_from >= before_kill,
        "resumed from {resumed_from}, the checkpoint was at least {before_kill}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_sent_sigterm_mid_job_checkpoints_and_hands_the_job_over() {
    let options = Options {
        worker: false,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let flags = ["--simulated-item-latency", "2ms", "--log-format", "json"];
    let (mut leaving, _) = worker(&app, &flags);
    let total = 3_000u64;
    let id = app.accepted(named_items("term", total as usize)).await;
    wait::until("the job under way", Duration::from_secs(30), || async {
        let doc = app.operation(id).await;
        (doc["progress"]["current"].as_u64().unwrap() > 0).then_some(())
    })
    .await;
    let (_staying, staying_metrics) = worker(&app, &flags);
    leaving.signal(nix::sys::signal::Signal::SIGTERM);
    let status = wait::until("the worker to exit", Duration::from_secs(20), || {
        let exited = leaving.try_exit_status();
        async move { exited }
    })
    .await;
    assert!(status.success(), "a graceful exit: {status:?}");
    assert!(
        leaving
            .json_log()
            .iter()
            .any(|entry| entry["fields"]["outcome"] == "handed-back"
                && entry["span"]["operation"] == id.to_string()),
        "it handed the job back: {}",
        leaving.log()
    );

    let doc = app.until_terminal(id, Duration::from_secs(60)).await;
    assert_eq!(doc["status"], "completed");
    assert_eq!(doc["result"]["succeeded"], total);
    assert_eq!(doc["result"]["failed"], 0);
    assert_eq!(app.entity_count().await, (total, total));
    assert_eq!(
        completed(&app, &staying_metrics).await,
        1.0,
        "the other ended it"
    );
}
