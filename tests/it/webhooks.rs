//! Contract §6: Standard Webhooks–signed callbacks with durable retries.

use std::time::Duration;

use async_nats::jetstream;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::signing::SigningSecret;
use uuid::Uuid;

use crate::support::app::{Options, TestApp, named_items, spawn_app_with};
use crate::support::events::dead_letter;
use crate::support::processes::Process;
use crate::support::receiver::Receiver;
use crate::support::{servers, wait};

fn with_dispatcher() -> Options {
    Options {
        dispatcher: true,
        ..Options::default()
    }
}

/// Starts an import whose webhooks go to `url`, with extra headers.
async fn import_with_callback(
    app: &TestApp,
    url: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = app
        .api(Method::POST, "/api/sampleentities/bulk-import")
        .header("x-callback-url", url);
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request
        .json(&json!({ "items": named_items("hook", 3) }))
        .send()
        .await
        .unwrap()
}

async fn accepted_with_callback(app: &TestApp, url: &str, extra: &[(&str, &str)]) -> Uuid {
    let response = import_with_callback(app, url, extra).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    response.json::<Value>().await.unwrap()["operationId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Waits until the operation's document shows its webhook `settled` (delivered or failed).
async fn until_callback(app: &TestApp, id: Uuid, status: &str) -> Value {
    wait::until(
        &format!("callback {status}"),
        Duration::from_secs(30),
        || async {
            let doc = app.operation(id).await;
            (doc["callback"]["status"] == status).then_some(doc)
        },
    )
    .await
}

/// The state of the dispatchers' consumer of `completed` events, read now.
async fn completed_consumer(app: &TestApp) -> jetstream::consumer::Info {
    let js = jetstream::new(app.nats.clone());
    let consumer: jetstream::consumer::PullConsumer = js
        .get_consumer_from_stream(
            format!("{}_dispatch_completed", app.prefix()),
            format!("{}_EVENTS", app.prefix()),
        )
        .await
        .unwrap();
    consumer.cached_info().clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_completed_operation_is_pushed_signed_by_every_active_secret() {
    let old = SigningSecret::generate().unwrap();
    let new = SigningSecret::generate().unwrap();
    let options = Options {
        signing_secrets: vec![old.clone(), new.clone()],
        ..with_dispatcher()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let receiver = Receiver::start().await;
    let id = accepted_with_callback(
        &app,
        &receiver.url,
        &[
            ("x-correlation-id", "corr-hook-1"),
            ("x-workflow-id", "wf-9"),
            (
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
        ],
    )
    .await;

    let hook = receiver.until_received(1, Duration::from_secs(30)).await[0].clone();
    for secret in [&old, &new] {
        let verifier = standardwebhooks::Webhook::new(&secret.expose()).unwrap();
        verifier
            .verify(&hook.body, &hook.headers)
            .expect("an independent verifier accepts the signature");
    }
    assert_eq!(hook.header("webhook-signature").split(' ').count(), 2);
    assert_eq!(hook.header("x-correlation-id"), "corr-hook-1");
    assert_eq!(hook.header("x-tenant-id"), app.tenant.to_string());
    assert_eq!(hook.header("x-workflow-id"), "wf-9");
    assert_eq!(
        hook.header("traceparent"),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    let body = hook.json();
    assert_eq!(body["type"], "operation.completed");
    assert!(body["timestamp"].is_string());
    assert_eq!(body["data"]["operationId"], id.to_string());
    assert_eq!(body["data"]["status"], "completed");
    assert_eq!(body["data"]["result"]["succeeded"], 3);

    let doc = until_callback(&app, id, "delivered").await;
    assert_eq!(
        doc["callback"],
        json!({"status": "delivered", "attempts": 1})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_attempts_are_retried_with_one_webhook_id() {
    let app = spawn_app_with(servers::shared(), with_dispatcher()).await;
    let receiver = Receiver::start().await;
    receiver.answer(&[500, 500]);
    let id = accepted_with_callback(&app, &receiver.url, &[]).await;
    let doc = until_callback(&app, id, "delivered").await;
    assert_eq!(
        doc["callback"],
        json!({"status": "delivered", "attempts": 3})
    );
    let received = receiver.received();
    let answers: Vec<u16> = received.iter().map(|r| r.answered.as_u16()).collect();
    assert_eq!(answers, [500, 500, 200]);
    let ids: Vec<&str> = received.iter().map(|r| r.header("webhook-id")).collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_stops_at_once() {
    let app = spawn_app_with(servers::shared(), with_dispatcher()).await;
    let receiver = Receiver::start().await;
    receiver.answer(&[410]);
    let id = accepted_with_callback(&app, &receiver.url, &[]).await;
    let doc = until_callback(&app, id, "failed").await;
    assert_eq!(doc["callback"]["attempts"], 1);
    assert_eq!(receiver.received().len(), 1);
    let letter = &dead_letter(&app, "callbacks", id).await;
    let headers = letter.headers.clone().unwrap();
    assert_eq!(headers.get("Participant-Reason").unwrap().as_str(), "gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_on_429_is_honoured() {
    let options = Options {
        retry_schedule: vec![Duration::from_millis(100); 3],
        ..with_dispatcher()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let receiver = Receiver::start().await;
    receiver.answer_retry_after(429, 2);
    let id = accepted_with_callback(&app, &receiver.url, &[]).await;
    until_callback(&app, id, "delivered").await;
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    let waited = received[1].at - received[0].at;
    assert!(
        waited >= Duration::from_secs(2),
        "waited {waited:?}, though the receiver asked for 2 s"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_every_attempt_fails_the_event_is_dead_lettered() {
    let options = Options {
        retry_schedule: vec![Duration::from_millis(100); 2],
        ..with_dispatcher()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let receiver = Receiver::start().await;
    receiver.answer(&[500, 503, 500, 500]);
    let id = accepted_with_callback(&app, &receiver.url, &[]).await;
    let doc = until_callback(&app, id, "failed").await;
    assert_eq!(
        doc["callback"]["attempts"], 3,
        "1 + the schedule's 2 retries"
    );
    assert_eq!(
        doc["callback"]["lastError"],
        "the receiver answered 500 Internal Server Error"
    );
    assert_eq!(receiver.received().len(), 3);
    let letter = &dead_letter(&app, "callbacks", id).await;
    let headers = letter.headers.clone().unwrap();
    assert_eq!(
        headers.get("Participant-Reason").unwrap().as_str(),
        "attempts-exhausted"
    );
    assert_eq!(headers.get("Participant-Deliveries").unwrap().as_str(), "3");
    let event: Value = serde_json::from_slice(&letter.payload).unwrap();
    assert_eq!(event["event"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_events_asked_for_are_sent() {
    let app = spawn_app_with(servers::shared(), with_dispatcher()).await;
    let receiver = Receiver::start().await;
    let id = accepted_with_callback(
        &app,
        &receiver.url,
        &[("x-callback-events", "failed,cancelled")],
    )
    .await;
    app.until_terminal(id, Duration::from_secs(30)).await;

    wait::until(
        "the completed event handled",
        Duration::from_secs(30),
        || async {
            let info = completed_consumer(&app).await;
            (info.delivered.consumer_sequence >= 1
                && info.num_ack_pending == 0
                && info.num_pending == 0)
                .then_some(())
        },
    )
    .await;
    assert!(
        receiver.received().is_empty(),
        "completed was not asked for"
    );
    assert_eq!(app.operation(id).await["callback"], Value::Null);

    let options = Options {
        worker: false,
        ..with_dispatcher()
    };
    let idle = spawn_app_with(servers::shared(), options).await;
    let cancelled =
        accepted_with_callback(&idle, &receiver.url, &[("x-callback-events", "cancelled")]).await;
    let response = idle
        .api(Method::DELETE, &format!("/api/operations/{cancelled}"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let hook = receiver.until_received(1, Duration::from_secs(30)).await[0].clone();
    assert_eq!(hook.json()["type"], "operation.cancelled");
}

#[tokio::test]
async fn forbidden_callback_urls_are_refused_and_no_operation_is_created() {
    let options = Options {
        strict_callbacks: true,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    for url in [
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.1/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://127.0.0.1/hook",
        "https://user:secret@example.com/hook",
        "ftp://example.com/hook",
        "http://example.com/hook",
        "not a url",
    ] {
        let response = import_with_callback(&app, url, &[]).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "callback-url-refused", "{url}");
    }
    let response = import_with_callback(
        &app,
        "https://10.0.0.1/hook",
        &[("x-callback-events", "completed,started")],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "callback-events-invalid");

    let list = app.operations_list().await;
    assert_eq!(list["operations"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dispatcher_killed_mid_schedule_loses_nothing_and_sends_nothing_twice() {
    let options = Options {
        retry_schedule: vec![Duration::from_secs(1); 4],
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let mut flags = vec!["dispatcher".to_owned()];
    flags.extend(app.process_flags());
    let mut first = Process::start(&flags, &app.process_env());
    let shown = first.command_line().await;
    assert!(shown.contains("dispatcher"), "{shown}");
    assert!(
        !shown.contains("whsec_"),
        "a secret on the command line: {shown}"
    );
    let receiver = Receiver::start().await;
    receiver.answer(&[500]);
    let id = accepted_with_callback(&app, &receiver.url, &[]).await;

    receiver.until_received(1, Duration::from_secs(30)).await;
    until_callback(&app, id, "retrying").await;
    first.kill();
    let _second = Process::start(&flags, &app.process_env());

    let doc = until_callback(&app, id, "delivered").await;
    assert_eq!(
        doc["callback"],
        json!({"status": "delivered", "attempts": 2})
    );
    wait::until(
        "the event acknowledged",
        Duration::from_secs(30),
        || async {
            let info = completed_consumer(&app).await;
            (info.num_ack_pending == 0 && info.num_pending == 0).then_some(())
        },
    )
    .await;
    let received = receiver.received();
    let answers: Vec<u16> = received.iter().map(|r| r.answered.as_u16()).collect();
    assert_eq!(answers, [500, 200], "delivered exactly once");
    assert_eq!(
        received[0].header("webhook-id"),
        received[1].header("webhook-id")
    );
}
