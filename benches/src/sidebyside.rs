//! Part 5, side by side: the participant (intake, worker processes, its own nats-server
//! and Valkey) and the apalis peer (`apalis-peer serve`, worker processes, its own Redis),
//! alternately, `--side-runs` times, on servers this part starts. Each run gives both the
//! same load: `--side-jobs` imports of `--side-items` uniquely named items over
//! `--side-clients` keep-alive connections, as a burst or paced at `--side-rate`; once
//! the last is answered, each operation's status is read once, when it is done. The CPU of
//! every process of the system is metered from the first `POST` to the last status read.
//!
//! - [`drive`]: one system's run: the imports, the status reads, the meter, the outcome.
//! - [`tables`]: the medians side by side, and every run's figures.

mod drive;
mod tables;

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use uuid::Uuid;

use crate::arrivals::Completions;
use crate::options::{Options, SideBySide};
use crate::peer::{Peer, StoreWatch};
use crate::processes::Launcher;
use crate::report::{Report, millis};
use crate::servers::Server;
use crate::stage::Deployment;
use crate::submit::Importer;

use self::drive::{Outcome, Watch, drive};

/// The two systems.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum System {
    Participant,
    Peer,
}

impl System {
    pub fn name(self) -> &'static str {
        match self {
            Self::Participant => "participant",
            Self::Peer => "apalis peer",
        }
    }

    /// Whether a status document says the operation completed.
    pub fn completed(self, status: &serde_json::Value) -> bool {
        let field = match self {
            Self::Participant => "status",
            Self::Peer => "state",
        };
        status[field] == "completed"
    }
}

/// The run's servers: NATS and Valkey for the participant, Redis for the peer.
struct Servers {
    nats: Server,
    valkey: Server,
    redis: Server,
}

pub async fn run(options: &Options) -> anyhow::Result<Report> {
    let side = &options.side;
    let run = format!("bench_{}", &Uuid::new_v4().simple().to_string()[..12]);
    let log_dir = std::env::temp_dir().join(format!("participant-{run}"));
    std::fs::create_dir_all(&log_dir).context("creating the log directory")?;
    let outcome = runs(options, &run, &log_dir).await;
    let _ = std::fs::remove_dir_all(&log_dir);
    let outcomes = outcome?;
    let mut report = Report::default();
    report.tables.push(tables::medians(side, &outcomes));
    report.tables.push(tables::run_by_run(&outcomes));
    report.notes.push(tables::conditions(side));
    Ok(report)
}

async fn runs(options: &Options, run: &str, log_dir: &Path) -> anyhow::Result<Vec<Outcome>> {
    let side = &options.side;
    eprintln!(
        "sidebyside: starting nats-server and two {}",
        side.redis_server_bin.display()
    );
    let servers = Servers {
        nats: Server::nats(&side.nats_server_bin, log_dir, log_dir).await?,
        valkey: Server::redis(&side.redis_server_bin, "valkey (participant)", log_dir).await?,
        redis: Server::redis(&side.redis_server_bin, "redis (peer)", log_dir).await?,
    };
    let nats = async_nats::ConnectOptions::new()
        .subscription_capacity(1 << 18)
        .connect(servers.nats.url.as_str())
        .await
        .context("connecting to the part's NATS")?;
    let mut outcomes = Vec::new();
    for round in 1..=side.runs {
        let launcher = Launcher {
            bin: options.participant_bin.clone(),
            nats_url: servers.nats.url.clone(),
            valkey_url: servers.valkey.url.clone(),
            prefix: format!("{run}_side{round}"),
            log_dir: log_dir.to_path_buf(),
            rust_log: options.role_log.clone(),
            env: Vec::new(),
        };
        let outcome = participant(side, &servers, &nats, launcher, round).await?;
        servers.valkey.flush().await?;
        report_progress(round, &outcome);
        outcomes.push(outcome);
        let outcome = peer(side, &servers, log_dir, round).await?;
        servers.redis.flush().await?;
        report_progress(round, &outcome);
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

fn report_progress(round: usize, outcome: &Outcome) {
    eprintln!(
        "sidebyside: run {round}, {}: {:.0} ops/s end to end, {:.0} accepted/s, p50 {}, {:.0} µs of CPU per operation",
        outcome.system.name(),
        outcome.end_to_end,
        outcome.intake,
        millis(outcome.quantile(0.5)),
        outcome.all_micros()
    );
}

async fn participant(
    side: &SideBySide,
    servers: &Servers,
    nats: &async_nats::Client,
    launcher: Launcher,
    round: usize,
) -> anyhow::Result<Outcome> {
    let deployment = Deployment::new(
        launcher.prefix.clone(),
        launcher,
        async_nats::jetstream::new(nats.clone()),
    );
    let (mut intake, base) = deployment.launcher.intake(&[]).await?;
    let slots = ["--concurrency".to_owned(), side.concurrency.to_string()];
    let workers = deployment
        .workers(side.workers, side.workers, &slots)
        .await?;
    let watch = Watch::Events(Completions::subscribe(nats, &deployment.prefix).await?);
    warm_up(&base, &watch).await?;
    let mut pids = vec![("http", intake.pid().context("the intake has exited")?)];
    pids.extend(workers.iter().filter_map(|w| Some(("worker", w.pid()?))));
    pids.push(("queue", servers.nats.pid()?));
    pids.push(("store", servers.valkey.pid()?));
    let tag = format!("p{round}");
    let outcome = drive(side, System::Participant, &base, &watch, pids, &tag).await?;
    intake.check_running()?;
    for worker in workers {
        worker.stop().await;
    }
    intake.stop().await;
    Ok(outcome)
}

async fn peer(
    side: &SideBySide,
    servers: &Servers,
    log_dir: &Path,
    round: usize,
) -> anyhow::Result<Outcome> {
    let url = &servers.redis.url;
    let mut peer =
        Peer::start(&side.peer_bin, url, side.workers, side.concurrency, log_dir).await?;
    let watch = Watch::Store(StoreWatch::start(url).await?);
    warm_up(&peer.base, &watch).await?;
    let mut pids = vec![("http", peer.serve.pid().context("serve has exited")?)];
    pids.extend(
        peer.workers
            .iter()
            .filter_map(|w| Some(("worker", w.pid()?))),
    );
    pids.push(("store", servers.redis.pid()?));
    let tag = format!("a{round}");
    let outcome = drive(side, System::Peer, &peer.base, &watch, pids, &tag).await;
    peer.check_running()?;
    peer.stop().await;
    outcome
}

/// One import through the whole system before it is measured: the roles are up, their
/// connections open, the workers polling.
async fn warm_up(base: &str, watch: &Watch) -> anyhow::Result<()> {
    let importer = Importer::new(base, Uuid::new_v4(), 10, "warm".to_owned())?;
    let id = importer
        .submit_for_id(0)
        .await
        .context("the warm-up import was not accepted")?;
    watch.accepted(&id);
    tokio::time::timeout(Duration::from_secs(30), watch.completion(&id))
        .await
        .context("the warm-up import did not complete within 30 s")?
        .context("the watch ended")?;
    watch.clear();
    Ok(())
}
