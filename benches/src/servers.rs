//! Servers of a part's own: a `nats-server` with JetStream and `redis-server` (or
//! `valkey-server`) processes on free ports of 127.0.0.1, storing under a directory of the
//! run and nothing on disk for Redis, each ready once it answers; their pids are known, so
//! their CPU is metered exactly, whatever else runs on the machine.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use tokio::process::Command;
use tokio::time::Instant;

use crate::processes::{RoleProcess, free_port};

/// How long a server has to answer after its start.
const READY_WITHIN: Duration = Duration::from_secs(20);

/// One running server and its URL.
pub struct Server {
    pub process: RoleProcess,
    pub url: String,
}

impl Server {
    /// `nats-server -js` storing under `dir`, once a client can connect.
    pub async fn nats(bin: &Path, dir: &Path, log_dir: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let store = dir.join(format!("jetstream-{port}"));
        let mut command = Command::new(bin);
        command
            .args(["-a", "127.0.0.1", "-p", &port.to_string(), "-js", "-sd"])
            .arg(&store);
        let mut process = RoleProcess::spawn("nats-server", command, log_dir)?;
        let url = format!("nats://127.0.0.1:{port}");
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            process.check_running()?;
            if async_nats::connect(url.as_str()).await.is_ok() {
                return Ok(Self { process, url });
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "nats-server did not answer within {READY_WITHIN:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `redis-server` with no persistence, once it answers `PING`; `role` names it.
    pub async fn redis(bin: &Path, role: &str, log_dir: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let mut command = Command::new(bin);
        command
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(log_dir);
        let mut process = RoleProcess::spawn(role, command, log_dir)?;
        let url = format!("redis://127.0.0.1:{port}");
        let client = redis::Client::open(url.as_str()).context("the Redis URL")?;
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            process.check_running()?;
            if let Ok(mut connection) = client.get_multiplexed_async_connection().await {
                let pong: redis::RedisResult<String> =
                    redis::cmd("PING").query_async(&mut connection).await;
                if pong.is_ok() {
                    return Ok(Self { process, url });
                }
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{role} did not answer within {READY_WITHIN:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Empties a Redis or Valkey server of this part's own (`FLUSHALL`), so that each run
    /// starts from an empty store, as the first did.
    pub async fn flush(&self) -> anyhow::Result<()> {
        let client = redis::Client::open(self.url.as_str()).context("the Redis URL")?;
        let mut connection = client.get_multiplexed_async_connection().await?;
        redis::cmd("FLUSHALL")
            .query_async::<()>(&mut connection)
            .await?;
        Ok(())
    }

    /// The server's pid, for the meter.
    pub fn pid(&self) -> anyhow::Result<u32> {
        self.process.pid().context("the server has exited")
    }
}
