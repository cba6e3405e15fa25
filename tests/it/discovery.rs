//! Discovery: registration in an InfraSoT registry (a real HTTP server in the test), and
//! the NATS service protocol.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use futures::StreamExt;
use serde_json::Value;
use tokio::net::TcpListener;

use crate::support::app::{Options, spawn_app_with};
use crate::support::servers::{self, free_port};
use crate::support::{spawn_app, wait};

type Calls = Arc<Mutex<Vec<(String, String, Value)>>>;

/// A registry double on `port` that records every call and answers 200, except `404` to
/// the first heartbeat when `forgets` (a registry that lost the registration).
async fn registry(port: u16, forgets: bool) -> Calls {
    let calls: Calls = Arc::default();
    let listener = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
    let app = Router::new()
        .fallback(
            move |State(calls): State<Calls>, request: Request| async move {
                let method = request.method().to_string();
                let path = request.uri().path().to_owned();
                let body = axum::body::to_bytes(request.into_body(), 1 << 20)
                    .await
                    .unwrap_or_default();
                let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let mut calls = calls.lock().unwrap();
                let first_heartbeat = method == "PUT" && !calls.iter().any(|(m, _, _)| m == "PUT");
                calls.push((method, path, body));
                if forgets && first_heartbeat {
                    StatusCode::NOT_FOUND
                } else {
                    StatusCode::OK
                }
            },
        )
        .with_state(calls.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    calls
}

/// Options for an app that registers at the registry on `port`, renewing every 200 ms.
fn registering_at(port: u16) -> Options {
    Options {
        registry: Some((
            format!("http://127.0.0.1:{port}"),
            Duration::from_millis(200),
        )),
        ..Options::default()
    }
}

fn seen(calls: &Calls, method: &str, path: &str) -> usize {
    calls
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, p, _)| m == method && p == path)
        .count()
}

#[tokio::test]
async fn the_intake_registers_renews_and_deregisters() {
    let port = free_port();
    let calls = registry(port, false).await;
    let app = spawn_app_with(servers::shared(), registering_at(port)).await;
    let this = "/api/services/participant-under-test";
    let heartbeat = format!("{this}/heartbeat");
    wait::until("two renewals", Duration::from_secs(20), || async {
        (seen(&calls, "PUT", &heartbeat) >= 2).then_some(())
    })
    .await;
    let registration = calls.lock().unwrap()[0].clone();
    assert_eq!(registration.0, "POST");
    assert_eq!(registration.1, "/api/services");
    let body = registration.2;
    assert_eq!(body["serviceId"], "participant-under-test");
    assert_eq!(body["name"], "participant");
    assert!(body["version"].is_string());
    assert!(body["address"].as_str().unwrap().starts_with("http://"));
    assert!(
        body["healthUrl"]
            .as_str()
            .unwrap()
            .ends_with("/health/ready")
    );
    assert!(
        body["capabilities"]
            .as_array()
            .unwrap()
            .contains(&"operations".into())
    );

    app.stop().await;
    assert_eq!(seen(&calls, "DELETE", this), 1, "deregistered on shutdown");
}

#[tokio::test]
async fn a_registry_that_forgot_the_service_gets_it_registered_again() {
    let port = free_port();
    let calls = registry(port, true).await;
    let _app = spawn_app_with(servers::shared(), registering_at(port)).await;
    wait::until(
        "a second registration after the 404",
        Duration::from_secs(20),
        || async { (seen(&calls, "POST", "/api/services") >= 2).then_some(()) },
    )
    .await;
    let methods: Vec<String> = calls
        .lock()
        .unwrap()
        .iter()
        .map(|(m, _, _)| m.clone())
        .collect();
    assert_eq!(methods[..3], ["POST", "PUT", "POST"], "{methods:?}");
}

#[tokio::test]
async fn a_registry_that_is_down_never_stops_the_service() {
    let port = free_port();
    let app = spawn_app_with(servers::shared(), registering_at(port)).await;
    let id = app.accepted(crate::support::app::named_items("d", 2)).await;
    let doc = app.until_terminal(id, Duration::from_secs(30)).await;
    assert_eq!(
        doc["status"], "completed",
        "served while the registry is down"
    );

    let calls = registry(port, false).await;
    wait::until(
        "the registration, once the registry is up",
        Duration::from_secs(20),
        || async { (seen(&calls, "POST", "/api/services") >= 1).then_some(()) },
    )
    .await;
}

#[tokio::test]
async fn the_nats_service_protocol_answers() {
    let app = spawn_app().await;
    let deps = shared::connect::Deps::connect(&app.settings, "svc-test")
        .await
        .unwrap();
    let stop = tokio_util::sync::CancellationToken::new();
    let _stop = stop.clone().drop_guard();
    tokio::spawn(shared::nats_service::serve(deps, "worker", stop));

    let prefix = app.prefix().to_owned();
    let ours = |reply: &Value| reply["metadata"]["prefix"] == prefix.as_str();
    let info: Value = wait::until(
        "$SRV.INFO from this deployment",
        Duration::from_secs(10),
        || async {
            let inbox = app.nats.new_inbox();
            let mut replies = app.nats.subscribe(inbox.clone()).await.ok()?;
            app.nats
                .publish_with_reply("$SRV.INFO.participant", inbox, "".into())
                .await
                .ok()?;
            let deadline = tokio::time::Instant::now() + Duration::from_millis(500);
            while let Ok(Some(message)) = tokio::time::timeout_at(deadline, replies.next()).await {
                let reply: Value = serde_json::from_slice(&message.payload).ok()?;
                if ours(&reply) {
                    return Some(reply);
                }
            }
            None
        },
    )
    .await;
    assert_eq!(info["name"], "participant");
    assert!(info["version"].is_string());
    assert_eq!(info["metadata"]["role"], "worker");
    let endpoint = &info["endpoints"][0];
    assert_eq!(endpoint["subject"], format!("{prefix}.svc.ready"));

    // Other tests' processes answer on the shared server too: ask this instance by its id.
    let id = info["id"].as_str().unwrap();
    let ping = app
        .nats
        .request(format!("$SRV.PING.participant.{id}"), "".into())
        .await
        .unwrap();
    let ping: Value = serde_json::from_slice(&ping.payload).unwrap();
    assert_eq!(ping["type"], "io.nats.micro.v1.ping_response");
    assert_eq!(ping["id"], id);

    let ready = app
        .nats
        .request(format!("{prefix}.svc.ready"), "".into())
        .await
        .unwrap();
    let ready: Value = serde_json::from_slice(&ready.payload).unwrap();
    assert_eq!(ready["status"], "ready");
    let stats = app
        .nats
        .request(format!("$SRV.STATS.participant.{id}"), "".into())
        .await
        .unwrap();
    let stats: Value = serde_json::from_slice(&stats.payload).unwrap();
    assert_eq!(stats["name"], "participant");
    assert_eq!(stats["id"], id);
}
