//! The command line of `participant-bench`, and the plan it implies: which parts run, for
//! how long, at which concurrencies and worker counts (`--quick` shrinks all of it).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, ValueEnum};
use shared::config::parse_duration;

/// Load generator and ceilings for the participant; prints a markdown table.
#[derive(Parser, Clone, Debug)]
#[command(name = "participant-bench", version)]
pub struct Options {
    /// NATS server (with JetStream) the roles and the bench use.
    #[arg(long, default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Valkey or Redis 7 server the roles use.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    pub valkey_url: String,
    /// The release binary whose roles are measured, started as real processes.
    #[arg(long, default_value = "target/release/participant")]
    pub participant_bin: PathBuf,
    /// Measured time of each cell (after a warm-up of a fifth of it, at most 1 s).
    #[arg(long, default_value = "5s", value_parser = parse_duration)]
    pub duration: Duration,
    /// About a second per cell, one concurrency, one worker: a smoke test.
    #[arg(long)]
    pub quick: bool,
    /// Run one part alone (`sidebyside` runs only when named here).
    #[arg(long, value_enum)]
    pub only: Option<Part>,
    /// Jobs one worker process runs at once (`--concurrency` of `participant worker`).
    #[arg(long, default_value_t = 16)]
    pub worker_concurrency: u16,
    /// Idle keep-alive connections of the hostile part (a tenth with `--quick`).
    #[arg(long, default_value_t = 2000)]
    pub idle_clients: usize,
    /// Slowloris connections of the hostile part (a tenth with `--quick`).
    #[arg(long, default_value_t = 1000)]
    pub slowloris_clients: usize,
    /// Start 3-node clusters on loopback for the run (three `nats-server` with routes and
    /// JetStream, three Valkey Cluster masters; `nats-server` and `valkey-server` from the
    /// PATH) instead of using `--nats-url` and `--valkey-url`, and run the roles on them
    /// with `Nats__Replicas=3` and `Valkey__Cluster=true`.
    #[arg(long)]
    pub clusters: bool,
    /// Worker process counts of the end-to-end cells, comma-separated (`1` with `--quick`).
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    pub workers: Vec<usize>,
    /// Import sizes of the cost-per-item cells (one worker), comma-separated (`10,100` with
    /// `--quick`).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "10,100,1000,10000,100000"
    )]
    pub import_sizes: Vec<usize>,
    /// `RUST_LOG` of the role processes (their logs go to files that are removed at the end).
    #[arg(long, default_value = "info")]
    pub role_log: String,
    #[command(flatten)]
    pub side: SideBySide,
}

/// The side-by-side part: the participant and the apalis peer, alternately, each on servers
/// the part starts for it, driven by the same client.
#[derive(Args, Clone, Debug)]
pub struct SideBySide {
    /// Imports each system gets in each run.
    #[arg(id = "side_jobs", long = "side-jobs", default_value_t = 20_000)]
    pub jobs: u64,
    /// Runs; each runs the participant, then the peer.
    #[arg(id = "side_runs", long = "side-runs", default_value_t = 3)]
    pub runs: usize,
    /// Worker processes of each system.
    #[arg(id = "side_workers", long = "side-workers", default_value_t = 1)]
    pub workers: usize,
    /// Slots of each worker process (`--concurrency` of both workers).
    #[arg(
        id = "side_concurrency",
        long = "side-concurrency",
        default_value_t = 64
    )]
    pub concurrency: u16,
    /// Items per import.
    #[arg(id = "side_items", long = "side-items", default_value_t = 10)]
    pub items: usize,
    /// Keep-alive connections the imports are sent over.
    #[arg(id = "side_clients", long = "side-clients", default_value_t = 64)]
    pub clients: usize,
    /// Imports per second, paced (open loop); 0 sends them as a burst (closed loop).
    #[arg(id = "side_rate", long = "side-rate", default_value_t = 0.0)]
    pub rate: f64,
    /// The peer's release binary (`cargo build --release -p apalis-peer`).
    #[arg(long, default_value = "target/release/apalis-peer")]
    pub peer_bin: PathBuf,
    /// The NATS server the part starts for the participant.
    #[arg(long, default_value = "nats-server")]
    pub nats_server_bin: PathBuf,
    /// The Redis build the part starts twice: the participant's Valkey and the peer's Redis
    /// (`valkey-server` works too).
    #[arg(long, default_value = "redis-server")]
    pub redis_server_bin: PathBuf,
}

/// One part of the benchmark.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// Accepted imports per second and latency, beside the publish-only and no-I/O ceilings.
    Intake,
    /// Operations accepted and completed by 1, 2 and 4 worker processes (`--workers`).
    E2e,
    /// Webhook deliveries beside the bare signed-POST rate.
    Webhooks,
    /// The intake's burst alone and beside thousands of idle and slowloris connections.
    Hostile,
    /// The participant and the apalis peer (`apalis-peer`) side by side, each on servers of
    /// its own; runs only when named.
    Sidebyside,
}

impl Options {
    /// Whether `part` is to run.
    pub fn runs(&self, part: Part) -> bool {
        self.only
            .map_or(part != Part::Sidebyside, |only| only == part)
    }

    /// The measured time of one cell.
    pub fn measured(&self) -> Duration {
        if self.quick {
            self.duration.min(Duration::from_secs(1))
        } else {
            self.duration
        }
    }

    /// The warm-up before each cell: a fifth of it, at most one second.
    pub fn warmup(&self) -> Duration {
        (self.measured() / 5).min(Duration::from_secs(1))
    }

    /// Concurrent keep-alive connections of the intake cells.
    pub fn intake_connections(&self) -> Vec<usize> {
        if self.quick { vec![8] } else { vec![1, 8, 64] }
    }

    /// The hostile crowd: idle and slowloris connections.
    pub fn hostile_crowd(&self) -> (usize, usize) {
        let share = if self.quick { 10 } else { 1 };
        (self.idle_clients / share, self.slowloris_clients / share)
    }

    /// Worker process counts of the end-to-end cells.
    pub fn worker_counts(&self) -> Vec<usize> {
        if self.quick {
            vec![1]
        } else {
            self.workers.clone()
        }
    }

    /// Import sizes of the cost-per-item cells.
    pub fn import_sizes(&self) -> Vec<usize> {
        if self.quick {
            vec![10, 100]
        } else {
            self.import_sizes.clone()
        }
    }

    /// Closed-loop submitters of the cost-per-item cell of `items`: the slots of one worker
    /// for small imports, fewer for large ones, so that about 200,000 items are in flight.
    pub fn sized_submitters(&self, items: usize) -> usize {
        (200_000 / items.max(1)).clamp(1, usize::from(self.worker_concurrency) * 2)
    }

    /// Closed-loop submitters for `workers` worker processes: twice their job slots, so
    /// every slot has a job waiting behind the one it runs.
    pub fn submitters(&self, workers: usize) -> usize {
        (2 * workers * usize::from(self.worker_concurrency)).clamp(8, 256)
    }

    /// Worker processes that serve the webhook part.
    pub fn webhook_workers(&self) -> usize {
        if self.quick { 1 } else { 2 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn every_flag_is_declared_once() {
        Options::command().debug_assert();
    }
}
