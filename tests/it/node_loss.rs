//! A node dies under a steady load of imports: a node of a 3-node JetStream cluster, with
//! every stream at three replicas, or a master of a Valkey Cluster whose masters have a
//! replica each. Work goes on, the node comes back and catches up, every accepted
//! operation completes with each item done once, and the only refusals are `503` with
//! `Retry-After` (the load checks each answer). These tests own their servers.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};

use crate::support::TestApp;
use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::clusters::NODES;
use crate::support::clusters::{Role, master_of, role};
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

/// The master that serves the sweeper's pending set dies (every creation writes there
/// first), its replica takes over, and the killed node comes back as a replica.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_valkey_master_loses_nothing_and_doubles_nothing() {
    let mut servers = Servers::start_valkey_cluster_with_replicas();
    let options = Options {
        simulated_item_latency: Duration::from_millis(5),
        sweep_after: Duration::from_secs(2),
        ..Options::default()
    };
    let app = spawn_app_with(&servers, options).await;
    let pending = format!("{}:pending", app.prefix());
    let victim = master_of(servers.valkey.port, &pending);
    let heir = servers
        .valkey_peers
        .iter()
        .map(|node| node.port)
        .find(|port| matches!(role(*port), Some(Role::Replica { master_port, .. }) if master_port == victim))
        .expect("the victim's replica");
    let load = Load::start(&app);
    load.until_accepted(20).await;

    let killed = Instant::now();
    servers.valkey_node(victim).stop();
    let accepted_at_kill = load.accepted();
    wait::until(
        "the replica to take over",
        Duration::from_secs(20),
        || async { matches!(role(heir), Some(Role::Master { .. })).then_some(()) },
    )
    .await;
    let failed_over = killed.elapsed();
    load.until_accepted(20).await;
    let resumed = killed.elapsed();
    servers.valkey_node(victim).restart();
    wait::until(
        "the killed master back as a replica",
        Duration::from_secs(30),
        || async {
            let rejoined = Role::Replica {
                master_port: heir,
                synced: true,
            };
            (role(victim) == Some(rejoined)).then_some(())
        },
    )
    .await;
    let rejoined = killed.elapsed();
    load.until_accepted(20).await;
    let refused = load.refused();
    let accepted = load.stop().await;

    let started = Instant::now();
    let (mut vanished, mut retried) = (Vec::new(), 0);
    for id in &accepted {
        let answer = app
            .api(Method::GET, &format!("/api/operations/{id}"))
            .send()
            .await
            .expect("request");
        if answer.status() == StatusCode::NOT_FOUND {
            vanished.push(*id);
            continue;
        }
        let doc = app.until_terminal(*id, Duration::from_secs(60)).await;
        assert_eq!(doc["status"], "completed", "{doc}");
        assert_eq!(doc["result"]["succeeded"], ITEMS, "{doc}");
        retried += usize::from(doc["attempt"].as_u64().unwrap_or(1) > 1);
    }
    let entities = app.entity_count().await;
    let listed: u64 = redis::cmd("ZCARD")
        .arg(app.key("ops"))
        .query_async(&mut app.valkey().await)
        .await
        .expect("ZCARD");
    eprintln!(
        "killed the Valkey master of the pending set ({victim}): accepted {} \
         ({accepted_at_kill} before the kill), completed {}, refused (503 or no answer) \
         {refused}, redelivered {retried}, records lost {}, entities {entities:?} of {}, \
         operations listed {listed}; replica master after {failed_over:.2?}, 20 more \
         accepted {resumed:.2?} after the kill, killed node a synced replica after \
         {rejoined:.2?}, the rest completed {:.2?} after the load stopped",
        accepted.len(),
        accepted.len() - vanished.len(),
        vanished.len(),
        accepted.len() * ITEMS,
        started.elapsed(),
    );
    assert_eq!(
        vanished,
        Vec::<uuid::Uuid>::new(),
        "accepted operations whose record was lost"
    );
    let expected = (accepted.len() * ITEMS) as u64;
    assert_eq!(
        entities,
        (expected, expected),
        "no entity created twice, none lost"
    );
}

/// With `Valkey__WaitReplicas=1`, a write its replica does not confirm in time does not
/// count: while every replica is frozen an import is refused (`503` with `Retry-After`) and
/// leaves no operation behind; once they thaw, imports are accepted and complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_wait_a_write_no_replica_has_is_refused_and_leaves_nothing() {
    let servers = Servers::start_valkey_cluster_with_replicas();
    let options = Options {
        sweep_after: Duration::from_secs(1),
        valkey_wait_replicas: 1,
        ..Options::default()
    };
    let app = spawn_app_with(&servers, options).await;
    let before = app.accepted(named_items("replicated", 3)).await;
    app.until_terminal(before, Duration::from_secs(30)).await;
    let replicas = &servers.valkey_peers[NODES - 1..];
    for replica in replicas {
        replica.freeze();
    }
    for round in 0..3 {
        let items = named_items(&format!("unreplicated{round}"), 2);
        let answer = app.import(&serde_json::json!({ "items": items })).await;
        assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(answer.headers().contains_key("retry-after"));
    }
    for replica in replicas {
        replica.thaw();
    }
    let listed = app.operations_list().await;
    assert_eq!(
        listed["operations"].as_array().map(Vec::len),
        Some(1),
        "only the operation accepted before: {listed}"
    );
    let after = app.accepted(named_items("thawed", 3)).await;
    let doc = app.until_terminal(after, Duration::from_secs(30)).await;
    assert_eq!(doc["status"], "completed");
    assert_eq!(
        app.entity_count().await,
        (6, 6),
        "none of the refused imports ran"
    );
}
