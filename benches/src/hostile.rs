//! Part 4, hostile clients: a `participant intake` with no worker, under the normal burst
//! of the intake part (10-item imports over its most connections, closed loop), first
//! alone, then while a [`Crowd`] of idle keep-alive and slowloris connections is held
//! open against it with the intake's default deadlines, then alone again (so drift between
//! cells shows); the normal clients' throughput and latency side by side, with what the
//! intake held open and cut off.

use std::net::SocketAddr;

use anyhow::Context as _;
use uuid::Uuid;

use crate::cpu::Meter;
use crate::crowd::{self, Crowd};
use crate::load::{self, Stats, Window};
use crate::report::{Report, Table, millis};
use crate::stage::Stage;
use crate::submit::{Accepting, Importer};

/// Items per import, as in the intake part.
const ITEMS: usize = 10;
/// Open files beyond the crowd's: the normal clients, the intake's own, the bench's.
const SPARE_FILES: u64 = 4096;

pub async fn run(stage: &mut Stage, report: &mut Report) -> anyhow::Result<()> {
    let (idle, slowloris) = stage.options.hostile_crowd();
    crowd::raise_open_files(2 * (idle + slowloris) as u64 + SPARE_FILES)?;
    let deployment = stage.deployment("hostile");
    eprintln!(
        "hostile: starting participant intake under {}",
        deployment.prefix
    );
    let (mut intake, base) = deployment.launcher.intake(&[]).await?;
    let address: SocketAddr = base
        .trim_start_matches("http://")
        .parse()
        .context("the intake's address")?;
    let connections = stage
        .options
        .intake_connections()
        .into_iter()
        .max()
        .unwrap_or(1);
    let window = Window {
        warmup: stage.options.warmup(),
        measured: stage.options.measured(),
    };
    let tenant = Uuid::new_v4();
    let mut table = Table::new(
        "Hostile clients: the normal burst beside idle and slowloris connections",
        &[
            "case",
            "accepted/s",
            "connections",
            "p50",
            "p99",
            "p99.9",
            "errors",
            "hostile held (fewest)",
            "intake's open connections",
            "cut off: header read / idle",
        ],
    );

    let before = EdgeFigures::scrape(&base).await?;
    let meter = Meter::start(&[("intake", std::slice::from_ref(&intake))]);
    let alone = burst(&base, tenant, connections, "alone", window).await?;
    stage.cpu.record(
        "hostile part: the normal burst alone",
        &meter.finish(),
        alone.all,
    );
    intake.check_running()?;
    let after_alone = EdgeFigures::scrape(&base).await?;
    let case = "normal burst alone".to_owned();
    table
        .rows
        .push(row(case, connections, &alone, None, &before, &after_alone));
    eprintln!("hostile: alone: {:.0}/s", alone.rate());

    eprintln!("hostile: opening {idle} idle and {slowloris} slowloris connections");
    let crowd = Crowd::gather(address, idle, slowloris, std::time::Duration::from_secs(60)).await?;
    let meter = Meter::start(&[("intake", std::slice::from_ref(&intake))]);
    let (beside, fewest) = tokio::join!(
        burst(&base, tenant, connections, "beside", window),
        crowd.fewest_held(window.warmup + window.measured),
    );
    let beside = beside?;
    let cell = format!("hostile part: the normal burst beside {idle} idle + {slowloris} slowloris");
    stage.cpu.record(&cell, &meter.finish(), beside.all);
    let after_crowd = EdgeFigures::scrape(&base).await?;
    let crowd_cut = crowd.cut_off();
    stage.note_memory("hostile clients", "intake", std::slice::from_ref(&intake));
    crowd.disperse().await;
    intake.check_running()?;
    eprintln!("hostile: beside the crowd: {:.0}/s", beside.rate());
    let case = format!("beside {idle} idle + {slowloris} slowloris connections");
    table.rows.push(row(
        case,
        connections,
        &beside,
        Some(fewest),
        &after_alone,
        &after_crowd,
    ));

    let meter = Meter::start(&[("intake", std::slice::from_ref(&intake))]);
    let again = burst(&base, tenant, connections, "again", window).await?;
    stage.cpu.record(
        "hostile part: the normal burst alone again",
        &meter.finish(),
        again.all,
    );
    intake.check_running()?;
    let after_again = EdgeFigures::scrape(&base).await?;
    let case = "normal burst alone again, the crowd gone".to_owned();
    table.rows.push(row(
        case,
        connections,
        &again,
        None,
        &after_crowd,
        &after_again,
    ));

    report.tables.push(table);
    report.notes.push(format!(
        "Hostile clients: beside the crowd the normal burst kept {:.0} % of the mean \
         throughput of its two runs alone (p99 {} and {} alone, {} beside); the intake cut \
         the crowd's connections off {crowd_cut} times in that cell (slowloris at \
         `Http__HeaderReadTimeout`, 10 s; each reconnected at once); idle keep-alives \
         outlast the cell (`Http__IdleTimeout`, 75 s).",
        200.0 * beside.rate() / (alone.rate() + again.rate()).max(f64::EPSILON),
        millis(alone.quantile(0.99)),
        millis(again.quantile(0.99)),
        millis(beside.quantile(0.99)),
    ));
    intake.stop().await;
    Ok(())
}

/// The normal burst: `connections` closed-loop importers.
async fn burst(
    base: &str,
    tenant: Uuid,
    connections: usize,
    tag: &str,
    window: Window,
) -> anyhow::Result<Stats> {
    let callers = (0..connections)
        .map(|task| Importer::new(base, tenant, ITEMS, format!("h{tag}{task}")).map(Accepting))
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(load::closed_loop(callers, window).await)
}

fn row(
    case: String,
    connections: usize,
    stats: &Stats,
    fewest: Option<usize>,
    before: &EdgeFigures,
    after: &EdgeFigures,
) -> crate::report::Row {
    crate::report::Row {
        case,
        value: stats.rate(),
        cells: vec![
            connections.to_string(),
            millis(stats.quantile(0.5)),
            millis(stats.quantile(0.99)),
            millis(stats.quantile(0.999)),
            stats.failed.to_string(),
            fewest.map_or_else(|| "–".to_owned(), |n| n.to_string()),
            format!("{:.0}", after.open),
            format!(
                "{:.0} / {:.0}",
                after.header_read - before.header_read,
                after.idle - before.idle
            ),
        ],
    }
}

/// What the intake's `/metrics` says of its edge.
struct EdgeFigures {
    open: f64,
    header_read: f64,
    idle: f64,
}

impl EdgeFigures {
    async fn scrape(base: &str) -> anyhow::Result<Self> {
        let text = crate::submit::client()?
            .get(format!("{base}/metrics"))
            .send()
            .await
            .context("scraping the intake's metrics")?
            .text()
            .await?;
        let value = |name: &str| {
            text.lines()
                .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        Ok(Self {
            open: value("participant_http_connections "),
            header_read: value("participant_http_cutoffs_total{reason=\"header_read\"} "),
            idle: value("participant_http_cutoffs_total{reason=\"idle\"} "),
        })
    }
}
