//! Part 3, webhooks: intake, workers and a `participant dispatcher` with a secret from
//! `participant secret`, plain `http` to 127.0.0.1 allowed; imports carry `X-Callback-Url`
//! of the bench's receiver. Measured: the rate at which a dispatcher drains a backlog of
//! completed operations; the live pipeline's deliveries per second and completion →
//! delivery latency (completion = the `completed` event's arrival on a core NATS
//! subscription); beside them the bare signed-POST rate to the same receiver at the
//! dispatcher's concurrency.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use shared::signing::SigningSecret;
use tokio::time::Instant;
use uuid::Uuid;

use crate::Figures;
use crate::arrivals::{Arrivals, Completions, Tally};
use crate::cpu::Meter;
use crate::e2e::Completing;
use crate::load::{self, Caller, Sample, Stats, Window};
use crate::receiver::{Receiver, SignedPoster};
use crate::report::{Report, Row, Table, millis};
use crate::stage::Stage;
use crate::submit::Importer;

/// The dispatcher's default `Callbacks__Concurrency`, and the bare POST's concurrency.
const DISPATCHER_CONCURRENCY: usize = 64;
/// Closed-loop submitters of callback imports.
const SUBMITTERS: usize = 64;
const TIMEOUT: Duration = Duration::from_secs(30);

/// Submits a 10-item import with a callback and waits for its delivery.
struct Delivered {
    importer: Importer,
    completions: Arrivals,
    deliveries: Arrivals,
}

impl Caller for Delivered {
    async fn call(&mut self, seq: u64, _start: Instant) -> Option<Sample> {
        let id = self.importer.submit(seq).await?;
        let (completed, delivered) = (self.completions.wait(id), self.deliveries.wait(id));
        let delivered = tokio::time::timeout(TIMEOUT, delivered).await.ok()?.ok()?;
        let completed = tokio::time::timeout(TIMEOUT, completed).await.ok()?.ok()?;
        Some(Sample {
            at: delivered,
            latency: delivered.saturating_duration_since(completed),
        })
    }
}

pub async fn run(
    stage: &mut Stage,
    report: &mut Report,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let secret = new_secret(stage).await?;
    let mut deployment = stage.deployment("hooks");
    deployment
        .launcher
        .env
        .push(("Callbacks__SigningSecrets".to_owned(), secret.expose()));
    eprintln!(
        "webhooks: starting intake and workers under {}",
        deployment.prefix
    );
    let callbacks = vec![
        "--callback-allow-http".to_owned(),
        "--callback-allow-network".to_owned(),
        "127.0.0.1/32".to_owned(),
    ];
    let (mut intake, base) = deployment.launcher.intake(&callbacks).await?;
    let mut worker_args = callbacks.clone();
    worker_args.extend([
        "--concurrency".to_owned(),
        stage.options.worker_concurrency.to_string(),
    ]);
    let count = stage.options.webhook_workers();
    let workers = deployment.workers(count, count, &worker_args).await?;
    let receiver = Receiver::start().await?;
    let completions = Completions::subscribe(&stage.nats, &deployment.prefix).await?;
    let window = Window {
        warmup: stage.options.warmup(),
        measured: stage.options.measured(),
    };
    let tenant = Uuid::new_v4();
    let mut table = Table::new("Webhooks", &["case", "per second", "p50", "p99", "errors"]);

    // A backlog of completed operations with callbacks, then a dispatcher drains it.
    let callers = (0..SUBMITTERS)
        .map(|task| {
            let importer = Importer::new(&base, tenant, 10, format!("wb{task}"))?;
            Ok(Completing {
                importer: importer.with_callback(receiver.hook_url()),
                completions: completions.arrivals.clone(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    load::closed_loop(callers, window).await;
    let backlog = completions.arrivals.tally().count;
    eprintln!("webhooks: {backlog} completed operations wait; starting the dispatcher");
    let mut dispatcher = deployment.launcher.spawn("dispatcher", &callbacks)?;
    let meter = Meter::start(&[("dispatcher", std::slice::from_ref(&dispatcher))]);
    let drained = until_delivered(&receiver.deliveries(), backlog).await;
    stage.cpu.record(
        "webhooks: a dispatcher draining a backlog (from its start)",
        &meter.finish(),
        drained.count,
    );
    dispatcher.check_running()?;
    eprintln!("webhooks: backlog drained at {:.0}/s", drained.rate());
    table.push(
        format!("deliveries: 1 dispatcher draining a backlog of {backlog} completed operations"),
        drained.rate(),
        vec![
            "–".into(),
            "–".into(),
            backlog.saturating_sub(drained.count).to_string(),
        ],
    );
    receiver.deliveries().clear();
    completions.arrivals.clear();

    // The live pipeline: submit, complete, deliver, submit again.
    let callers = (0..SUBMITTERS)
        .map(|task| {
            let importer = Importer::new(&base, tenant, 10, format!("wl{task}"))?;
            Ok(Delivered {
                importer: importer.with_callback(receiver.hook_url()),
                completions: completions.arrivals.clone(),
                deliveries: receiver.deliveries(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let meter = Meter::start(&[
        ("intake", std::slice::from_ref(&intake)),
        ("worker", &workers),
        ("dispatcher", std::slice::from_ref(&dispatcher)),
    ]);
    let delivered = load::closed_loop(callers, window).await;
    stage
        .cpu
        .record("webhooks: live deliveries", &meter.finish(), delivered.all);
    intake.check_running()?;
    dispatcher.check_running()?;
    eprintln!("webhooks: live {:.0} deliveries/s", delivered.rate());
    stage.note_memory("webhooks", "dispatcher", std::slice::from_ref(&dispatcher));
    table.rows.push(row(
        &format!(
            "deliveries: live, {SUBMITTERS} submitters, {count} worker(s), 1 dispatcher; latency completion → delivery"
        ),
        &delivered,
    ));

    let meter = Meter::start(&[]);
    let bare = bare_posts(&receiver, secret, window).await?;
    stage
        .cpu
        .record("webhooks: bare signed POST", &meter.finish(), bare.all);
    eprintln!("webhooks: bare signed POST {:.0}/s", bare.rate());
    table.rows.push(row(
        &format!("bare signed POST, {DISPATCHER_CONCURRENCY} concurrent; latency of the POST"),
        &bare,
    ));
    figures.webhooks_drain = Some(drained.rate());
    figures.webhooks_live = Some(delivered.rate());
    figures.bare_post = Some(bare.rate());
    report.tables.push(table);
    report.notes.push(
        "Webhooks: completion time is the `completed` event's arrival on a core NATS \
         subscription in the bench process; delivery time is the webhook's arrival at the \
         bench's receiver (same clock). The backlog rate is from the first to the last \
         delivery. The bare POST signs each request anew (HMAC-SHA256, `shared::signing`) \
         over the body of a real delivery, over one pooled client."
            .to_owned(),
    );
    dispatcher.stop().await;
    for worker in workers {
        worker.stop().await;
    }
    intake.stop().await;
    Ok(())
}

/// Waits (at most two minutes) until `expected` deliveries arrived, or none for 10 s.
async fn until_delivered(deliveries: &Arrivals, expected: u64) -> Tally {
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut seen, mut since) = (0, Instant::now());
    loop {
        let tally = deliveries.tally();
        if tally.count >= expected || Instant::now() > deadline {
            return tally;
        }
        if tally.count > seen {
            (seen, since) = (tally.count, Instant::now());
        } else if since.elapsed() > Duration::from_secs(10) {
            return tally;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The template body POSTed as fast as `DISPATCHER_CONCURRENCY` tasks can, each signed.
async fn bare_posts(
    receiver: &Receiver,
    secret: SigningSecret,
    window: Window,
) -> anyhow::Result<Stats> {
    // One pooled client shared by every task, as the dispatcher has.
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .context("building the HTTP client")?;
    let secrets: Arc<[SigningSecret]> = Arc::from(vec![secret]);
    let posters = (0..DISPATCHER_CONCURRENCY)
        .map(|_| SignedPoster {
            client: client.clone(),
            url: receiver.bare_url(),
            body: receiver.template(),
            secrets: secrets.clone(),
        })
        .collect();
    Ok(load::closed_loop(posters, window).await)
}

/// A secret from `participant secret`, as an operator would make one.
async fn new_secret(stage: &Stage) -> anyhow::Result<SigningSecret> {
    let output = tokio::process::Command::new(&stage.options.participant_bin)
        .arg("secret")
        .output()
        .await
        .context("running participant secret")?;
    anyhow::ensure!(output.status.success(), "participant secret failed");
    let text = String::from_utf8_lossy(&output.stdout);
    SigningSecret::parse(text.trim()).map_err(|e| anyhow::anyhow!("participant secret: {e}"))
}

fn row(case: &str, stats: &Stats) -> Row {
    Row {
        case: case.to_owned(),
        value: stats.rate(),
        cells: vec![
            millis(stats.quantile(0.5)),
            millis(stats.quantile(0.99)),
            stats.failed.to_string(),
        ],
    }
}
