//! Where the CPU goes during a cell: the ticks of the bench itself, of each role's
//! processes, of every `nats-server` and `valkey-server`/`redis-server` on the machine
//! (from `/proc/<pid>/stat`), against the machine's busy ticks (`/proc/stat`); what is left
//! is "other" (the kernel's share of networking shows up in the processes' system time).

use std::collections::BTreeMap;

use crate::processes::RoleProcess;
use crate::report::{Row, Table};

/// The groups in the order of the table's columns.
const GROUPS: [&str; 6] = ["bench", "intake", "worker", "dispatcher", "nats", "valkey"];

/// A table of CPU use, in cores, one row per metered cell.
pub fn table() -> Table {
    Table::new(
        "CPU used during the cells, in cores (the machine has `nproc` of them)",
        &[
            "cell",
            "busy",
            "bench",
            "intake",
            "workers",
            "dispatcher",
            "nats-server",
            "valkey/redis",
            "other",
        ],
    )
    .with_headline(crate::report::two_decimals)
}

/// Ticks at the start of a cell.
pub struct Meter {
    pids: Vec<(&'static str, u32)>,
    start: BTreeMap<&'static str, u64>,
    busy: u64,
    total: u64,
}

impl Meter {
    /// Starts metering the bench, the servers and `roles` (each a group name and its
    /// processes).
    pub fn start(roles: &[(&'static str, &[RoleProcess])]) -> Self {
        let mut pids = vec![("bench", std::process::id())];
        for (group, processes) in roles {
            pids.extend(processes.iter().filter_map(|p| Some((*group, p.pid()?))));
        }
        pids.extend(servers());
        let (busy, total) = machine();
        let start = ticks(&pids);
        Self {
            pids,
            start,
            busy,
            total,
        }
    }

    /// The row of the cell named `cell`: cores used by each group since the start.
    pub fn finish(self, cell: &str) -> Row {
        let (busy, total) = machine();
        let end = ticks(&self.pids);
        let cpus = std::thread::available_parallelism().map_or(1, usize::from) as f64;
        // Elapsed time in ticks of one CPU.
        let elapsed = (total.saturating_sub(self.total) as f64 / cpus).max(1.0);
        let cores = |ticks: u64| ticks as f64 / elapsed;
        let mut cells = Vec::new();
        let mut accounted = 0;
        for group in GROUPS {
            let used = end
                .get(group)
                .unwrap_or(&0)
                .saturating_sub(*self.start.get(group).unwrap_or(&0));
            accounted += used;
            cells.push(format!("{:.2}", cores(used)));
        }
        let busy = busy.saturating_sub(self.busy);
        cells.push(format!("{:.2}", cores(busy.saturating_sub(accounted))));
        Row {
            case: cell.to_owned(),
            value: cores(busy),
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
