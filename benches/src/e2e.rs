//! Part 2, end to end: one `participant intake` and 1, 2, 4 `participant worker` processes;
//! closed loops of 10- and 1,000-item imports, each submitter waiting for its operation's
//! `completed` event before the next; then 10-item imports paced at half the sustained
//! rate; then workers with a simulated per-item latency, to show throughput scale with
//! worker count; last, one worker and imports of growing size, for the cost per item.

use std::time::Duration;

use tokio::time::Instant;
use uuid::Uuid;

use crate::Figures;
use crate::arrivals::{Arrivals, Completions};
use crate::cpu::Meter;
use crate::load::{self, Caller, Sample, Stats, Window};
use crate::processes::RoleProcess;
use crate::report::{Report, Row, Table, millis, rate};
use crate::stage::{Deployment, Stage};
use crate::submit::Importer;

/// How long a submitter waits for an operation to complete before counting it as failed.
const COMPLETION_TIMEOUT: Duration = Duration::from_secs(30);
/// Tasks (connections) of the paced run.
const PACED_TASKS: usize = 128;
/// Simulated per-item latency of the scaling run.
const SIMULATED: &str = "2ms";

/// Submits an import and waits for its `completed` event: accept → completed latency.
pub struct Completing {
    pub importer: Importer,
    pub completions: Arrivals,
}

impl Caller for Completing {
    async fn call(&mut self, seq: u64, start: Instant) -> Option<Sample> {
        let id = self.importer.submit(seq).await?;
        let completed = self.completions.wait(id);
        let at = tokio::time::timeout(COMPLETION_TIMEOUT, completed)
            .await
            .ok()?
            .ok()?;
        Some(Sample {
            at,
            latency: at.saturating_duration_since(start),
        })
    }
}

/// The shared state of the part's cells.
struct Cells<'a> {
    deployment: &'a Deployment,
    base: String,
    completions: Completions,
    window: Window,
    table: Table,
    cpu: crate::cpu::Tables,
    /// CPU per imported item against the import's size.
    per_item: Table,
}

pub async fn run(
    stage: &mut Stage,
    report: &mut Report,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let deployment = stage.deployment("e2e");
    eprintln!(
        "e2e: starting participant intake under {}",
        deployment.prefix
    );
    let (mut intake, base) = deployment.launcher.intake(&[]).await?;
    let options = stage.options.clone();
    let mut cells = Cells {
        deployment: &deployment,
        base,
        completions: Completions::subscribe(&stage.nats, &deployment.prefix).await?,
        window: Window {
            warmup: options.warmup(),
            measured: options.measured(),
        },
        cpu: crate::cpu::Tables::default(),
        per_item: crate::cpu::per_item_table(),
        table: Table::new(
            "End to end: accept → completed",
            &[
                "case",
                "ops/s",
                "items/s",
                "p50",
                "p99",
                "backlog max / at end",
                "errors",
            ],
        ),
    };
    let concurrency = options.worker_concurrency.to_string();
    let plain = vec!["--concurrency".to_owned(), concurrency.clone()];
    let mut workers: Vec<RoleProcess> = Vec::new();
    let (mut best_rate, mut best_count) = (0.0, 1);
    for &count in &options.worker_counts() {
        let more = count.saturating_sub(workers.len());
        workers.extend(deployment.workers(more, count, &plain).await?);
        for items in [10, 1000] {
            let submitters = options.submitters(count);
            let name = format!("{items} items, {count} worker(s), closed loop of {submitters}");
            let roles = [
                ("intake", std::slice::from_ref(&intake)),
                ("worker", &workers),
            ];
            let stats = cells.closed(&name, items, submitters, &roles).await?;
            intake.check_running()?;
            if items == 10 && stats.rate() > best_rate {
                (best_rate, best_count) = (stats.rate(), count);
            }
        }
    }
    figures.e2e_best = Some(best_rate);
    // Back to the worker count that sustained the most, paced at half its rate.
    while workers.len() > best_count {
        if let Some(worker) = workers.pop() {
            worker.stop().await;
        }
    }
    let half = best_rate / 2.0;
    let name = format!(
        "10 items, {best_count} worker(s), paced at {}/s (half the best)",
        rate(half)
    );
    let roles = [
        ("intake", std::slice::from_ref(&intake)),
        ("worker", &workers),
    ];
    let paced = cells.paced(&name, half, &roles).await?;
    figures.paced_p50 = Some(paced.quantile(0.5));
    stage.note_memory("end to end", "intake", std::slice::from_ref(&intake));
    stage.note_memory("end to end", "worker (largest)", &workers);
    for worker in workers.drain(..) {
        worker.stop().await;
    }

    let mut simulated = plain.clone();
    simulated.extend(["--simulated-item-latency".to_owned(), SIMULATED.to_owned()]);
    for &count in &options.worker_counts() {
        let more = count.saturating_sub(workers.len());
        workers.extend(deployment.workers(more, count, &simulated).await?);
        let submitters = options.submitters(count);
        let name = format!(
            "10 items, {SIMULATED}/item simulated, {count} worker(s), closed loop of {submitters}"
        );
        let roles = [
            ("intake", std::slice::from_ref(&intake)),
            ("worker", &workers),
        ];
        cells.closed(&name, 10, submitters, &roles).await?;
        intake.check_running()?;
    }
    stage.note_memory(
        "end to end, simulated latency",
        "worker (largest)",
        &workers,
    );
    for worker in workers.drain(..) {
        worker.stop().await;
    }

    workers.extend(deployment.workers(1, 1, &plain).await?);
    for items in options.import_sizes() {
        let submitters = options.sized_submitters(items);
        let name = format!("{items} items, 1 worker, closed loop of {submitters}");
        let roles = [
            ("intake", std::slice::from_ref(&intake)),
            ("worker", &workers),
        ];
        cells.sized(&name, items, submitters, &roles).await?;
        intake.check_running()?;
    }
    for worker in workers {
        worker.stop().await;
    }
    intake.stop().await;
    report.tables.push(cells.table);
    report.tables.push(cells.per_item);
    stage.cpu.cores.rows.append(&mut cells.cpu.cores.rows);
    stage
        .cpu
        .per_operation
        .rows
        .append(&mut cells.cpu.per_operation.rows);
    report.notes.push(format!(
        "End to end: `participant worker --concurrency {concurrency}`; accept → completed is from \
         sending the POST to the `completed` event's arrival on a core NATS subscription; \
         closed-loop latencies include queueing behind the other submitters; \"backlog\" is \
         `num_pending + num_ack_pending` of the workers' consumer, sampled every 200 ms."
    ));
    Ok(())
}

impl Cells<'_> {
    /// `count` submitters of one new tenant (each cell has its own, so no tenant's data
    /// grows across the cells).
    fn callers(&self, items: usize, count: usize, label: &str) -> anyhow::Result<Vec<Completing>> {
        let tenant = Uuid::new_v4();
        (0..count)
            .map(|task| {
                let tag = format!("{label}t{task}");
                Ok(Completing {
                    importer: Importer::new(&self.base, tenant, items, tag)?,
                    completions: self.completions.arrivals.clone(),
                })
            })
            .collect()
    }

    async fn closed(
        &mut self,
        name: &str,
        items: usize,
        submitters: usize,
        roles: &[(&'static str, &[RoleProcess])],
    ) -> anyhow::Result<Stats> {
        let label = format!("e{}", self.table.rows.len());
        let callers = self.callers(items, submitters, &label)?;
        let until = Instant::now() + self.window.warmup + self.window.measured;
        let meter = Meter::start(roles);
        let (stats, backlog) = tokio::join!(
            load::closed_loop(callers, self.window),
            sample_backlog(self.deployment, until)
        );
        let usage = meter.finish();
        self.cpu.record(&format!("e2e: {name}"), &usage, stats.all);
        self.finish(name, items, &stats, backlog).await?;
        Ok(stats)
    }

    /// A closed loop of `items`-item imports whose CPU is also counted per item.
    async fn sized(
        &mut self,
        name: &str,
        items: usize,
        submitters: usize,
        roles: &[(&'static str, &[RoleProcess])],
    ) -> anyhow::Result<Stats> {
        let label = format!("e{}", self.table.rows.len());
        let callers = self.callers(items, submitters, &label)?;
        let until = Instant::now() + self.window.warmup + self.window.measured;
        let meter = Meter::start(roles);
        let (stats, backlog) = tokio::join!(
            load::closed_loop(callers, self.window),
            sample_backlog(self.deployment, until)
        );
        let usage = meter.finish();
        self.cpu.record(&format!("e2e: {name}"), &usage, stats.all);
        self.per_item
            .rows
            .push(usage.per_item_row(items, stats.all * items as u64));
        self.finish(name, items, &stats, backlog).await?;
        Ok(stats)
    }

    async fn paced(
        &mut self,
        name: &str,
        per_second: f64,
        roles: &[(&'static str, &[RoleProcess])],
    ) -> anyhow::Result<Stats> {
        let label = format!("e{}", self.table.rows.len());
        let callers = self.callers(10, PACED_TASKS, &label)?;
        let until = Instant::now() + self.window.warmup + self.window.measured;
        let meter = Meter::start(roles);
        let (stats, backlog) = tokio::join!(
            load::paced(callers, per_second, self.window),
            sample_backlog(self.deployment, until)
        );
        let usage = meter.finish();
        self.cpu.record(&format!("e2e: {name}"), &usage, stats.all);
        self.finish(name, 10, &stats, backlog).await?;
        Ok(stats)
    }

    async fn finish(
        &mut self,
        name: &str,
        items: usize,
        stats: &Stats,
        backlog: (u64, u64),
    ) -> anyhow::Result<()> {
        eprintln!(
            "e2e: {name}: {:.0} ops/s, p50 {}",
            stats.rate(),
            millis(stats.quantile(0.5))
        );
        let left = self.deployment.drain(Duration::from_secs(60)).await?;
        anyhow::ensure!(
            left == 0,
            "{left} jobs still queued a minute after {name}; the next cell would start on them"
        );
        self.completions.arrivals.clear();
        self.table.rows.push(Row {
            case: name.to_owned(),
            value: stats.rate(),
            cells: vec![
                rate(stats.rate() * items as f64),
                millis(stats.quantile(0.5)),
                millis(stats.quantile(0.99)),
                format!("{} / {}", backlog.0, backlog.1),
                stats.failed.to_string(),
            ],
        });
        Ok(())
    }
}

/// Samples the backlog every 200 ms until `until`: the largest seen and the last.
async fn sample_backlog(deployment: &Deployment, until: Instant) -> (u64, u64) {
    let (mut most, mut last) = (0, 0);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Ok(backlog) = deployment.backlog().await {
            most = most.max(backlog);
            last = backlog;
        }
    }
    (most, last)
}
