//! Where the CPU goes during a cell: the ticks of the bench itself, of each role's
//! processes, of every `nats-server` and `valkey-server`/`redis-server` on the machine
//! (from `/proc/<pid>/stat`), against the machine's busy ticks (`/proc/stat`); what is left
//! is "other" (the kernel's share of networking shows up in the processes' system time).
//! Each cell is a row of cores used and a row of CPU time per operation.

use std::collections::BTreeMap;

use tokio::time::Instant;

use crate::processes::RoleProcess;
use crate::report::{Row, Table};

/// The groups in the order of the tables' columns.
const GROUPS: [&str; 6] = ["bench", "intake", "worker", "dispatcher", "nats", "valkey"];
/// Their headers (after the cell and the headline).
const HEADERS: [&str; 6] = [
    "bench",
    "intake",
    "workers",
    "dispatcher",
    "nats-server",
    "valkey/redis",
];

/// The two CPU tables of a run: cores used during each cell, and CPU time per operation of
/// each process group, one row per metered cell in both.
#[derive(Clone, Debug)]
pub struct Tables {
    pub cores: Table,
    pub per_operation: Table,
}

impl Default for Tables {
    fn default() -> Self {
        let mut cores = vec!["cell", "busy"];
        cores.extend(HEADERS);
        cores.push("other");
        let mut per_operation = vec!["cell", "all, µs", "operations"];
        per_operation.extend(HEADERS);
        Self {
            cores: Table::new(
                "CPU used during the cells, in cores (the machine has `nproc` of them)",
                &cores,
            )
            .with_headline(crate::report::two_decimals),
            per_operation: Table::new(
                "CPU per operation during the cells, µs of each process group (user + system)",
                &per_operation,
            )
            .with_headline(crate::report::rate),
        }
    }
}

/// The table of CPU per imported item, one row per import size.
pub fn per_item_table() -> Table {
    let mut headers = vec!["items per import", "all, µs per item", "items imported"];
    headers.extend(HEADERS);
    Table::new(
        "CPU per imported item against the import's size, µs of each process group (one worker)",
        &headers,
    )
    .with_headline(crate::report::two_decimals)
}

impl Tables {
    /// Adds the row of `cell` to both tables; `operations` is what the cell did while it
    /// was metered (imports accepted, operations completed, webhooks delivered, POSTs
    /// answered), warm-up included, as the meter was.
    pub fn record(&mut self, cell: &str, usage: &Usage, operations: u64) {
        self.cores.rows.push(usage.cores_row(cell));
        self.per_operation
            .rows
            .push(usage.per_operation_row(cell, operations));
    }

    pub fn is_empty(&self) -> bool {
        self.cores.rows.is_empty()
    }
}

/// Ticks at the start of a cell.
pub struct Meter {
    pids: Vec<(&'static str, u32)>,
    start: BTreeMap<&'static str, u64>,
    busy: u64,
    total: u64,
    began: Instant,
}

/// What a metered span used: CPU seconds of each group, of the whole machine, and the
/// span's length.
#[derive(Clone, Debug)]
pub struct Usage {
    /// CPU seconds (user + system) by group.
    pub seconds: BTreeMap<&'static str, f64>,
    /// CPU seconds of the whole machine that were busy.
    pub busy: f64,
    /// The span, in seconds of the wall clock.
    pub elapsed: f64,
}

impl Meter {
    /// Starts metering the bench, every NATS and Valkey server on the machine, and `roles`
    /// (each a group name and its processes).
    pub fn start(roles: &[(&'static str, &[RoleProcess])]) -> Self {
        let mut pids = vec![("bench", std::process::id())];
        for (group, processes) in roles {
            pids.extend(processes.iter().filter_map(|p| Some((*group, p.pid()?))));
        }
        pids.extend(servers());
        Self::of(pids)
    }

    /// Starts metering exactly these processes, each under its group's name.
    pub fn of(pids: Vec<(&'static str, u32)>) -> Self {
        let (busy, total) = machine();
        let start = ticks(&pids);
        Self {
            pids,
            start,
            busy,
            total,
            began: Instant::now(),
        }
    }

    /// What each group used since the start.
    pub fn finish(self) -> Usage {
        let (busy, total) = machine();
        let end = ticks(&self.pids);
        let elapsed = self.began.elapsed().as_secs_f64().max(f64::EPSILON);
        let cpus = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        // Ticks of all CPUs together over the span: the machine's clock of ticks.
        let span = (total.saturating_sub(self.total) as f64).max(1.0);
        let seconds = |ticks: u64| ticks as f64 / span * cpus * elapsed;
        let used = end
            .iter()
            .map(|(group, ticks)| {
                let before = self.start.get(group).copied().unwrap_or(0);
                (*group, seconds(ticks.saturating_sub(before)))
            })
            .collect();
        Usage {
            seconds: used,
            busy: seconds(busy.saturating_sub(self.busy)),
            elapsed,
        }
    }
}

impl Usage {
    /// CPU seconds of `group` (0 when nothing of it was metered).
    pub fn of(&self, group: &str) -> f64 {
        self.seconds.get(group).copied().unwrap_or(0.0)
    }

    /// Microseconds of CPU of `group` per operation.
    pub fn micros_per(&self, group: &str, operations: u64) -> f64 {
        self.of(group) * 1e6 / operations.max(1) as f64
    }

    /// The row of [`per_item_table`] for imports of `size` items, `items` imported in all.
    pub fn per_item_row(&self, size: usize, items: u64) -> Row {
        let per_item = |group: &str| format!("{:.2}", self.micros_per(group, items));
        let all: f64 = GROUPS
            .iter()
            .map(|group| self.micros_per(group, items))
            .sum();
        let mut cells = vec![items.to_string()];
        cells.extend(GROUPS.iter().map(|group| per_item(group)));
        Row {
            case: size.to_string(),
            value: all,
            cells,
        }
    }

    fn cores_row(&self, cell: &str) -> Row {
        let cores = |seconds: f64| seconds / self.elapsed;
        let mut cells: Vec<String> = GROUPS
            .iter()
            .map(|group| format!("{:.2}", cores(self.of(group))))
            .collect();
        let accounted: f64 = self.seconds.values().sum();
        cells.push(format!("{:.2}", cores((self.busy - accounted).max(0.0))));
        Row {
            case: cell.to_owned(),
            value: cores(self.busy),
            cells,
        }
    }

    fn per_operation_row(&self, cell: &str, operations: u64) -> Row {
        let mut cells = vec![operations.to_string()];
        cells.extend(
            GROUPS
                .iter()
                .map(|group| format!("{:.0}", self.micros_per(group, operations))),
        );
        let all: f64 = GROUPS.iter().map(|g| self.micros_per(g, operations)).sum();
        Row {
            case: cell.to_owned(),
            value: all,
            cells,
        }
    }
}

/// The pids of every NATS and Valkey (or Redis) server on the machine.
fn servers() -> Vec<(&'static str, u32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| {
            let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            match comm.trim() {
                "nats-server" => Some(("nats", pid)),
                "valkey-server" | "redis-server" => Some(("valkey", pid)),
                _ => None,
            }
        })
        .collect()
}

/// User plus system ticks of each group's processes.
fn ticks(pids: &[(&'static str, u32)]) -> BTreeMap<&'static str, u64> {
    let mut sums = BTreeMap::new();
    for (group, pid) in pids {
        *sums.entry(*group).or_default() += process_ticks(*pid).unwrap_or(0);
    }
    sums
}

fn process_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let user: u64 = fields.get(11)?.parse().ok()?;
    let system: u64 = fields.get(12)?.parse().ok()?;
    Some(user + system)
}

/// Busy and total ticks of all CPUs together.
fn machine() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let values: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3).unwrap_or(&0) + values.get(4).unwrap_or(&0);
    (total.saturating_sub(idle), total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_per_operation_divides_each_group_by_the_operations() {
        let usage = Usage {
            seconds: BTreeMap::from([("intake", 0.5), ("nats", 0.25)]),
            busy: 1.5,
            elapsed: 1.0,
        };
        assert_eq!(usage.micros_per("intake", 5_000), 100.0);
        assert_eq!(usage.micros_per("worker", 5_000), 0.0);
        let row = usage.per_operation_row("cell", 5_000);
        assert_eq!(row.value, 150.0);
        assert_eq!(row.cells[0], "5000");
        // Cores: intake 0.5 of 1.5 busy; "other" is what no group used.
        let row = usage.cores_row("cell");
        assert_eq!(row.value, 1.5);
        assert_eq!(row.cells.last().map(String::as_str), Some("0.75"));
    }
}
