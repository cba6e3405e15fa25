//! What one run shares: a fresh random run id (so runs never collide) from which each part
//! takes a prefix of its own, a NATS connection, the launcher of role processes, the
//! backlog of the workers' consumer, the peak RSS figures gathered along the way, and the
//! clean-up of every stream and key of every prefix the run used. With `--clusters`, the
//! run's own clusters on loopback too ([`loopback`]).

pub mod loopback;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use async_nats::jetstream;
use tokio::time::Instant;
use uuid::Uuid;

use crate::options::Options;
use crate::processes::{Launcher, RoleProcess, peak_of};

/// The stream the publish-only ceiling writes to (besides the participant's own).
pub fn ceiling_stream(prefix: &str) -> String {
    format!("{prefix}_CEILING")
}

/// One run's context.
pub struct Stage {
    pub options: Options,
    pub nats: async_nats::Client,
    pub jetstream: jetstream::Context,
    run: String,
    prefixes: Vec<String>,
    log_dir: PathBuf,
    /// `(part, role, peak RSS in bytes)`.
    pub memory: Vec<(String, String, u64)>,
    /// CPU use of the metered cells, in cores and per operation.
    pub cpu: crate::cpu::Tables,
    /// With `--clusters`, the run's own clusters (their data goes with them).
    clusters: Option<loopback::Loopback>,
}

impl Stage {
    pub async fn new(mut options: Options) -> anyhow::Result<Self> {
        let run = format!("bench_{}", &Uuid::new_v4().simple().to_string()[..12]);
        let log_dir = std::env::temp_dir().join(format!("participant-{run}"));
        std::fs::create_dir_all(&log_dir).context("creating the log directory")?;
        let clusters = if options.clusters {
            let dir = std::env::temp_dir().join(format!("participant-{run}-clusters"));
            let clusters = loopback::Loopback::start(dir).await?;
            eprintln!(
                "clusters on loopback: NATS {}, Valkey {}",
                clusters.nats_url, clusters.valkey_url
            );
            options.nats_url.clone_from(&clusters.nats_url);
            options.valkey_url.clone_from(&clusters.valkey_url);
            Some(clusters)
        } else {
            None
        };
        let seeds: Vec<&str> = options.nats_url.split(',').map(str::trim).collect();
        let nats = async_nats::ConnectOptions::new()
            .subscription_capacity(1 << 18)
            .connect(seeds)
            .await
            .with_context(|| format!("connecting to NATS at {}", options.nats_url))?;
        let jetstream = jetstream::new(nats.clone());
        Ok(Self {
            options,
            nats,
            jetstream,
            run,
            prefixes: Vec::new(),
            log_dir,
            memory: Vec::new(),
            cpu: crate::cpu::Tables::default(),
            clusters,
        })
    }

    /// A deployment of its own for one part, under the prefix `<run>_<part>`, so that no
    /// job or operation of one part reaches the workers of another.
    pub fn deployment(&mut self, part: &str) -> Deployment {
        let prefix = format!("{}_{part}", self.run);
        self.prefixes.push(prefix.clone());
        Deployment {
            jetstream: self.jetstream.clone(),
            launcher: Launcher {
                bin: self.options.participant_bin.clone(),
                nats_url: self.options.nats_url.clone(),
                valkey_url: self.options.valkey_url.clone(),
                prefix: prefix.clone(),
                log_dir: self.log_dir.clone(),
                rust_log: self.options.role_log.clone(),
                env: if self.clusters.is_some() {
                    loopback::Loopback::role_env()
                } else {
                    Vec::new()
                },
            },
            prefix,
        }
    }

    /// Notes the peak RSS of `processes` (the largest among them) for the memory table.
    pub fn note_memory(&mut self, part: &str, role: &str, processes: &[RoleProcess]) {
        self.memory
            .push((part.to_owned(), role.to_owned(), peak_of(processes)));
    }

    /// Deletes every stream and Valkey key (SCAN `<prefix>:*`, UNLINK) of each prefix the
    /// run used, and the role logs.
    pub async fn clean_up(&self) -> anyhow::Result<()> {
        let _ = std::fs::remove_dir_all(&self.log_dir);
        let mut deleted = 0;
        for p in &self.prefixes {
            let streams = [
                format!("{p}_EVENTS"),
                format!("{p}_DEADLETTER"),
                ceiling_stream(p),
            ];
            for stream in streams {
                // A stream a partial run never created is fine to miss.
                if self.jetstream.get_stream(&stream).await.is_ok() {
                    self.jetstream
                        .delete_stream(&stream)
                        .await
                        .with_context(|| format!("deleting the stream {stream}"))?;
                }
            }
            // The run's own clusters take their keys with them.
            if self.clusters.is_none() {
                deleted += delete_keys(&self.options.valkey_url, &format!("{p}:*")).await?;
            }
        }
        eprintln!(
            "cleaned up: the streams of {}_*, {deleted} Valkey keys",
            self.run
        );
        Ok(())
    }
}

/// The roles of one part and their jobs consumer.
pub struct Deployment {
    pub prefix: String,
    pub launcher: Launcher,
    jetstream: jetstream::Context,
}

impl Deployment {
    /// Roles under `prefix`, started by `launcher`, whose jobs consumer is in `jetstream` (a
    /// part with servers of its own makes its deployments here).
    pub fn new(prefix: String, launcher: Launcher, jetstream: jetstream::Context) -> Self {
        Self {
            prefix,
            launcher,
            jetstream,
        }
    }

    /// Jobs not yet done: `num_pending + num_ack_pending` of the workers' consumer (of the
    /// events stream's `accepted` events).
    pub async fn backlog(&self) -> anyhow::Result<u64> {
        let stream = self
            .jetstream
            .get_stream(format!("{}_EVENTS", self.prefix))
            .await?;
        let info = stream
            .consumer_info(format!("{}_workers", self.prefix))
            .await?;
        Ok(info.num_pending + info.num_ack_pending as u64)
    }

    /// Waits (at most `limit`) until the backlog is empty; returns what is left.
    pub async fn drain(&self, limit: Duration) -> anyhow::Result<u64> {
        let deadline = Instant::now() + limit;
        loop {
            let left = self.backlog().await?;
            if left == 0 || Instant::now() > deadline {
                return Ok(left);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Starts `count` worker processes and waits (at most 10 s) until the consumer has
    /// `waiting` pull requests in all.
    pub async fn workers(
        &self,
        count: usize,
        waiting: usize,
        args: &[String],
    ) -> anyhow::Result<Vec<RoleProcess>> {
        let workers = (0..count)
            .map(|_| self.launcher.spawn("worker", args))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let (stream, consumer) = (
            format!("{}_EVENTS", self.prefix),
            format!("{}_workers", self.prefix),
        );
        self.pulling(&stream, &consumer, waiting).await?;
        Ok(workers)
    }

    /// Waits (at most 10 s) until `consumer` of `stream` has `waiting` pull requests; fails
    /// after that, since a cell measured with fewer workers than it names would mislead.
    async fn pulling(&self, stream: &str, consumer: &str, waiting: usize) -> anyhow::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(stream) = self.jetstream.get_stream(stream).await {
                let info = stream.consumer_info(consumer).await;
                if info.is_ok_and(|i| i.num_waiting >= waiting) {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        anyhow::bail!("{consumer} has fewer than {waiting} pull requests after 10 s")
    }
}

/// SCANs for `pattern` and deletes what it finds (UNLINK); never FLUSHALL.
async fn delete_keys(url: &str, pattern: &str) -> anyhow::Result<u64> {
    let client = redis::Client::open(url).context("the Valkey URL")?;
    // A tenant's entities can be one hash of millions of fields: allow time for it.
    let config =
        redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(60)));
    let mut connection = client
        .get_multiplexed_async_connection_with_config(&config)
        .await
        .context("connecting to Valkey")?;
    let mut cursor: u64 = 0;
    let mut deleted = 0;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(5000)
            .query_async(&mut connection)
            .await
            .context("SCAN")?;
        if !keys.is_empty() {
            // UNLINK is DEL that frees the memory in the background, so a shared server
            // is not blocked by a large hash.
            let count: u64 = redis::cmd("UNLINK")
                .arg(&keys)
                .query_async(&mut connection)
                .await
                .context("UNLINK")?;
            deleted += count;
        }
        if next == 0 {
            return Ok(deleted);
        }
        cursor = next;
    }
}
