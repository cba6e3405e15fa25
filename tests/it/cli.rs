//! The `participant` binary: configuration errors exit 64 with one message, and the client
//! commands work against a running intake.

use std::process::Command;
use std::time::Duration;

use serde_json::json;

use crate::support::app::named_items;
use crate::support::spawn_app;

fn participant() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_participant"));
    command.env_remove("RUST_LOG");
    command
}

#[test]
fn a_bad_setting_exits_64_with_one_clear_message() {
    /// Arguments, environment, and the setting the message must name.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 6] = [
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
