//! A worker that stalls past its ack wait and wakes after its job was redelivered can never
//! overwrite the newer delivery's progress, entities or result.

use std::time::Duration;

use nix::sys::signal::Signal;

use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::processes::Process;
use crate::support::{servers, wait};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_worker_woken_after_redelivery_is_refused() {
    let options = Options {
        worker: false,
        ack_wait: Duration::from_secs(1),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let flags = app.worker_flags(&["--simulated-item-latency", "2ms"]);
    let total = 2_000u64;
    let id = app.accepted(named_items("f", total as usize)).await;

    let mut stalled_flags = flags.clone();
    stalled_flags.extend(["--log-format".into(), "json".into()]);
    let stalled = Process::start(&stalled_flags, &app.process_env());
    wait::until(
        "the first delivery past a checkpoint",
        Duration::from_secs(30),
        || async {
            let doc = app.operation(id).await;
            (doc["progress"]["current"].as_u64().unwrap() > 0).then_some(())
        },
    )
    .await;
    stalled.signal(Signal::SIGSTOP);
    let _replacement = Process::start(&flags, &app.process_env());
    let done = app.until_terminal(id, Duration::from_secs(60)).await;
    assert_eq!(done["status"], "completed");
    // The stalled worker's open pull request may take the first redelivery too (JetStream
    // cannot know it is frozen), so the replacement finishes the second or third delivery.
    assert!(
        done["attempt"].as_u64().unwrap() >= 2,
        "a redelivery finished it"
    );

    stalled.signal(Signal::SIGCONT);
    // Woken, the stale attempt either hits a refusal (a later delivery owns the operation:
    // `superseded`) or, when the call it was making when frozen has outlived its deadline,
    // gives the job back (`retry`); either way it ends, and must have changed nothing.
    wait::until(
        "the woken worker's stale attempt to end",
        Duration::from_secs(30),
        || async {
            stalled
                .json_log()
                .iter()
                .any(|entry| {
                    let outcome = &entry["fields"]["outcome"];
                    (outcome == "superseded" || outcome == "retry")
                        && entry["span"]["operation"] == id.to_string()
                })
                .then_some(())
        },
    )
    .await;
    assert_eq!(
        app.operation(id).await,
        done,
        "the stale worker changed nothing"
    );
    assert_eq!(done["result"]["succeeded"], total);
    assert_eq!(done["result"]["failed"], 0);
    assert_eq!(app.entity_count().await, (total, total));
}
