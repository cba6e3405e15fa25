//! Part 5, side by side: the participant (intake, worker processes, its own nats-server
//! and Valkey) and the apalis peer (`apalis-peer serve`, worker processes, its own Redis),
//! alternately, `--side-runs` times, on servers this part starts. Each run gives both the
//! same load: `--side-jobs` imports of `--side-items` uniquely named items over
//! `--side-clients` keep-alive connections, as a burst or paced at `--side-rate`; once
//! the last is answered, each operation's status is read once, when it is done. The CPU of
//! every process of the system is metered from the first `POST` to the last status read.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use hdrhistogram::Histogram;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio::time::Instant;
use uuid::Uuid;

use crate::arrivals::Completions;
use crate::cpu::{Meter, Usage};
use crate::options::{Options, SideBySide};
use crate::peer::{Peer, StoreWatch};
use crate::processes::Launcher;
use crate::report::{Report, Table, millis, rate};
use crate::servers::Server;
use crate::stage::Deployment;
use crate::submit::Importer;

/// Connections that read the statuses.
const READERS: usize = 8;
/// How long, after the last import was answered, operations have to complete.
const COMPLETION_TIMEOUT: Duration = Duration::from_secs(180);
/// The metered groups, in the tables' order: the HTTP process, the workers, the queue's
/// own server (none for the peer: its queue is in Redis), the store, this bench.
const GROUPS: [&str; 5] = ["http", "worker", "queue", "store", "client"];

/// The two systems.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum System {
    Participant,
    Peer,
}

impl System {
    fn name(self) -> &'static str {
        match self {
            Self::Participant => "participant",
            Self::Peer => "apalis peer",
        }
    }

    /// Whether a status document says the operation completed.
    fn completed(self, status: &serde_json::Value) -> bool {
        let field = match self {
            Self::Participant => "status",
            Self::Peer => "state",
        };
        status[field] == "completed"
    }
}

/// How the bench learns when an operation completed: the participant's `completed` event
/// on a core NATS subscription, the peer's progress hash.
enum Watch {
    Events(Completions),
    Store(StoreWatch),
}

impl Watch {
    fn accepted(&self, id: &str) {
        if let Self::Store(store) = self {
            store.expect(id);
        }
    }

    fn completion(&self, id: &str) -> oneshot::Receiver<Instant> {
        match self {
            Self::Events(events) => events
                .arrivals
                .wait(id.parse().unwrap_or_else(|_| Uuid::nil())),
            Self::Store(store) => store.arrivals.wait(id.to_owned()),
        }
    }

    fn clear(&self) {
        match self {
            Self::Events(events) => events.arrivals.clear(),
            Self::Store(store) => store.arrivals.clear(),
        }
    }

    /// Reads of the store the bench made to learn of completions (none for events).
    fn reads(&self) -> u64 {
        match self {
            Self::Events(_) => 0,
            Self::Store(store) => store.reads(),
        }
    }
}

/// What one system did in one run.
struct Outcome {
    system: System,
    accepted: u64,
    /// Imports not answered `202`, operations not completed in time, status documents
    /// that did not say completed.
    errors: u64,
    /// Accepted per second from the first `POST` to the last answer.
    intake: f64,
    /// Completed per second from the first `POST` to the last completion.
    end_to_end: f64,
    completed: u64,
    /// Accept → completed, µs: from sending the `POST` (paced: from its due time).
    latency: Histogram<u64>,
    usage: Usage,
    /// Store reads per operation to learn of completions (the peer's).
    reads: f64,
}

impl Outcome {
    fn micros_per(&self, group: &str) -> f64 {
        self.usage.micros_per(group, self.completed)
    }

    fn all_micros(&self) -> f64 {
        GROUPS.iter().map(|g| self.micros_per(g)).sum()
    }

    fn quantile(&self, q: f64) -> Duration {
        Duration::from_micros(self.latency.value_at_quantile(q))
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
    report.tables.push(medians(side, &outcomes));
    report.tables.push(run_by_run(&outcomes));
    report.notes.push(conditions(side));
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
        report_progress(round, &outcome);
        outcomes.push(outcome);
        let outcome = peer(side, &servers, log_dir, round).await?;
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

/// One accepted import: its index, the system's id for it, when it was sent (or due).
type Accepted = (u64, String, Instant);

/// Submits every import, then reads each status once it is done; meters `pids` (and this
/// process, as the client) over all of it.
async fn drive(
    side: &SideBySide,
    system: System,
    base: &str,
    watch: &Watch,
    mut pids: Vec<(&'static str, u32)>,
    tag: &str,
) -> anyhow::Result<Outcome> {
    let tenant = Uuid::new_v4();
    let importers = (0..side.clients.max(1))
        .map(|_| Importer::new(base, tenant, side.items, tag.to_owned()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let readers = (0..READERS)
        .map(|_| Importer::new(base, tenant, side.items, tag.to_owned()))
        .collect::<anyhow::Result<Vec<_>>>()?;
    pids.push(("client", std::process::id()));
    let reads_before = watch.reads();
    let meter = Meter::of(pids);
    let start = Instant::now();
    let (mut accepted, refused) = submit_all(side, importers, watch, start).await;
    let answered = start.elapsed();
    accepted.sort_unstable_by_key(|(index, _, _)| *index);
    let done = read_all(
        system,
        readers,
        watch,
        &accepted,
        Instant::now() + COMPLETION_TIMEOUT,
    )
    .await;
    let usage = meter.finish();
    let mut latency = crate::load::histogram();
    let (mut completed, mut last, mut errors) = (0, start, refused);
    for ((_, _, sent), outcome) in accepted.iter().zip(&done) {
        match outcome {
            Some((at, true)) => {
                let micros = u64::try_from(at.saturating_duration_since(*sent).as_micros());
                latency.saturating_record(micros.unwrap_or(u64::MAX).max(1));
                completed += 1;
                last = last.max(*at);
            }
            Some((_, false)) | None => errors += 1,
        }
    }
    let count = accepted.len() as u64;
    Ok(Outcome {
        system,
        accepted: count,
        errors,
        intake: count as f64 / answered.as_secs_f64().max(f64::EPSILON),
        end_to_end: completed as f64 / (last - start).as_secs_f64().max(f64::EPSILON),
        completed,
        latency,
        usage,
        reads: (watch.reads() - reads_before) as f64 / completed.max(1) as f64,
    })
}

/// Every import, over one connection per importer: back to back, or import `i` due at
/// `start + i / rate`. Returns the accepted ones and how many were not.
async fn submit_all(
    side: &SideBySide,
    importers: Vec<Importer>,
    watch: &Watch,
    start: Instant,
) -> (Vec<Accepted>, u64) {
    let next = Arc::new(AtomicU64::new(0));
    let (jobs, rate) = (side.jobs, side.rate);
    let mut tasks = JoinSet::new();
    let (sender, mut accepted_ids) = tokio::sync::mpsc::unbounded_channel::<String>();
    for importer in importers {
        let (next, sender) = (next.clone(), sender.clone());
        tasks.spawn(async move {
            let (mut accepted, mut refused) = (Vec::new(), 0);
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= jobs {
                    return (accepted, refused);
                }
                let sent = if rate > 0.0 {
                    let due = start + Duration::from_secs_f64(index as f64 / rate);
                    tokio::time::sleep_until(due).await;
                    due
                } else {
                    Instant::now()
                };
                match importer.submit_for_id(index).await {
                    Some(id) => {
                        let _ = sender.send(id.clone());
                        accepted.push((index, id, sent));
                    }
                    None => refused += 1,
                }
            }
        });
    }
    drop(sender);
    // The watch learns of each accepted import as it is answered, here, in one place.
    let forward = async {
        while let Some(id) = accepted_ids.recv().await {
            watch.accepted(&id);
        }
    };
    let collect = async {
        let (mut all, mut refused) = (Vec::new(), 0);
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((accepted, failed)) => {
                    all.extend(accepted);
                    refused += failed;
                }
                Err(error) => eprintln!("a submitting task ended abnormally: {error}"),
            }
        }
        (all, refused)
    };
    let ((), outcome) = tokio::join!(forward, collect);
    outcome
}

/// Reads each accepted operation's status once, when it has completed, in the order of
/// submission over `READERS` connections: `(completed at, status says completed)`, or
/// `None` if it did not complete by `deadline`.
async fn read_all(
    system: System,
    readers: Vec<Importer>,
    watch: &Watch,
    accepted: &[Accepted],
    deadline: Instant,
) -> Vec<Option<(Instant, bool)>> {
    let next = AtomicU64::new(0);
    let read = |reader: Importer| {
        let next = &next;
        async move {
            let mut out = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed) as usize;
                let Some((_, id, _)) = accepted.get(index) else {
                    return out;
                };
                let completion = tokio::time::timeout_at(deadline, watch.completion(id)).await;
                let Ok(Ok(at)) = completion else {
                    out.push((index, None));
                    continue;
                };
                let says = reader
                    .status(id)
                    .await
                    .is_some_and(|status| system.completed(&status));
                out.push((index, Some((at, says))));
            }
        }
    };
    let outcomes = futures::future::join_all(readers.into_iter().map(read)).await;
    let mut done = vec![None; accepted.len()];
    for (index, outcome) in outcomes.into_iter().flatten() {
        done[index] = outcome;
    }
    done
}

/// How one figure is read from an outcome.
type Figure = fn(&Outcome) -> f64;

/// The median of each figure over the runs, the participant beside the peer.
fn medians(side: &SideBySide, outcomes: &[Outcome]) -> Table {
    let runs = outcomes.len() / 2;
    let mut table = Table::new(
        &format!("Side by side: the participant and the apalis peer, medians of {runs} run(s)"),
        &["figure", "participant", "apalis peer", "participant / peer"],
    )
    .with_headline(figure);
    let intake = if side.rate > 0.0 {
        format!("intake, accepted/s (paced at {}/s)", rate(side.rate))
    } else {
        "intake during the burst, accepted/s".to_owned()
    };
    let rows: [(String, Figure); 11] = [
        ("end to end, operations/s".to_owned(), |o| o.end_to_end),
        (intake, |o| o.intake),
        ("accept → completed p50, ms".to_owned(), |o| {
            ms(o.quantile(0.5))
        }),
        ("accept → completed p99, ms".to_owned(), |o| {
            ms(o.quantile(0.99))
        }),
        (
            "CPU per operation, all processes, µs".to_owned(),
            Outcome::all_micros,
        ),
        ("CPU per operation: intake / serve, µs".to_owned(), |o| {
            o.micros_per("http")
        }),
        (
            "CPU per operation: worker process(es), µs".to_owned(),
            |o| o.micros_per("worker"),
        ),
        (
            "CPU per operation: nats-server / (none), µs".to_owned(),
            |o| o.micros_per("queue"),
        ),
        ("CPU per operation: Valkey / Redis, µs".to_owned(), |o| {
            o.micros_per("store")
        }),
        (
            "CPU per operation: client (this bench), µs".to_owned(),
            |o| o.micros_per("client"),
        ),
        (
            "store reads by the client to learn of completions, per operation".to_owned(),
            |o| o.reads,
        ),
    ];
    for (name, value) in rows {
        let of = |system| {
            median(
                outcomes
                    .iter()
                    .filter(|o| o.system == system)
                    .map(value)
                    .collect(),
            )
        };
        let (ours, theirs) = (of(System::Participant), of(System::Peer));
        let ratio = if theirs > 0.0 && ours > 0.0 {
            format!("{:.2}", ours / theirs)
        } else {
            "–".to_owned()
        };
        let theirs = if theirs > 0.0 {
            figure(theirs)
        } else {
            "–".to_owned()
        };
        table.push(name, ours, vec![theirs, ratio]);
    }
    table
}

/// Each system's figures in each run.
fn run_by_run(outcomes: &[Outcome]) -> Table {
    let mut table = Table::new(
        "Side by side, run by run (CPU in µs per completed operation)",
        &[
            "run, system",
            "ops/s",
            "accepted/s",
            "p50",
            "p99",
            "completed",
            "errors",
            "intake / serve",
            "worker(s)",
            "nats-server",
            "Valkey / Redis",
            "client",
            "all",
            "machine busy / other, cores",
        ],
    );
    for (index, outcome) in outcomes.iter().enumerate() {
        let mut cells = vec![
            rate(outcome.intake),
            millis(outcome.quantile(0.5)),
            millis(outcome.quantile(0.99)),
            format!("{} of {}", outcome.completed, outcome.accepted),
            outcome.errors.to_string(),
        ];
        cells.extend(
            GROUPS
                .iter()
                .map(|g| format!("{:.0}", outcome.micros_per(g))),
        );
        cells.push(format!("{:.0}", outcome.all_micros()));
        let usage = &outcome.usage;
        let accounted: f64 = usage.seconds.values().sum();
        cells.push(format!(
            "{:.2} / {:.2}",
            usage.busy / usage.elapsed,
            (usage.busy - accounted).max(0.0) / usage.elapsed
        ));
        let case = format!("{}, {}", index / 2 + 1, outcome.system.name());
        table.push(case, outcome.end_to_end, cells);
    }
    table
}

fn conditions(side: &SideBySide) -> String {
    let load = if side.rate > 0.0 {
        format!("paced at {}/s", rate(side.rate))
    } else {
        "as a burst (closed loop)".to_owned()
    };
    format!(
        "Side by side: {} imports of {} items per system and run, {load}, over {} keep-alive \
         connections; {} worker process(es) of {} slots each (`participant worker \
         --concurrency`, `apalis-peer worker --concurrency`); servers started by the part: \
         `{}` for the participant, `{}` twice (the participant's Valkey, the peer's Redis). \
         Accept → completed runs from sending the POST to the `completed` event's arrival at \
         the bench (participant) or the `completed_at` the peer's worker wrote (peer); each \
         status is read once, after the last import was answered; CPU is metered from the \
         first POST to the last status read and divided by the completed operations.",
        side.jobs,
        side.items,
        side.clients,
        side.workers,
        side.concurrency,
        side.nats_server_bin.display(),
        side.redis_server_bin.display(),
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn ms(latency: Duration) -> f64 {
    latency.as_secs_f64() * 1000.0
}

/// Three significant figures or so: `3424`, `46.2`, `0.21`.
fn figure(value: f64) -> String {
    if value >= 100.0 {
        format!("{value:.0}")
    } else if value >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}
