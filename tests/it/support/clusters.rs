//! Clusters on loopback: three `nats-server` nodes routed to each other, JetStream on
//! each, each with a store directory of its own that survives a restart.

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
