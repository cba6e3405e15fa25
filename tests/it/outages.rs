//! Contract §5 and §10: with NATS or Valkey down, requests that need it answer `503` with
//! `Retry-After` within 5 s, readiness is `503`, and when the server returns the roles
//! recover by themselves. These tests stop servers of their own.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::app::{Options, TestApp, named_items, spawn_app_with};
use crate::support::load::{ITEMS, Load};
use crate::support::servers::{Server, Servers};
use crate::support::wait;

async fn readiness(app: &TestApp) -> (StatusCode, Value) {
    let response = app
        .http
        .get(format!("{}/health/ready", app.base_url))
        .send()
        .await
        .unwrap();
    (response.status(), response.json().await.unwrap())
}

/// Asserts `response` is a `503` problem with `Retry-After`, answered within 5 s.
async fn assert_unavailable(started: Instant, response: reqwest::Response) {
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "answered after {:?}",
        started.elapsed()
    );
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], 503);
    assert_eq!(problem["code"], "dependency-unavailable");
    assert_eq!(problem["retryable"], true);
    let detail = problem["detail"].as_str().unwrap();
    assert!(
        !detail.contains("redis") && !detail.contains("os error"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_down_is_503_and_the_service_recovers_when_it_returns() {
    let mut servers = Servers::start(true);
    let app = spawn_app_with(&servers, Options::default()).await;
    let before = app.accepted(named_items("before", 3)).await;
    app.until_terminal(before, Duration::from_secs(30)).await;

    servers.valkey.stop();
    let (status, body) = readiness(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["status"], "not_ready");
    assert_ne!(body["checks"]["valkey"], "ok");
    assert_eq!(body["checks"]["nats"], "ok");

    let started = Instant::now();
    let import = app
        .import(&serde_json::json!({ "items": named_items("during", 2) }))
        .await;
    assert_unavailable(started, import).await;
    let started = Instant::now();
    let read = app
        .api(Method::GET, &format!("/api/operations/{before}"))
        .send()
        .await
        .unwrap();
    assert_unavailable(started, read).await;

    servers.valkey.restart();
    app.until_ready().await;
    let after = app.accepted(named_items("after", 3)).await;
    let doc = app.until_terminal(after, Duration::from_secs(30)).await;
    assert_eq!(doc["status"], "completed");
    assert_eq!(app.operation(before).await["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valkey_frozen_is_503_within_the_deadline_and_the_refused_creation_never_lands() {
    let servers = Servers::start(false);
    let app = spawn_app_with(&servers, Options::default()).await;
    // One import first, so that Valkey has the creation script (a frozen creation then
    // waits in Valkey whole, as under load, instead of failing with NOSCRIPT on the thaw).
    let first = app.accepted(named_items("before", 2)).await;
    app.until_terminal(first, Duration::from_secs(30)).await;
    servers.valkey.freeze();
    let started = Instant::now();
    let import = app
        .import(&serde_json::json!({ "items": named_items("frozen", 2) }))
        .await;
    assert_unavailable(started, import).await;
    servers.valkey.thaw();
    app.until_ready().await;

    // The refused creation was still queued in Valkey and runs on the thaw, after its
    // deadline: its pending entry (sent first, in the same pipeline) lands, its record
    // does not, so no operation the client was told failed will run.
    let mut conn = app.valkey().await;
    let pending = format!("{}:pending", app.prefix());
    wait::until(
        "the refused creation run by Valkey",
        Duration::from_secs(10),
        || {
            let (mut conn, pending) = (conn.clone(), pending.clone());
            async move {
                let entries: u64 = redis::cmd("ZCARD")
                    .arg(pending)
                    .query_async(&mut conn)
                    .await
                    .ok()?;
                (entries > 0).then_some(())
            }
        },
    )
    .await;
    let record: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}:op:*", app.prefix()))
        .query_async(&mut conn)
        .await
        .expect("KEYS");
    assert_eq!(
        record,
        [format!("{}:op:{{{first}}}", app.prefix())],
        "only the import answered 202 has a record"
    );
    let listed = app.operations_list().await;
    assert_eq!(
        listed["operations"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_whose_request_met_a_valkey_outage_is_free_soon_after_valkey_returns() {
    let mut servers = Servers::start(true);
    let app = spawn_app_with(&servers, Options::default()).await;
    let body = serde_json::json!({ "items": named_items("keyed", 2) });
    let keyed = || {
        app.api(Method::POST, "/api/sampleentities/bulk-import")
            .header("idempotency-key", "outage-key")
            .json(&body)
            .send()
    };

    // With NATS frozen the request reserves its key and writes its record, then waits for
    // a PubAck; Valkey dies meanwhile, so the request ends 503 and cannot free its key.
    servers.nats.freeze();
    let first = tokio::spawn(keyed());
    wait::until("the record written", Duration::from_secs(10), || async {
        let written: u64 = redis::cmd("ZCARD")
            .arg(app.key("ops"))
            .query_async(&mut app.valkey().await)
            .await
            .ok()?;
        (written == 1).then_some(())
    })
    .await;
    servers.valkey.stop();
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), StatusCode::SERVICE_UNAVAILABLE);

    servers.valkey.restart();
    servers.nats.thaw();
    app.until_ready().await;
    let retried = wait::until(
        "the key free again (not 409)",
        Duration::from_secs(5),
        || async {
            let response = keyed().await.ok()?;
            (response.status() != StatusCode::CONFLICT).then_some(response)
        },
    )
    .await;
    assert_eq!(retried.status(), StatusCode::ACCEPTED);
    assert!(!retried.headers().contains_key("idempotent-replayed"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_down_is_503_and_the_worker_resumes_when_it_returns() {
    let mut servers = Servers::start(true);
    let app = spawn_app_with(&servers, Options::default()).await;

    servers.nats.stop();
    let (status, body) = readiness(&app).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_ne!(body["checks"]["nats"], "ok");
    let started = Instant::now();
    let import = app
        .import(&serde_json::json!({ "items": named_items("during", 2) }))
        .await;
    assert_unavailable(started, import).await;

    servers.nats.restart();
    app.until_ready().await;
    // The record was written before the job could not be queued: it ended failed, not
    // accepted forever.
    let list = app.operations_list().await;
    let orphans = list["operations"].as_array().unwrap();
    assert_eq!(orphans.len(), 1, "{list}");
    assert_eq!(orphans[0]["status"], "failed", "{list}");
    assert_eq!(orphans[0]["error"]["code"], "not-queued", "{list}");
    let after = app.accepted(named_items("after", 3)).await;
    let doc = app.until_terminal(after, Duration::from_secs(60)).await;
    assert_eq!(doc["status"], "completed");
    assert_eq!(doc["result"]["succeeded"], 3);
}

/// Every accepted operation of a load ends `completed`, and each item made one entity.
async fn assert_every_accepted_operation_completed(app: &TestApp, accepted: &[uuid::Uuid]) {
    let mut succeeded = 0;
    for id in accepted {
        let doc = app.until_terminal(*id, Duration::from_secs(120)).await;
        assert_eq!(doc["status"], "completed", "{doc}");
        succeeded += doc["result"]["succeeded"].as_u64().unwrap();
    }
    let expected = (accepted.len() * ITEMS) as u64;
    assert_eq!(succeeded, expected, "every item of every accepted import");
    assert_eq!(
        app.entity_count().await,
        (expected, expected),
        "no entity created twice, none lost"
    );
}

/// Restarts the server `pick` chooses while a steady load of imports runs, then checks
/// that every accepted operation completed and no entity was created twice.
async fn restart_under_load(pick: fn(&mut Servers) -> &mut Server) {
    let mut servers = Servers::start(true);
    let options = Options {
        simulated_item_latency: Duration::from_millis(5),
        ..Options::default()
    };
    let app = spawn_app_with(&servers, options).await;
    let load = Load::start(&app);
    load.until_accepted(20).await;
    pick(&mut servers).stop();
    load.until_refused().await;
    pick(&mut servers).restart();
    load.until_accepted(20).await;
    let accepted = load.stop().await;
    assert_every_accepted_operation_completed(&app, &accepted).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_under_load_loses_nothing_and_doubles_nothing() {
    restart_under_load(|servers| &mut servers.nats).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valkey_restart_under_load_loses_nothing_and_doubles_nothing() {
    restart_under_load(|servers| &mut servers.valkey).await;
}

/// A Valkey that lost its scripts (restarted, failed over, `SCRIPT FLUSH`) answers the
/// creation's pipelined `EVALSHA` with `NOSCRIPT`: the store loads the script and sends
/// the creation again, and the operation is created once and listed once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_valkey_that_lost_its_scripts_still_creates_each_operation_once() {
    let servers = Servers::start(false);
    let app = spawn_app_with(&servers, Options::default()).await;
    let cached = app.accepted(named_items("cached", 2)).await;
    let _: () = redis::cmd("SCRIPT")
        .arg("FLUSH")
        .query_async(&mut app.valkey().await)
        .await
        .unwrap();
    let flushed = app.accepted(named_items("flushed", 2)).await;
    for id in [cached, flushed] {
        let doc = app.until_terminal(id, Duration::from_secs(30)).await;
        assert_eq!(doc["status"], "completed");
    }
    let listed = app.operations_list().await;
    assert_eq!(listed["operations"].as_array().map(Vec::len), Some(2));
    assert_eq!(app.entity_count().await, (4, 4));
}
