//! The command line of `participant-bench`, and the plan it implies: which parts run, for
//! how long, at which concurrencies and worker counts (`--quick` shrinks all of it).

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};
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
    /// Run one part alone.
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
    /// `RUST_LOG` of the role processes (their logs go to files that are removed at the end).
    #[arg(long, default_value = "info")]
    pub role_log: String,
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
}

impl Options {
    /// Whether `part` is to run.
    pub fn runs(&self, part: Part) -> bool {
        self.only.is_none_or(|only| only == part)
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
