//! Clusters on loopback: three `nats-server` nodes routed to each other, JetStream on
//! each, each with a store directory of its own that survives a restart; and three
//! `valkey-server --cluster-enabled yes` masters sharing the 16384 slots, with or without
//! a replica each.

use std::time::Duration;

use async_nats::jetstream::stream;
use uuid::Uuid;

use super::servers::{Kind, Server, Servers, free_port};
use super::wait;

/// Nodes of a test cluster.
pub const NODES: usize = 3;

/// The server name of node `index`.
fn node_name(index: usize) -> String {
    format!("n{index}")
}

impl Servers {
    /// A 3-node JetStream cluster and a durable Valkey; returns once the cluster can place
    /// a stream with three replicas.
    pub async fn start_nats_cluster() -> Self {
        let ports: Vec<(u16, u16)> = (0..NODES).map(|_| (free_port(), free_port())).collect();
        let cluster = format!("c{}", &Uuid::new_v4().simple().to_string()[..8]);
        let mut nodes: Vec<Server> = ports
            .iter()
            .enumerate()
            .map(|(index, (client, route))| {
                let routes: Vec<String> = ports
                    .iter()
                    .filter(|(_, other)| other != route)
                    .map(|(_, other)| format!("nats://127.0.0.1:{other}"))
                    .collect();
                let extra = [
                    "--server_name",
                    &node_name(index),
                    "--cluster_name",
                    &cluster,
                    "--cluster",
                    &format!("nats://127.0.0.1:{route}"),
                    "--routes",
                    &routes.join(","),
                ];
                Server::start_with(Kind::Nats, *client, extra.map(str::to_owned).to_vec())
            })
            .collect();
        let servers = Servers {
            nats: nodes.remove(0),
            nats_peers: nodes,
            valkey: Server::start_with(Kind::DurableValkey, free_port(), Vec::new()),
            valkey_peers: Vec::new(),
        };
        servers.until_jetstream_places(NODES).await;
        servers
    }

    /// The NATS node named `name`.
    pub fn nats_node(&mut self, name: &str) -> &mut Server {
        let index: usize = name[1..].parse().expect("a node name");
        self.nats_nodes().nth(index).expect("a node of the cluster")
    }

    /// Waits until JetStream has a meta leader and `replicas` peers to place a stream on.
    async fn until_jetstream_places(&self, replicas: usize) {
        let client = async_nats::connect(self.nats_seeds()).await.expect("NATS");
        let js = async_nats::jetstream::new(client);
        let name = format!("probe{}", &Uuid::new_v4().simple().to_string()[..8]);
        wait::until("a JetStream cluster", Duration::from_secs(30), || async {
            js.create_stream(stream::Config {
                name: name.clone(),
                subjects: vec![format!("{name}.>")],
                num_replicas: replicas,
                storage: stream::StorageType::Memory,
                ..Default::default()
            })
            .await
            .ok()
        })
        .await;
        js.delete_stream(&name)
            .await
            .expect("deleting the probe stream");
    }
}

/// Slots of a Valkey Cluster.
const SLOTS: usize = 16_384;

/// The slots master `index` serves: an equal share each.
fn slot_range(index: usize) -> (usize, usize) {
    (index * SLOTS / NODES, (index + 1) * SLOTS / NODES - 1)
}

/// A free port whose cluster bus port (+10000) is free too.
fn free_cluster_port() -> u16 {
    loop {
        let port = free_port();
        if port <= 55_535 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

impl Servers {
    /// A NATS server and a Valkey Cluster of three masters (no replicas), each given a
    /// third of the slots with `CLUSTER ADDSLOTSRANGE` and joined with `CLUSTER MEET`;
    /// returns once every master reports the cluster `ok`.
    pub fn start_valkey_cluster() -> Self {
        Self::with_valkey_cluster(start_valkey_cluster(0, &[]))
    }

    /// A NATS server and a Valkey Cluster of three masters with one replica each (six
    /// `valkey-server` processes), whose nodes call a silent peer failed after a second
    /// (`cluster-node-timeout`), so a replica takes over a killed master within seconds.
    /// Returns once every master has its replica in sync. The masters come first.
    pub fn start_valkey_cluster_with_replicas() -> Self {
        Self::with_valkey_cluster(start_valkey_cluster(1, &["--cluster-node-timeout", "1000"]))
    }

    fn with_valkey_cluster(mut nodes: Vec<Server>) -> Self {
        Servers {
            nats: Server::start_with(Kind::Nats, free_port(), Vec::new()),
            nats_peers: Vec::new(),
            valkey: nodes.remove(0),
            valkey_peers: nodes,
        }
    }

    /// The Valkey node listening on `port`.
    pub fn valkey_node(&mut self, port: u16) -> &mut Server {
        std::iter::once(&mut self.valkey)
            .chain(self.valkey_peers.iter_mut())
            .find(|node| node.port == port)
            .expect("a node of the cluster")
    }
}

/// `NODES` masters sharing the slots, each with `replicas` replicas, the masters first.
fn start_valkey_cluster(replicas: usize, extra: &[&str]) -> Vec<Server> {
    let mut args = vec![
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
    ];
    args.extend(extra);
    let nodes: Vec<Server> = (0..NODES * (1 + replicas))
        .map(|_| {
            let extra = args.iter().map(|a| (*a).to_owned()).collect();
            Server::start_with(Kind::Valkey, free_cluster_port(), extra)
        })
        .collect();
    let first = nodes[0].port;
    for (index, master) in nodes[..NODES].iter().enumerate() {
        let (start, end) = slot_range(index);
        let _: () = redis::cmd("CLUSTER")
            .arg("ADDSLOTSRANGE")
            .arg(start)
            .arg(end)
            .query(&mut node_connection(master.port))
            .expect("CLUSTER ADDSLOTSRANGE");
    }
    for node in &nodes[1..] {
        let _: () = redis::cmd("CLUSTER")
            .arg("MEET")
            .arg("127.0.0.1")
            .arg(node.port)
            .query(&mut node_connection(first))
            .expect("CLUSTER MEET");
    }
    let known = format!("cluster_known_nodes:{}", nodes.len());
    for node in &nodes {
        let mut conn = node_connection(node.port);
        until_sync("every node to know the others", || {
            let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut conn).ok()?;
            info.contains(&known).then_some(())
        });
    }
    for (index, replica) in nodes[NODES..].iter().enumerate() {
        let master = &nodes[index % NODES];
        let master_id: String = redis::cmd("CLUSTER")
            .arg("MYID")
            .query(&mut node_connection(master.port))
            .expect("CLUSTER MYID");
        let mut conn = node_connection(replica.port);
        // A node learns the others' roles over the bus a moment after it knows them.
        until_sync("a replica attached to its master", || {
            redis::cmd("CLUSTER")
                .arg("REPLICATE")
                .arg(&master_id)
                .query::<()>(&mut conn)
                .ok()
        });
    }
    for node in &nodes {
        let mut conn = node_connection(node.port);
        until_sync("the cluster ok, every replica in sync", || {
            let info: String = redis::cmd("CLUSTER").arg("INFO").query(&mut conn).ok()?;
            let ok = info.contains("cluster_state:ok");
            (ok && role(node.port).is_some_and(|r| r.in_sync(replicas))).then_some(())
        });
    }
    nodes
}

/// What a Valkey node says it is (`ROLE`).
#[derive(Debug, PartialEq, Eq)]
pub enum Role {
    /// A master, with how many replicas are attached.
    Master { replicas: usize },
    /// A replica of the master on `master_port`, `synced` once its link is up.
    Replica { master_port: u16, synced: bool },
}

impl Role {
    /// A master with `replicas` replicas, or a replica whose link is up.
    fn in_sync(&self, replicas: usize) -> bool {
        match self {
            Role::Master { replicas: attached } => *attached == replicas,
            Role::Replica { synced, .. } => *synced,
        }
    }
}

/// The role of the node on `port`, if it answers.
pub fn role(port: u16) -> Option<Role> {
    let mut conn = redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .ok()?
        .get_connection_with_timeout(Duration::from_secs(1))
        .ok()?;
    let role: redis::Value = redis::cmd("ROLE").query(&mut conn).ok()?;
    let redis::Value::Array(parts) = role else {
        return None;
    };
    let text = |value: &redis::Value| redis::from_redis_value_ref::<String>(value).ok();
    match text(parts.first()?)?.as_str() {
        "master" => {
            let replicas: Vec<redis::Value> = redis::from_redis_value_ref(parts.get(2)?).ok()?;
            Some(Role::Master {
                replicas: replicas.len(),
            })
        }
        "slave" => Some(Role::Replica {
            master_port: redis::from_redis_value_ref(parts.get(2)?).ok()?,
            synced: text(parts.get(3)?)? == "connected",
        }),
        _ => None,
    }
}

/// The port of the master that serves `key`'s slot, as the node on `port` sees it.
pub fn master_of(port: u16, key: &str) -> u16 {
    let mut conn = node_connection(port);
    let slot: u16 = redis::cmd("CLUSTER")
        .arg("KEYSLOT")
        .arg(key)
        .query(&mut conn)
        .expect("CLUSTER KEYSLOT");
    // [[start, end, [ip, port, id, ...], replicas...], ...]
    let ranges: Vec<(u16, u16, (String, u16))> = redis::cmd("CLUSTER")
        .arg("SLOTS")
        .query::<Vec<redis::Value>>(&mut conn)
        .expect("CLUSTER SLOTS")
        .into_iter()
        .filter_map(|range| {
            let redis::Value::Array(parts) = range else {
                return None;
            };
            let bound = |i: usize| redis::from_redis_value_ref(parts.get(i)?).ok();
            let master: Vec<redis::Value> = redis::from_redis_value_ref(parts.get(2)?).ok()?;
            let host = redis::from_redis_value_ref(master.first()?).ok()?;
            let port = redis::from_redis_value_ref(master.get(1)?).ok()?;
            Some((bound(0)?, bound(1)?, (host, port)))
        })
        .collect();
    ranges
        .into_iter()
        .find(|(start, end, _)| (*start..=*end).contains(&slot))
        .map(|(_, _, (_, port))| port)
        .expect("a master for the slot")
}

/// Looks at `probe` every 25 ms until it returns `Some` (at most 30 s), before the test's
/// runtime has anything else to run.
fn until_sync<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn node_connection(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .and_then(|client| client.get_connection())
        .expect("a Valkey node")
}
