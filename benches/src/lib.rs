//! The participant's benchmark: a load generator and the ceilings measured beside it, in
//! one run, against given NATS and Valkey servers, with the roles started as real
//! processes of the release binary. [`run`] returns a [`Report`] of markdown tables.
//!
//! - [`options`]: the command line and the plan (`--quick`, `--only`).
//! - [`stage`]: the run's random prefixes, NATS connection, backlog, and the clean-up.
//! - [`processes`]: role processes, readiness, peak RSS (`VmHWM`); [`cpu`]: where the
//!   CPU goes during a cell.
//! - [`load`]: closed-loop and paced load tasks, HDR histograms.
//! - [`submit`]: bulk-import requests over one keep-alive connection per task.
//! - [`arrivals`]: completion events and webhook arrivals by operation id.
//! - [`ceilings`] and [`receiver`]: servers in this process (publish-only and no-I/O
//!   ceilings, the webhook receiver) and the bare signed POST.
//! - [`crowd`]: idle and slowloris connections held open against the intake.
//! - [`servers`]: `nats-server` and `redis-server` processes of a part's own;
//!   [`peer`]: the apalis peer's processes and how the bench learns its completions.
//! - [`intake`], [`e2e`], [`webhooks`], [`hostile`], [`sidebyside`]: the five parts;
//!   [`report`]: the tables.

pub mod arrivals;
pub mod ceilings;
pub mod cpu;
pub mod crowd;
pub mod e2e;
pub mod hostile;
pub mod intake;
pub mod load;
pub mod options;
pub mod peer;
pub mod processes;
pub mod receiver;
pub mod report;
pub mod servers;
pub mod sidebyside;
pub mod stage;
pub mod submit;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use options::{Options, Part};
pub use report::Report;

use crate::report::{Table, mib, millis};
use crate::stage::Stage;

/// The figures the targets are judged on, gathered by the parts.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    /// Intake imports per second at the most connections measured.
    pub intake: Option<f64>,
    /// The publish-only ceiling at the same connections.
    pub publish_ceiling: Option<f64>,
    /// The best sustained 10-item operations per second end to end.
    pub e2e_best: Option<f64>,
    /// Accept → completed p50 of 10-item imports at half the sustained rate.
    pub paced_p50: Option<Duration>,
    /// Deliveries per second of one dispatcher draining a backlog.
    pub webhooks_drain: Option<f64>,
    /// Deliveries per second of the live pipeline.
    pub webhooks_live: Option<f64>,
    pub bare_post: Option<f64>,
}

/// Runs the parts the options ask for, then removes every stream and key the run made
/// (also when a part failed). The side-by-side part needs no servers of the caller's: it
/// starts its own and stops them at the end.
pub async fn run(mut options: Options) -> anyhow::Result<Report> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    options.participant_bin = locate(&options.participant_bin, "participant")?;
    if options.runs(Part::Sidebyside) {
        options.side.peer_bin = locate(&options.side.peer_bin, "apalis-peer")?;
        return sidebyside::run(&options).await;
    }
    let mut stage = Stage::new(options).await?;
    let mut report = Report::default();
    let mut figures = Figures::default();
    let outcome = parts(&mut stage, &mut report, &mut figures).await;
    let cleaned = stage.clean_up().await;
    outcome?;
    cleaned?;
    let mut memory = Table::new(
        "Peak RSS (VmHWM) of the role processes",
        &["role", "MiB", "under"],
    )
    .with_headline(report::one_decimal);
    for (part, role, bytes) in &stage.memory {
        memory.push(role.as_str(), mib(*bytes), vec![part.clone()]);
    }
    report.tables.push(memory);
    if !stage.cpu.is_empty() {
        report.tables.push(stage.cpu.cores.clone());
        report.tables.push(stage.cpu.per_operation.clone());
    }
    report.notes.extend(judge(&figures, &stage.memory));
    Ok(report)
}

async fn parts(
    stage: &mut Stage,
    report: &mut Report,
    figures: &mut Figures,
) -> anyhow::Result<()> {
    if stage.options.runs(Part::Intake) {
        intake::run(stage, report, figures).await?;
    }
    if stage.options.runs(Part::E2e) {
        e2e::run(stage, report, figures).await?;
    }
    if stage.options.runs(Part::Webhooks) {
        webhooks::run(stage, report, figures).await?;
    }
    if stage.options.runs(Part::Hostile) {
        hostile::run(stage, report).await?;
    }
    Ok(())
}

/// The binary as given, or relative to the workspace root when the working directory has
/// no such file.
fn locate(bin: &Path, package: &str) -> anyhow::Result<PathBuf> {
    if bin.is_file() {
        return Ok(bin.to_path_buf());
    }
    let from_root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(bin);
    if bin.is_relative() && from_root.is_file() {
        return Ok(from_root);
    }
    anyhow::bail!(
        "no {package} binary at {}; build it with `cargo build --release -p {package}`",
        bin.display()
    )
}

/// One line per target: the measured figure, the goal, met or missed.
fn judge(figures: &Figures, memory: &[(String, String, u64)]) -> Vec<String> {
    let verdict = |met: bool| if met { "met" } else { "MISSED" };
    let mut lines = Vec::new();
    if let (Some(intake), Some(ceiling)) = (figures.intake, figures.publish_ceiling) {
        let share = 100.0 * intake / ceiling.max(f64::EPSILON);
        lines.push(format!(
            "Target intake ≥ 75 % of the publish-only ceiling at the most connections: {share:.0} % ({intake:.0} vs {ceiling:.0}/s): {}",
            verdict(share >= 75.0)
        ));
    }
    if let Some(p50) = figures.paced_p50 {
        lines.push(format!(
            "Target accept → completed p50 ≤ 5 ms at half the sustained rate: {}: {}",
            millis(p50),
            verdict(p50 <= Duration::from_millis(5))
        ));
    }
    if let Some(best) = figures.e2e_best {
        lines.push(format!(
            "Target ≥ 10,000 10-item operations/s end to end: {best:.0}/s: {}",
            verdict(best >= 10_000.0)
        ));
    }
    let hooks = [
        ("a dispatcher draining a backlog", figures.webhooks_drain),
        ("the live pipeline", figures.webhooks_live),
    ];
    for (what, hooks) in hooks {
        if let (Some(hooks), Some(bare)) = (hooks, figures.bare_post) {
            let share = 100.0 * hooks / bare.max(f64::EPSILON);
            lines.push(format!(
                "Target webhook deliveries ≥ 50 % of the bare signed-POST rate, {what}: {share:.0} % ({hooks:.0} vs {bare:.0}/s): {}",
                verdict(share >= 50.0)
            ));
        }
    }
    let worker = memory
        .iter()
        .filter(|(_, role, _)| role.starts_with("worker"))
        .map(|(_, _, bytes)| *bytes)
        .max();
    if let Some(bytes) = worker {
        lines.push(format!(
            "Target worker RSS ≤ 64 MiB under load: {:.1} MiB: {}",
            mib(bytes),
            verdict(bytes <= 64 * 1024 * 1024)
        ));
    }
    lines
}
