//! Metrics in Prometheus text that move with traffic, and logs as JSON with the job's
//! correlation fields.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::metrics::parse_exposition;
use crate::support::processes::Process;
use crate::support::{servers, spawn_app, wait};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

async fn scrape(app: &crate::support::TestApp) -> HashMap<String, f64> {
    let response = app
        .http
        .get(format!("{}/metrics", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    parse_exposition(&response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_parse_and_move_with_traffic() {
    let app = spawn_app().await;
    let before = scrape(&app).await;
    let id = app.accepted(named_items("m", 5)).await;
    app.until_terminal(id, Duration::from_secs(30)).await;
    let missing = app
        .api(
            Method::GET,
            &format!("/api/operations/{}", uuid::Uuid::new_v4()),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let after = scrape(&app).await;

    let get = |samples: &HashMap<String, f64>, key: &str| samples.get(key).copied().unwrap_or(0.0);
    let accepted = r#"participant_http_requests_total{route="/api/sampleentities/bulk-import",method="POST",status="202"}"#;
    assert_eq!(get(&after, accepted) - get(&before, accepted), 1.0);
    let not_found = r#"participant_http_requests_total{route="/api/operations/{id}",method="GET",status="404"}"#;
    assert!(get(&after, not_found) >= 1.0);
    for status in ["accepted", "running", "completed"] {
        let key = format!(r#"participant_operations_total{{status="{status}"}}"#);
        assert_eq!(get(&after, &key) - get(&before, &key), 1.0, "{key}");
    }
    assert_eq!(
        get(&after, r#"participant_dependency_up{dependency="nats"}"#),
        1.0
    );
    assert_eq!(
        get(&after, r#"participant_dependency_up{dependency="valkey"}"#),
        1.0
    );
    assert!(after.contains_key("participant_jobs_pending"));
    assert!(after.contains_key("participant_jobs_ack_pending"));
    assert!(
        after
            .keys()
            .any(|k| k.starts_with("participant_http_request_duration_seconds_bucket"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_process_logs_json_with_the_jobs_fields_and_serves_metrics() {
    let options = Options {
        worker: false,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let port = servers::free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut env = app.process_env();
    env.push(("RUST_LOG".into(), "info,worker=debug".into()));
    let worker = Process::start(
        &app.worker_flags(&["--log-format", "json", "--metrics-listen", &listen]),
        &env,
    );
    let response = app
        .api(Method::POST, "/api/sampleentities/bulk-import")
        .header("x-correlation-id", "corr-json-1")
        .header("x-workflow-id", "wf-json")
        .header("x-workflow-step", "4")
        .header("traceparent", TRACEPARENT)
        .json(&serde_json::json!({ "items": named_items("j", 2) }))
        .send()
        .await
        .unwrap();
    let id = response.json::<Value>().await.unwrap()["operationId"]
        .as_str()
        .unwrap()
        .to_owned();
    app.until_terminal(id.parse().unwrap(), Duration::from_secs(30))
        .await;

    let entry = wait::until("the job's end logged", Duration::from_secs(10), || async {
        worker
            .json_log()
            .into_iter()
            .find(|e| e["fields"]["status"] == "completed" && e["span"]["operation"] == id)
    })
    .await;
    assert_eq!(entry["span"]["operation"], id.as_str());
    assert_eq!(entry["span"]["correlation"], "corr-json-1");
    assert_eq!(entry["span"]["tenant"], app.tenant.to_string());
    assert_eq!(entry["span"]["workflow_id"], "wf-json");
    assert_eq!(entry["span"]["workflow_step"], "4");
    assert_eq!(entry["span"]["traceparent"], TRACEPARENT);

    let text = reqwest::get(format!("http://{listen}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let samples = parse_exposition(&text);
    assert_eq!(
        samples[r#"participant_operations_total{status="completed"}"#],
        1.0
    );
    assert_eq!(samples["participant_jobs_in_flight"], 0.0);
}
