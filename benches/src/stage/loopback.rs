//! `--clusters`: the run's own 3-node clusters on loopback, as a deployment past one
//! machine would have them: three `nats-server` routed to each other with JetStream on
//! each, and three `valkey-server --cluster-enabled yes` masters sharing the 16384 slots
//! (`CLUSTER ADDSLOTSRANGE`, `CLUSTER MEET`). Each node keeps its data in a directory of
//! the run, removed with the nodes when the run ends. The roles run against them with
//! `Nats__Replicas=3` and `Valkey__Cluster=true`.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use async_nats::jetstream::stream;
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// Nodes of each cluster.
const NODES: usize = 3;
/// Slots of a Valkey Cluster.
const SLOTS: usize = 16_384;

/// The running clusters; every node is killed when this is dropped.
pub struct Loopback {
    /// The NATS seeds, comma-separated.
    pub nats_url: String,
    /// The Valkey seeds (the masters), comma-separated.
    pub valkey_url: String,
    nodes: Vec<Child>,
    dir: PathBuf,
}

impl Loopback {
    /// Starts both clusters under `dir` (`nats-server` and `valkey-server` from the PATH)
    /// and returns once JetStream can place a stream on three nodes and every Valkey master
    /// reports the cluster `ok`.
    pub async fn start(dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir).context("the clusters' directory")?;
        let mut clusters = Self {
            nats_url: String::new(),
            valkey_url: String::new(),
            nodes: Vec::new(),
            dir,
        };
        clusters.start_nats()?;
        clusters.start_valkey().await?;
        clusters.until_jetstream_places().await?;
        Ok(clusters)
    }

    /// The settings the roles need on these clusters.
    pub fn role_env() -> Vec<(String, String)> {
        vec![
            ("Nats__Replicas".into(), NODES.to_string()),
            ("Valkey__Cluster".into(), "true".into()),
        ]
    }

    fn start_nats(&mut self) -> anyhow::Result<()> {
        let ports = (0..NODES)
            .map(|_| Ok((free_port(false)?, free_port(false)?)))
            .collect::<anyhow::Result<Vec<(u16, u16)>>>()?;
        for (index, (client, route)) in ports.iter().enumerate() {
            let routes: Vec<String> = ports
                .iter()
                .filter(|(_, other)| other != route)
                .map(|(_, other)| format!("nats://127.0.0.1:{other}"))
                .collect();
            let store = self.node_dir(&format!("nats-{index}"))?;
            let args = [
                "-a".into(),
                "127.0.0.1".into(),
                "-p".into(),
                client.to_string(),
                "-js".into(),
                "-sd".into(),
                store.display().to_string(),
                "--server_name".into(),
                format!("bench-n{index}"),
                "--cluster_name".into(),
                "bench".into(),
                "--cluster".into(),
                format!("nats://127.0.0.1:{route}"),
                "--routes".into(),
                routes.join(","),
            ];
            self.spawn("nats-server", &args, &store)?;
        }
        self.nats_url = ports
            .iter()
            .map(|(client, _)| format!("nats://127.0.0.1:{client}"))
            .collect::<Vec<_>>()
            .join(",");
        Ok(())
    }

    async fn start_valkey(&mut self) -> anyhow::Result<()> {
        let mut ports = Vec::new();
        for index in 0..NODES {
            let port = free_port(true)?;
            let data = self.node_dir(&format!("valkey-{index}"))?;
            let args = [
                "--bind".into(),
                "127.0.0.1".into(),
                "--port".into(),
                port.to_string(),
                "--dir".into(),
                data.display().to_string(),
                "--save".into(),
                String::new(),
                "--appendonly".into(),
                "no".into(),
                "--cluster-enabled".into(),
                "yes".into(),
                "--cluster-config-file".into(),
                "nodes.conf".into(),
            ];
            self.spawn("valkey-server", &args, &data)?;
            ports.push(port);
        }
        let mut connections = Vec::new();
        for port in &ports {
            connections.push(until_connected(*port).await?);
        }
        for (index, conn) in connections.iter_mut().enumerate() {
            let (start, end) = (index * SLOTS / NODES, (index + 1) * SLOTS / NODES - 1);
            redis::cmd("CLUSTER")
                .arg("ADDSLOTSRANGE")
                .arg(start)
                .arg(end)
                .query_async::<()>(conn)
                .await
                .context("CLUSTER ADDSLOTSRANGE")?;
        }
        for port in &ports[1..] {
            redis::cmd("CLUSTER")
                .arg("MEET")
                .arg("127.0.0.1")
                .arg(*port)
                .query_async::<()>(&mut connections[0])
                .await
                .context("CLUSTER MEET")?;
        }
        for port in &ports {
            until("the Valkey Cluster", || cluster_ok(*port)).await?;
        }
        self.valkey_url = ports
            .iter()
            .map(|port| format!("redis://127.0.0.1:{port}"))
            .collect::<Vec<_>>()
            .join(",");
        Ok(())
    }

    /// Waits until JetStream has a meta leader and three peers to place a stream on.
    async fn until_jetstream_places(&self) -> anyhow::Result<()> {
        let seeds: Vec<&str> = self.nats_url.split(',').collect();
        let client = async_nats::ConnectOptions::new()
            .retry_on_initial_connect()
            .connect(seeds)
            .await
            .context("connecting to the NATS cluster")?;
        let js = async_nats::jetstream::new(client);
        let name = "bench_probe";
        until("a JetStream cluster", || async {
            js.create_stream(stream::Config {
                name: name.into(),
                subjects: vec![format!("{name}.>")],
                num_replicas: NODES,
                storage: stream::StorageType::Memory,
                ..Default::default()
            })
            .await
            .ok()
        })
        .await?;
        js.delete_stream(name).await.context("deleting the probe")?;
        Ok(())
    }

    fn node_dir(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.dir.join(name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    }

    fn spawn(
        &mut self,
        program: &str,
        args: &[String],
        dir: &std::path::Path,
    ) -> anyhow::Result<()> {
        let log = std::fs::File::create(dir.join("server.log")).context("a server log")?;
        let child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log.try_clone().context("a server log")?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {program} (is it on the PATH?)"))?;
        self.nodes.push(child);
        Ok(())
    }
}

impl Drop for Loopback {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            let _ = node.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nothing listens on now; for a Valkey Cluster node, one whose bus port (+10000)
/// is free too.
fn free_port(with_bus: bool) -> anyhow::Result<u16> {
    for _ in 0..100 {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        if !with_bus || (port <= 55_535 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok())
        {
            return Ok(port);
        }
    }
    bail!("no free port with a free cluster bus port")
}

async fn until_connected(port: u16) -> anyhow::Result<redis::aio::MultiplexedConnection> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}"))?;
    until("a Valkey node", || async {
        client.get_multiplexed_async_connection().await.ok()
    })
    .await
}

/// `Some` once the node on `port` reports the cluster `ok` with every node known.
async fn cluster_ok(port: u16) -> Option<()> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}")).ok()?;
    let mut conn = client.get_multiplexed_async_connection().await.ok()?;
    let info: String = redis::cmd("CLUSTER")
        .arg("INFO")
        .query_async(&mut conn)
        .await
        .ok()?;
    let known = format!("cluster_known_nodes:{NODES}");
    (info.contains("cluster_state:ok") && info.contains(&known)).then_some(())
}

/// Looks at `probe` every 50 ms until it returns `Some` (at most 30 s).
async fn until<T, F, Fut>(what: &str, mut probe: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = probe().await {
            return Ok(value);
        }
        if Instant::now() > deadline {
            bail!("no {what} after 30 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
