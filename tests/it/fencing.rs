//! A worker that stalls past its ack wait and wakes after its job was redelivered can never
//! overwrite the newer delivery's progress, entities or result.

use std::time::Duration;

use nix::sys::signal::Signal;
use shared::clock;
use shared::delivery::Delivery;
use shared::ids::OperationId;
use shared::store::{Checkpoint, CheckpointOutcome, Claim, InputItems};

use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::processes::Process;
use crate::support::{servers, wait};

/// The names of a batch's items, in order.
fn names(batch: &InputItems) -> Vec<String> {
    batch
        .items()
        .expect("a JSON array")
        .iter()
        .map(|item| {
            let item: serde_json::Value = serde_json::from_str(item.get()).expect("an item");
            item["name"].as_str().expect("a name").to_owned()
        })
        .collect()
}

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

/// Fencing at the store: once a later delivery of the job has claimed the operation, a
/// checkpoint of the earlier one is refused and writes nothing; so is one of the owner
/// that is out of step with the record.
#[tokio::test]
async fn a_checkpoint_of_a_delivery_that_lost_the_operation_is_refused() {
    let options = Options {
        worker: false,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let id = OperationId(app.accepted(named_items("fence", 4)).await);
    let store = app.store();
    let accepted = store.record(id).await.expect("read").expect("a record");
    let first = Delivery {
        stream_sequence: 1,
        attempt: 1,
    };
    let second = Delivery {
        attempt: 2,
        ..first
    };
    let claim = |delivery| store.claim(accepted.clone(), delivery, 10, clock::now_millis());
    let Claim::Run { record, items } = claim(first).await.expect("claim") else {
        panic!("the first delivery runs it");
    };
    assert_eq!(names(&items), ["fence-0", "fence-1", "fence-2", "fence-3"]);
    let Claim::Run { record: taken, .. } = claim(second).await.expect("claim") else {
        panic!("a later delivery of the same message takes over");
    };
    assert_eq!(taken.attempt, 2);

    let checkpoint = |delivery, start| Checkpoint {
        delivery,
        start,
        count: 2,
        succeeded: 2,
        failed: 0,
        errors: &[],
        last: false,
        next: 2,
        now_millis: clock::now_millis(),
    };
    let stale = store
        .checkpoint(*record, &checkpoint(first, 0))
        .await
        .expect("answered");
    assert!(matches!(stale, CheckpointOutcome::Refused), "{stale:?}");
    let out_of_step = store
        .checkpoint((*taken).clone(), &checkpoint(second, 2))
        .await
        .expect("answered");
    assert!(
        matches!(out_of_step, CheckpointOutcome::Refused),
        "{out_of_step:?}"
    );
    let doc = app.operation(id.0).await;
    assert_eq!(doc["progress"]["current"], 0, "{doc}");
    assert_eq!(doc["attempt"], 2, "{doc}");

    let CheckpointOutcome::Recorded { record, items } = store
        .checkpoint(*taken, &checkpoint(second, 0))
        .await
        .expect("answered")
    else {
        panic!("the owner's checkpoint is recorded");
    };
    assert_eq!(record.progress.current, 2);
    assert_eq!(names(&items), ["fence-2", "fence-3"]);
    assert_eq!(app.operation(id.0).await["progress"]["current"], 2);
}
