//! Part 1, the intake: a `participant intake` process with no worker (jobs just queue),
//! loaded with 10-item imports at each connection count, with and without a fresh
//! `Idempotency-Key`, beside the publish-only and no-I/O ceilings served by this process.

use uuid::Uuid;

use crate::Figures;
use crate::ceilings;
use crate::cpu::Meter;
use crate::load::{self, Stats, Window};
use crate::report::{Report, Table, millis};
use crate::stage::Stage;
use crate::submit::{Accepting, Importer};

/// Items per import in the intake cells.
const ITEMS: usize = 10;

pub async fn run(
    stage: &mut Stage,
    report: &mut Report,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    let deployment = stage.deployment("intake");
    eprintln!(
        "intake: starting participant intake under {}",
        deployment.prefix
    );
    let (mut intake, base) = deployment.launcher.intake(&[]).await?;
    let publish = ceilings::publish_only(&stage.jetstream, &deployment.prefix).await?;
    let no_io = ceilings::no_io().await?;
    let tenant = Uuid::new_v4();
    let window = Window {
        warmup: stage.options.warmup(),
        measured: stage.options.measured(),
    };
    let cases = [
        ("participant intake", base.as_str(), false),
        ("participant intake + Idempotency-Key", base.as_str(), true),
        (
            "ceiling: publish + PubAck only",
            publish.base_url.as_str(),
            false,
        ),
        ("ceiling: no I/O", no_io.base_url.as_str(), false),
    ];
    let mut table = Table::new(
        "Intake: accepted 10-item bulk imports (no workers running)",
        &[
            "case",
            "accepted/s",
            "connections",
            "p50",
            "p99",
            "p99.9",
            "errors",
        ],
    );
    let connections = stage.options.intake_connections();
    let most = connections.iter().copied().max().unwrap_or(1);
    for &count in &connections {
        for (index, (name, url, idempotency)) in cases.iter().enumerate() {
            let callers = (0..count)
                .map(|task| {
                    let tag = format!("i{count}c{index}t{task}");
                    Importer::new(url, tenant, ITEMS, tag)
                        .map(|i| Accepting(i.with_idempotency(*idempotency)))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let meter = Meter::start(&[("intake", std::slice::from_ref(&intake))]);
            let stats = load::closed_loop(callers, window).await;
            let cell = format!("intake part: {name}, {count} connections");
            stage.cpu.record(&cell, &meter.finish(), stats.all);
            intake.check_running()?;
            eprintln!("intake: {name}, {count} connections: {:.0}/s", stats.rate());
            if count == most {
                match index {
                    0 => figures.intake = Some(stats.rate()),
                    2 => figures.publish_ceiling = Some(stats.rate()),
                    _ => {}
                }
            }
            table.rows.push(row(name, count, &stats));
        }
    }
    stage.note_memory("intake load", "intake", std::slice::from_ref(&intake));
    report.tables.push(table);
    intake.stop().await;
    Ok(())
}

fn row(name: &str, connections: usize, stats: &Stats) -> crate::report::Row {
    crate::report::Row {
        case: name.to_owned(),
        value: stats.rate(),
        cells: vec![
            connections.to_string(),
            millis(stats.quantile(0.5)),
            millis(stats.quantile(0.99)),
            millis(stats.quantile(0.999)),
            stats.failed.to_string(),
        ],
    }
}
