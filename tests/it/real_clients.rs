//! The real long-running-operation and EventSource client libraries of other
//! ecosystems against the intake (contract §3a, §7a), not imitations of them: Python
//! `azure-core`'s `LROPoller` with `LROBasePolling`, JavaScript `@azure/core-lro`'s
//! `createHttpPoller`, and Python `httpx-sse`. Each client is a small script under
//! `tests/clients/` that prints its findings as one JSON line; `bash
//! deploy/test-clients.sh` installs them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tokio::process::Command;

use crate::support::app::{Options, TestApp, named_items, spawn_app_with};
use crate::support::servers;

/// Items per import, and the worker's simulated time per item: about 2 s of work, so the
/// pollers see the operation before it ends.
const ITEMS: u64 = 500;
const ITEM_LATENCY: Duration = Duration::from_millis(4);
/// How long one client script may take.
const CLIENT_BOUND: Duration = Duration::from_secs(90);
const INSTALL: &str = "run `bash deploy/test-clients.sh`";

/// The repository root (the test crate is `services/participant`).
fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn clients() -> PathBuf {
    repo().join("tests/clients")
}

/// The Python of the clients' virtual environment.
fn python() -> PathBuf {
    let python = repo().join(".tools/clients-venv/bin/python");
    assert!(
        python.exists(),
        "no Python client environment at {}: {INSTALL}",
        python.display()
    );
    python
}

/// `node`, with the JavaScript clients' `node_modules` installed.
fn node() -> PathBuf {
    let lro = clients().join("js/node_modules/@azure/core-lro/package.json");
    assert!(lro.exists(), "@azure/core-lro is not installed: {INSTALL}");
    PathBuf::from("node")
}

/// Runs `program script args...` (bounded) and returns the JSON line it printed.
async fn run_client(program: PathBuf, script: &str, args: &[String]) -> Value {
    let script = clients().join(script);
    let output = Command::new(&program)
        .arg(&script)
        .args(args)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(CLIENT_BOUND, output)
        .await
        .unwrap_or_else(|_| panic!("{script:?} did not end within {CLIENT_BOUND:?}"))
        .unwrap_or_else(|e| panic!("cannot run {program:?} ({e}): {INSTALL}"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{script:?} {args:?}: {}\n{stderr}{stdout}",
        output.status
    );
    let line = stdout.lines().last().unwrap_or_default();
    eprintln!("{}: {line}", script.display());
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{script:?} printed {line:?}: {e}"))
}

/// An app that runs imports for a couple of seconds, or (`worker: false`) never.
async fn app(worker: bool) -> TestApp {
    let options = Options {
        worker,
        simulated_item_latency: ITEM_LATENCY,
        ..Options::default()
    };
    spawn_app_with(servers::shared(), options).await
}

/// Runs a poller script in `mode` (`complete` or `cancel`) against `app`.
async fn poller(app: &TestApp, program: PathBuf, script: &str, mode: &str) -> Value {
    let args = [
        &app.base_url,
        &app.tenant.to_string(),
        mode,
        &ITEMS.to_string(),
    ];
    run_client(program, script, &args.map(|a| a.to_owned())).await
}

/// The requests of a poller that followed the contract: the starting `POST`, then the
/// monitor (`Operation-Location`) until it ended, with one other request among them: the
/// final `GET` of `Location` (`last`), or the script's `DELETE` (sent from another thread
/// than the poller's, so in no fixed place).
fn assert_polled_the_monitor(out: &Value, other: &str, last: bool) {
    let sent: Vec<&str> = out["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .map(|r| r.as_str().expect("a request"))
        .collect();
    let id = other.rsplit('/').next().unwrap();
    let monitor = format!("GET /api/operations/{id}/monitor");
    assert_eq!(sent[0], "POST /api/sampleentities/bulk-import", "{sent:?}");
    let (polls, others): (Vec<&str>, Vec<&str>) = sent[1..].iter().partition(|r| **r == monitor);
    assert!(!polls.is_empty(), "never polled the monitor: {sent:?}");
    assert_eq!(others, [other], "{sent:?}");
    if last {
        assert_eq!(sent.last(), Some(&other), "{sent:?}");
    }
}

/// The completed native document, as a poller's final result.
fn assert_completed_document(doc: &Value) -> String {
    assert_eq!(doc["status"], "completed", "{doc}");
    assert_eq!(doc["result"]["succeeded"], ITEMS, "{doc}");
    assert_eq!(doc["result"]["failed"], 0, "{doc}");
    doc["operationId"].as_str().expect("operationId").to_owned()
}

#[tokio::test]
async fn azure_core_lro_poller_ends_with_the_completed_native_document() {
    let app = app(true).await;
    let out = poller(&app, python(), "python/azure_poller.py", "complete").await;
    assert_eq!(out["status"], "Succeeded", "{out}");
    assert_eq!(out["error"], Value::Null, "{out}");
    let id = assert_completed_document(&out["result"]);
    assert_polled_the_monitor(&out, &format!("GET /api/operations/{id}"), true);
}

#[tokio::test]
async fn azure_core_lro_poller_ends_canceled_for_a_cancelled_operation() {
    let app = app(false).await;
    let out = poller(&app, python(), "python/azure_poller.py", "cancel").await;
    assert_eq!(out["status"], "Canceled", "{out}");
    assert_eq!(out["done"], true, "{out}");
    assert_eq!(out["result"], Value::Null, "{out}");
    assert_eq!(out["error"]["type"], "HttpResponseError", "{out}");
    let message = out["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("operation-cancelled"),
        "the monitor's error: {out}"
    );
    let id = cancelled_id(&app, &out).await;
    assert_polled_the_monitor(&out, &format!("DELETE /api/operations/{id}"), false);
}

#[tokio::test]
async fn core_lro_http_poller_ends_with_the_completed_native_document() {
    let app = app(true).await;
    let out = poller(&app, node(), "js/core_lro_poller.mjs", "complete").await;
    assert_eq!(out["status"], "succeeded", "{out}");
    assert_eq!(out["error"], Value::Null, "{out}");
    let id = assert_completed_document(&out["result"]);
    assert_polled_the_monitor(&out, &format!("GET /api/operations/{id}"), true);
}

#[tokio::test]
async fn core_lro_http_poller_ends_canceled_for_a_cancelled_operation() {
    let app = app(false).await;
    let out = poller(&app, node(), "js/core_lro_poller.mjs", "cancel").await;
    // core-lro 3 (without `resolveOnUnsuccessful`) rejects `pollUntilDone()`.
    assert_eq!(out["status"], "canceled", "{out}");
    assert_eq!(out["done"], true, "{out}");
    assert_eq!(out["result"], Value::Null, "{out}");
    assert_eq!(out["error"]["message"], "Operation was canceled", "{out}");
    let id = cancelled_id(&app, &out).await;
    assert_polled_the_monitor(&out, &format!("DELETE /api/operations/{id}"), false);
}

/// The id of the operation the script cancelled, checked `cancelled` in the native API.
async fn cancelled_id(app: &TestApp, out: &Value) -> String {
    let delete = out["requests"]
        .as_array()
        .expect("requests")
        .iter()
        .find_map(|r| r.as_str()?.strip_prefix("DELETE /api/operations/"))
        .expect("a DELETE");
    let doc = app
        .operation(delete.parse().expect("an operation id"))
        .await;
    assert_eq!(doc["status"], "cancelled", "{doc}");
    delete.to_owned()
}

#[tokio::test]
async fn an_event_source_client_reads_the_lifecycle_and_resumes_with_last_event_id() {
    // 1000 items: four batches, with progress events between them.
    let app = app(true).await;
    let id = app.accepted(named_items("sse", 1_000)).await;
    let args = [app.base_url.clone(), app.tenant.to_string(), id.to_string()];
    // The script returns only when each stream has ended by itself (or it was left).
    let out = run_client(python(), "python/sse_events.py", &args).await;

    let full = out["full"].as_array().expect("full");
    let names: Vec<&str> = full.iter().map(|e| e["event"].as_str().unwrap()).collect();
    assert!(names.len() >= 3, "{names:?}");
    assert_eq!(names[..2], ["accepted", "running"], "{names:?}");
    assert_eq!(names.last(), Some(&"completed"), "{names:?}");
    assert!(
        names[2..names.len() - 1].iter().all(|n| *n == "progress"),
        "{names:?}"
    );
    let ids: Vec<u64> = full
        .iter()
        .map(|e| e["id"].as_str().unwrap().parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids in order: {ids:?}");
    for event in full {
        assert_eq!(event["dataEvent"], event["event"], "{event}");
        assert_eq!(event["operationId"], id.to_string(), "{event}");
    }
    let last = full.last().unwrap();
    assert_eq!(last["status"], "completed");
    assert_eq!(last["result"]["succeeded"], 1_000);

    // Disconnected after k events, resumed from the k-th id: exactly the rest.
    let k = usize::try_from(out["k"].as_u64().expect("k")).unwrap();
    assert_eq!(out["first"].as_array().unwrap()[..], full[..k]);
    assert_eq!(out["rest"].as_array().unwrap()[..], full[k..]);
}
