//! `apalis-peer serve ADDR` or `apalis-peer worker --concurrency N`: parses the command
//! line, connects to Redis, runs the role until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use anyhow::Context as _;
use apalis_peer::store::{BulkImport, Settings};
use apalis_redis::RedisStorage;
use clap::{Parser, Subcommand};

/// The apalis peer of the participant's benchmark.
#[derive(Parser, Debug)]
#[command(name = "apalis-peer", version)]
struct Cli {
    /// Redis (or Valkey) the queue and the progress live in.
    #[arg(
        long,
        global = true,
        env = "REDIS_URL",
        default_value = "redis://127.0.0.1:6379"
    )]
    redis_url: String,
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    role: Role,
}

#[derive(Subcommand, Debug)]
enum Role {
    /// The intake and the status endpoint, on ADDR.
    Serve { addr: String },
    /// One worker process.
    Worker {
        /// Tasks run at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// The worker's name in apalis-redis: each running worker needs its own.
        #[arg(long, default_value = "bulk-import-worker")]
        name: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let redis = apalis_redis::connect(cli.redis_url.as_str())
        .await
        .with_context(|| format!("connecting to Redis at {}", cli.redis_url))?;
    match cli.role {
        Role::Serve { addr } => {
            let listener = tokio::net::TcpListener::bind(&addr)
                .await
                .with_context(|| format!("listening on {addr}"))?;
            let storage =
                RedisStorage::<BulkImport>::new(redis.clone()).with_config(cli.settings.config());
            eprintln!("serve: listening on {addr}");
            apalis_peer::intake::run(listener, storage, redis, terminated()).await
        }
        Role::Worker { concurrency, name } => {
            apalis_peer::worker::run(redis, cli.settings, &name, concurrency, terminated()).await
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
async fn terminated() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(error) => {
            eprintln!("no SIGTERM handler ({error}); stopping on Ctrl-C only");
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}
