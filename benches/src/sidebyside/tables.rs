//! The side-by-side part's tables: the medians of the runs, the participant beside the
//! peer, and each run's figures with the machine's busy and unaccounted cores.

use std::time::Duration;

use super::System;
use super::drive::{GROUPS, Outcome};
use crate::options::SideBySide;
use crate::report::{Table, millis, rate};

/// How one figure is read from an outcome.
type Figure = fn(&Outcome) -> f64;

/// The median of each figure over the runs, the participant beside the peer.
pub fn medians(side: &SideBySide, outcomes: &[Outcome]) -> Table {
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
pub fn run_by_run(outcomes: &[Outcome]) -> Table {
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

pub fn conditions(side: &SideBySide) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_of_an_even_count_is_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(Vec::new()), 0.0);
    }

    #[test]
    fn figures_keep_about_three_significant_digits() {
        assert_eq!(figure(3424.4), "3424");
        assert_eq!(figure(46.25), "46.2");
        assert_eq!(figure(0.214), "0.21");
    }
}
