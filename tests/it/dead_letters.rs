//! A job that cannot be done ends `failed` with a problem that says why, its message (the
//! `accepted` event) is copied to the dead-letter stream and nothing is left pending.

use std::time::Duration;

use async_nats::jetstream;
use serde_json::Value;

use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::events::dead_letter;
use crate::support::processes::Process;
use crate::support::{servers, wait};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_worker_dies_on_every_delivery_is_failed_and_dead_lettered() {
    let options = Options {
        worker: false,
        ack_wait: Duration::from_secs(1),
        max_deliver: 2,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let flags = app.worker_flags(&["--simulated-item-latency", "20ms"]);
    let id = app.accepted(named_items("poison", 1_000)).await;

    for attempt in 1..=2u64 {
        let mut worker = Process::start(&flags, &app.process_env());
        wait::until("the delivery running", Duration::from_secs(30), || async {
            let doc = app.operation(id).await;
            (doc["status"] == "running" && doc["attempt"] == attempt).then_some(())
        })
        .await;
        worker.kill();
    }
    let _survivor = Process::start(&flags, &app.process_env());
    let doc = app.until_terminal(id, Duration::from_secs(30)).await;

    assert_eq!(doc["status"], "failed", "{doc}");
    assert_eq!(doc["error"]["code"], "max-deliveries-exceeded");
    assert_eq!(doc["error"]["status"], 500);
    assert!(doc["error"]["detail"].as_str().unwrap().contains("2 times"));
    assert_eq!(doc["result"], Value::Null);
    let letter = dead_letter(&app, "jobs", id).await;
    let headers = letter.headers.clone().unwrap();
    assert_eq!(
        headers.get("Participant-Reason").unwrap().as_str(),
        "max-deliveries-exceeded"
    );
    assert_eq!(headers.get("Participant-Deliveries").unwrap().as_str(), "2");
    let job: Value = serde_json::from_slice(&letter.payload).unwrap();
    assert_eq!(job["event"], "accepted", "the job as queued: {job}");
    assert_eq!(job["operation"]["operationId"], id.to_string());
    wait::until(
        "no job left to the workers",
        Duration::from_secs(10),
        || async { (app.jobs_backlog().await == (0, 0)).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn an_unreadable_job_fails_its_operation_at_once() {
    let options = Options {
        worker: false,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let id = app.accepted(named_items("u", 1)).await;
    let js = jetstream::new(app.nats.clone());
    let job = format!("{}.events.{}.{id}.accepted", app.prefix(), app.tenant);
    js.get_stream(format!("{}_EVENTS", app.prefix()))
        .await
        .unwrap()
        .purge()
        .filter(&job)
        .await
        .unwrap();
    js.publish(job, "{not json".into())
        .await
        .unwrap()
        .await
        .unwrap();

    let _worker = app.start_worker().await.drop_guard();

    let doc = app.until_terminal(id, Duration::from_secs(20)).await;
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["error"]["code"], "unreadable-job");
    let letter = dead_letter(&app, "jobs", id).await;
    assert_eq!(&letter.payload[..], b"{not json");
    let letter_headers = letter.headers.clone().unwrap();
    assert_eq!(
        letter_headers.get("Participant-Reason").unwrap().as_str(),
        "unreadable-payload"
    );
    assert_eq!(
        letter_headers
            .get("Participant-Deliveries")
            .unwrap()
            .as_str(),
        "1",
        "failed on its first delivery, without a redelivery loop"
    );
    wait::until(
        "no job left to the workers",
        Duration::from_secs(10),
        || async { (app.jobs_backlog().await == (0, 0)).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn an_import_whose_items_vanished_from_valkey_fails_at_once_instead_of_spinning() {
    let options = Options {
        worker: false,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let id = app.accepted(named_items("lost", 3)).await;
    let mut conn = app.valkey().await;
    let removed: i64 = redis::cmd("DEL")
        .arg(format!("{}:op:{{{id}}}:items", app.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(removed, 1);

    let _worker = app.start_worker().await.drop_guard();
    let doc = app.until_terminal(id, Duration::from_secs(30)).await;
    assert_eq!(doc["status"], "failed");
    assert_eq!(doc["error"]["code"], "items-missing", "a permanent failure");
    assert_eq!(doc["attempt"], 1, "no redelivery of what cannot succeed");
    let letter = dead_letter(&app, "jobs", id).await;
    let headers = letter.headers.clone().unwrap_or_default();
    assert_eq!(
        headers.get("Participant-Reason").map(|v| v.as_str()),
        Some("items-missing")
    );
    assert_eq!(app.entity_count().await, (0, 0));
}
