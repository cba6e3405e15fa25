//! A node of a 3-node JetStream cluster dies under a steady load of imports, with every
//! stream at three replicas: work goes on, the node comes back and catches up, every
//! accepted operation completes with each item done once, and the only refusals are
//! `503` with `Retry-After` (the load checks each answer). These tests own their servers.

use std::time::{Duration, Instant};

use crate::support::TestApp;
use crate::support::app::{Options, spawn_app_with};
use crate::support::load::{ITEMS, Load};
use crate::support::servers::Servers;
use crate::support::wait;

/// Which node to kill, by server name.
type Pick = fn(&TestApp) -> futures::future::BoxFuture<'_, String>;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_events_stream_leader_loses_nothing_and_doubles_nothing() {
    kill_a_node_under_load("the events stream leader (the jobs' too)", |app| {
        Box::pin(async move {
            let info = events_stream(app).await.cached_info().clone();
            info.cluster
                .and_then(|c| c.leader)
                .expect("a stream leader")
        })
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_intakes_node_loses_nothing_and_doubles_nothing() {
    kill_a_node_under_load("the intake's node", |app| {
        Box::pin(async move { app.roles_nats.server_info().server_name })
    })
    .await;
}

async fn kill_a_node_under_load(what: &str, pick: Pick) {
    let mut servers = Servers::start_nats_cluster().await;
    let options = Options {
        simulated_item_latency: Duration::from_millis(5),
        nats_replicas: 3,
        ..Options::default()
    };
    let app = spawn_app_with(&servers, options).await;
    let jobs = events_stream(&app).await;
    assert_eq!(jobs.cached_info().config.num_replicas, 3);
    let workers = format!("{}_workers", app.prefix());
    let bound = Duration::from_secs(20);
    wait::until("the workers' consumer on 3 peers", bound, || {
        let (jobs, workers) = (jobs.clone(), workers.clone());
        async move {
            let cluster = jobs.consumer_info(workers).await.ok()?.cluster.clone()?;
            (cluster.leader.is_some() && cluster.replicas.len() == 2).then_some(())
        }
    })
    .await;
    let load = Load::start(&app);
    load.until_accepted(20).await;

    let victim = pick(&app).await;
    let killed = Instant::now();
    servers.nats_node(&victim).stop();
    let accepted_at_kill = load.accepted();
    load.until_accepted(20).await;
    let resumed = killed.elapsed();
    servers.nats_node(&victim).restart();
    until_every_replica_is_current(&app).await;
    let caught_up = killed.elapsed();
    load.until_accepted(20).await;
    let refused = load.refused();
    let accepted = load.stop().await;

    let started = Instant::now();
    let mut retried = 0;
    for id in &accepted {
        let doc = app.until_terminal(*id, Duration::from_secs(120)).await;
        assert_eq!(doc["status"], "completed", "{doc}");
        assert_eq!(doc["result"]["succeeded"], ITEMS, "{doc}");
        retried += usize::from(doc["attempt"].as_u64().unwrap_or(1) > 1);
    }
    println!(
        "killed {what} ({victim}): accepted {} ({accepted_at_kill} before the kill), \
         completed {}, refused (503) {refused}, redelivered {retried}, \
         20 more accepted {resumed:.2?} after the kill, replicas current after {caught_up:.2?}, \
         the rest completed {:.2?} after the load stopped",
        accepted.len(),
        accepted.len(),
        started.elapsed(),
    );
    let expected = (accepted.len() * ITEMS) as u64;
    assert_eq!(
        app.entity_count().await,
        (expected, expected),
        "no entity created twice, none lost"
    );
}

/// The events stream, whose `accepted` events are the jobs.
async fn events_stream(app: &TestApp) -> async_nats::jetstream::stream::Stream {
    async_nats::jetstream::new(app.nats.clone())
        .get_stream(format!("{}_EVENTS", app.prefix()))
        .await
        .expect("the events stream")
}

/// Waits until every replica of the events stream, the restarted one too, is current.
async fn until_every_replica_is_current(app: &TestApp) {
    let js = async_nats::jetstream::new(app.nats.clone());
    let name = format!("{}_EVENTS", app.prefix());
    wait::until("every replica current", Duration::from_secs(30), || async {
        let stream = js.get_stream(&name).await.ok()?;
        let cluster = stream.cached_info().cluster.clone()?;
        let current = cluster.replicas.iter().filter(|r| r.current).count();
        (cluster.leader.is_some() && current == 2).then_some(())
    })
    .await;
}
