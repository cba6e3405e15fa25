//! A thousand operations while worker processes are killed at random: run by hand with
//! `cargo test -p participant --test it -- --ignored chaos --nocapture`; it prints the
//! tally and asserts that nothing was lost or done twice.

use std::time::{Duration, Instant};

use futures::future::join_all;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::events::replay;
use crate::support::processes::Process;
use crate::support::servers;

const OPERATIONS: usize = 1_000;
const ITEMS: usize = 50;
const WORKERS: usize = 3;
const KILL_EVERY: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a long fault run for the figures; run by hand"]
async fn chaos_a_thousand_operations_through_random_worker_kills() {
    let options = Options {
        worker: false,
        ack_wait: Duration::from_secs(2),
        // A kill lands every ~2.3 s and a killed job comes back after the 2 s ack wait,
        // often to the worker started in the victim's place, so one job can be caught by
        // several kills in a row; with the default of 5 deliveries that dead-lettered up to 6
        // of the 1,000 jobs in a run. This run is about loss and duplication: it allows more.
        max_deliver: 20,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let flags = app.worker_flags(&["--concurrency", "8", "--simulated-item-latency", "20ms"]);
    let mut workers: Vec<Process> = (0..WORKERS)
        .map(|_| Process::start(&flags, &app.process_env()))
        .collect();

    let started = Instant::now();
    let mut ids = Vec::new();
    for chunk in (0..OPERATIONS).collect::<Vec<_>>().chunks(50) {
        let submitted = join_all(
            chunk
                .iter()
                .map(|i| app.accepted(named_items(&format!("chaos{i}"), ITEMS))),
        )
        .await;
        ids.extend(submitted);
    }

    let mut kills: Vec<OffsetDateTime> = Vec::new();
    loop {
        let list_done = futures::future::join_all(ids.iter().map(|id| app.operation(*id))).await;
        let open = list_done
            .iter()
            .filter(|d| {
                !matches!(
                    d["status"].as_str(),
                    Some("completed" | "failed" | "cancelled")
                )
            })
            .count();
        if open == 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "{open} still open"
        );
        tokio::time::sleep(KILL_EVERY).await;
        let victim = fastrand::usize(..workers.len());
        workers[victim].kill();
        kills.push(OffsetDateTime::now_utc());
        workers[victim] = Process::start(&flags, &app.process_env());
    }
    let elapsed = started.elapsed();

    let mut completed = 0;
    let mut failed = 0;
    let mut succeeded_items = 0;
    let mut redelivered = 0;
    let mut worst_resume = Duration::ZERO;
    for id in &ids {
        let doc = app.operation(*id).await;
        match doc["status"].as_str() {
            Some("completed") => completed += 1,
            _ => {
                failed += 1;
                println!("not completed: {id} {}", doc["error"]);
            }
        }
        succeeded_items += doc["result"]["succeeded"].as_u64().unwrap_or(0);
        if doc["attempt"].as_u64().unwrap_or(0) > 1 {
            redelivered += 1;
            for (_, _, event) in replay(&app, *id).await {
                if event["event"] != "running" || event["operation"]["attempt"] == 1 {
                    continue;
                }
                let at =
                    OffsetDateTime::parse(event["occurredAt"].as_str().unwrap(), &Rfc3339).unwrap();
                if let Some(kill) = kills.iter().rev().find(|k| **k <= at) {
                    let gap = Duration::try_from(at - *kill).unwrap_or_default();
                    worst_resume = worst_resume.max(gap);
                }
            }
        }
    }
    let (names, entities) = app.entity_count().await;
    println!(
        "chaos: {} operations in {elapsed:.1?}, {} worker kills: accepted {}, completed {completed}, failed {failed}, lost {}, redelivered {redelivered}, entities {entities} for {succeeded_items} items succeeded (duplicated {}), worst kill-to-resume {worst_resume:.2?}",
        ids.len(),
        kills.len(),
        ids.len(),
        ids.len() - completed - failed,
        entities.saturating_sub(succeeded_items),
    );
    assert_eq!(completed, OPERATIONS);
    assert_eq!(names, entities);
    assert_eq!(entities, (OPERATIONS * ITEMS) as u64);
}
