//! The `participant` binary: configuration errors exit 64 with one message, and the client
//! commands work against a running intake.

use std::io::Read as _;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::support::app::{Options, TestApp, named_items, spawn_app_with};
use crate::support::{servers, spawn_app, wait};

fn participant() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_participant"));
    command.env_remove("RUST_LOG");
    command
}

#[test]
fn a_bad_setting_exits_64_with_one_clear_message() {
    /// Arguments, environment, and the setting the message must name.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 8] = [
        (&["worker", "--ack-wait", "soon"], &[], "--ack-wait"),
        (&["worker"], &[("Jobs__AckWait", "soon")], "--ack-wait"),
        (&["intake", "--prefix", "a.b"], &[], "--prefix"),
        (&["all"], &[("Worker__Concurrency", "0")], "--concurrency"),
        (
            &["dispatcher"],
            &[("Callbacks__SigningSecrets", "whsec_tooshort")],
            "--signing-secret",
        ),
        (&["dispatcher"], &[], "signing secret"),
        (
            &["worker"],
            &[("Valkey__Url", "redis://127.0.0.1:1,redis://127.0.0.1:2")],
            "--valkey-cluster",
        ),
        (
            &["intake"],
            &[("Valkey__WaitReplicas", "1")],
            "--valkey-wait-replicas",
        ),
    ];
    for (args, env, named) in cases {
        let output = participant()
            .args(args)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(64), "{args:?} {env:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(named), "{args:?} {env:?}: {stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("error:")).count(),
            1,
            "{stderr}"
        );
        assert!(
            !stderr.contains("whsec_tooshort"),
            "a secret was echoed: {stderr}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_one_server_cannot_place_exit_64_with_one_message() {
    let servers = servers::shared();
    for role in ["intake", "worker"] {
        let prefix = format!("r{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let mut child = participant()
            .args([role, "--nats-replicas", "3", "--listen", "127.0.0.1:0"])
            .args(["--nats-url", &servers.nats_url()])
            .args(["--valkey-url", &servers.valkey_url(), "--prefix", &prefix])
            .arg(format!("--valkey-cluster={}", servers.valkey_cluster()))
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let status = wait::until("the process to exit", Duration::from_secs(20), || {
            let exited = child.try_wait().unwrap();
            async move { exited }
        })
        .await;
        let mut stderr = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut stderr)
            .unwrap();
        assert_eq!(status.code(), Some(64), "{role}: {stderr}");
        assert!(stderr.contains("Nats__Replicas=3"), "{role}: {stderr}");
        let errors = stderr.lines().filter(|l| l.starts_with("error:")).count();
        assert_eq!(errors, 1, "{role}: {stderr}");
        assert!(!stderr.contains("WARN"), "retried instead: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_status_and_watch_follow_an_import() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("import.json");
    std::fs::write(
        &file,
        json!({ "items": named_items("cli", 50) }).to_string(),
    )
    .unwrap();
    let client = |args: Vec<String>| {
        let mut command = participant();
        command
            .args(args)
            .args(["--url", &app.base_url, "--tenant", &app.tenant.to_string()]);
        tokio::task::spawn_blocking(move || command.output().unwrap())
    };

    let submitted = client(vec!["submit".into(), file.display().to_string()])
        .await
        .unwrap();
    assert!(submitted.status.success(), "{submitted:?}");
    let accepted: serde_json::Value = serde_json::from_slice(&submitted.stdout).unwrap();
    assert_eq!(accepted["status"], "accepted");
    let id = accepted["operationId"].as_str().unwrap().to_owned();

    let watched = tokio::time::timeout(
        Duration::from_secs(60),
        client(vec!["watch".into(), id.clone()]),
    )
    .await
    .expect("watch ends when the import does")
    .unwrap();
    assert!(watched.status.success(), "{watched:?}");
    let stdout = String::from_utf8_lossy(&watched.stdout);
    assert!(
        stdout.contains("completed: 50 processed, 50 succeeded, 0 failed"),
        "{stdout}"
    );

    let status = client(vec!["status".into(), id.clone()]).await.unwrap();
    assert!(status.status.success());
    let doc: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(doc["operationId"], id.as_str());
    assert_eq!(doc["status"], "completed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submit_ends_its_json_line_before_the_hint_on_a_shared_terminal() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("import.json");
    std::fs::write(&file, json!({ "items": named_items("nl", 1) }).to_string()).unwrap();
    // Both streams on one file description, as on a terminal: shown in the order written.
    let screen = dir.path().join("screen");
    let shared = std::fs::File::create(&screen).unwrap();
    let mut command = participant();
    command
        .arg("submit")
        .arg(&file)
        .args(["--url", &app.base_url, "--tenant", &app.tenant.to_string()])
        .stdout(shared.try_clone().unwrap())
        .stderr(shared);
    let status = tokio::task::spawn_blocking(move || command.status().unwrap())
        .await
        .unwrap();
    assert!(status.success());

    let shown = std::fs::read_to_string(&screen).unwrap();
    let (body, hint) = shown.rsplit_once("}\n").expect("the JSON ends its line");
    let accepted: serde_json::Value = serde_json::from_str(&format!("{body}}}")).unwrap();
    let id = accepted["operationId"].as_str().unwrap();
    assert_eq!(hint, format!("follow it with: participant watch {id}\n"));
}

/// Runs a client command against `url` as the app's tenant, off the async runtime.
fn run_client(app: &TestApp, url: &str, args: &[&str]) -> tokio::task::JoinHandle<Output> {
    let mut command = participant();
    command
        .args(args)
        .args(["--url", url, "--tenant", &app.tenant.to_string()]);
    tokio::task::spawn_blocking(move || command.output().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_cancel_and_compensate() {
    let app = spawn_app().await;
    let original = app.accepted(named_items("undo", 5)).await;
    app.until_terminal(original, Duration::from_secs(20)).await;
    let id = original.to_string();

    let compensated = run_client(&app, &app.base_url, &["compensate", &id])
        .await
        .unwrap();
    assert!(compensated.status.success(), "{compensated:?}");
    let accepted: serde_json::Value = serde_json::from_slice(&compensated.stdout).unwrap();
    let compensation = accepted["operationId"].as_str().unwrap().to_owned();
    assert_ne!(compensation, id);

    let refused = run_client(&app, &app.base_url, &["cancel", &id])
        .await
        .unwrap();
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("409"));

    let listed = run_client(&app, &app.base_url, &["list"]).await.unwrap();
    assert!(listed.status.success(), "{listed:?}");
    let table = String::from_utf8(listed.stdout).unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert!(rows[0].starts_with("OPERATION"), "{table}");
    assert_eq!(rows.len(), 3, "{table}");
    assert!(rows[1].starts_with(&compensation), "newest first: {table}");
    assert!(rows[1].contains("compensation"), "{table}");
    assert!(rows[2].starts_with(&id), "{table}");
    assert!(
        rows[2].contains("completed") && rows[2].contains("5/5 100%"),
        "{table}"
    );

    let waiting = spawn_app_with(
        servers::shared(),
        Options {
            worker: false,
            ..Default::default()
        },
    )
    .await;
    let queued = waiting.accepted(named_items("queued", 2)).await.to_string();
    let cancelled = run_client(&waiting, &waiting.base_url, &["cancel", &queued])
        .await
        .unwrap();
    assert!(cancelled.status.success(), "{cancelled:?}");
    let doc: serde_json::Value = serde_json::from_slice(&cancelled.stdout).unwrap();
    assert_eq!(doc["status"], "cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_resumes_its_event_stream_after_the_intake_restarts() {
    let app = spawn_app_with(
        servers::shared(),
        Options {
            worker: false,
            ..Default::default()
        },
    )
    .await;
    let id = app.accepted(named_items("restart", 40)).await.to_string();
    let intake = app.another_intake().await;
    let url = intake.base_url.clone();
    let watch = run_client(&app, &url, &["watch", &id]);
    wait::until("watch following", Duration::from_secs(20), || {
        open_event_streams(&url)
    })
    .await;

    let intake = intake.restart().await;
    let _worker = app.start_worker().await;
    let watched = tokio::time::timeout(Duration::from_secs(60), watch)
        .await
        .expect("watch ends when the import does")
        .unwrap();
    assert!(watched.status.success(), "{watched:?}");
    let stdout = String::from_utf8_lossy(&watched.stdout);
    assert!(
        stdout.contains("completed: 40 processed, 40 succeeded, 0 failed"),
        "{stdout}"
    );
    intake.stop().await;
}

/// `Some` once the intake at `url` serves an event stream.
async fn open_event_streams(url: &str) -> Option<()> {
    let text = reqwest::get(format!("{url}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .any(|line| line == "participant_event_streams_open 1")
        .then_some(())
}

#[test]
fn secret_prints_a_secret_the_dispatcher_accepts() {
    let output = participant().arg("secret").output().unwrap();
    assert!(output.status.success());
    let secret = String::from_utf8(output.stdout).unwrap();
    assert!(
        shared::signing::SigningSecret::parse(secret.trim()).is_ok(),
        "{secret}"
    );
}
