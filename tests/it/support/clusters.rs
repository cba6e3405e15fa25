//! Clusters on loopback: three `nats-server` nodes routed to each other, JetStream on
//! each, each with a store directory of its own that survives a restart; and three
//! `valkey-server --cluster-enabled yes` masters sharing the 16384 slots.

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
        let cluster_args = [
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
        ];
        let mut masters: Vec<Server> = (0..NODES)
            .map(|_| {
                let extra = cluster_args.map(str::to_owned).to_vec();
                Server::start_with(Kind::Valkey, free_cluster_port(), extra)
            })
            .collect();
        let first = masters[0].port;
        for (index, master) in masters.iter().enumerate() {
            let mut conn = node_connection(master.port);
            let (start, end) = slot_range(index);
            let _: () = redis::cmd("CLUSTER")
                .arg("ADDSLOTSRANGE")
                .arg(start)
                .arg(end)
                .query(&mut conn)
                .expect("CLUSTER ADDSLOTSRANGE");
            if master.port != first {
                let _: () = redis::cmd("CLUSTER")
                    .arg("MEET")
                    .arg("127.0.0.1")
                    .arg(master.port)
                    .query(&mut node_connection(first))
                    .expect("CLUSTER MEET");
            }
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        for master in &masters {
            let mut conn = node_connection(master.port);
            loop {
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query(&mut conn)
                    .expect("CLUSTER INFO");
                if info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3") {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "no cluster: {info}");
                std::thread::sleep(Duration::from_millis(25));
            }
        }
        Servers {
            nats: Server::start_with(Kind::Nats, free_port(), Vec::new()),
            nats_peers: Vec::new(),
            valkey: masters.remove(0),
            valkey_peers: masters,
        }
    }
}

fn node_connection(port: u16) -> redis::Connection {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))
        .and_then(|client| client.get_connection())
        .expect("a Valkey node")
}
