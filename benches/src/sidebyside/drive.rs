//! One system's run of the side-by-side part: every import sent, then every status read
//! once its operation has completed, with the CPU of the system's processes and of the
//! bench metered over all of it; and how the bench learns of completions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio::time::Instant;
use uuid::Uuid;

use super::System;
use crate::arrivals::Completions;
use crate::cpu::{Meter, Usage};
use crate::options::SideBySide;
use crate::peer::StoreWatch;
use crate::submit::Importer;

/// Connections that read the statuses.
const READERS: usize = 8;
/// How long, after the last import was answered, operations have to complete.
const COMPLETION_TIMEOUT: Duration = Duration::from_secs(180);
/// The metered groups, in the tables' order: the HTTP process, the workers, the queue's
/// own server (none for the peer: its queue is in Redis), the store, this bench.
pub const GROUPS: [&str; 5] = ["http", "worker", "queue", "store", "client"];

/// How the bench learns when an operation completed: the participant's `completed` event
/// on a core NATS subscription, the peer's progress hash.
pub enum Watch {
    Events(Completions),
    Store(StoreWatch),
}

impl Watch {
    pub fn accepted(&self, id: &str) {
        if let Self::Store(store) = self {
            store.expect(id);
        }
    }

    pub fn completion(&self, id: &str) -> oneshot::Receiver<Instant> {
        match self {
            Self::Events(events) => events
                .arrivals
                .wait(id.parse().unwrap_or_else(|_| Uuid::nil())),
            Self::Store(store) => store.arrivals.wait(id.to_owned()),
        }
    }

    pub fn clear(&self) {
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
pub struct Outcome {
    pub system: System,
    pub accepted: u64,
    /// Imports not answered `202`, operations not completed in time, status documents
    /// that did not say completed.
    pub errors: u64,
    /// Accepted per second from the first `POST` to the last answer.
    pub intake: f64,
    /// Completed per second from the first `POST` to the last completion.
    pub end_to_end: f64,
    pub completed: u64,
    /// Accept → completed, µs: from sending the `POST` (paced: from its due time).
    pub latency: Histogram<u64>,
    pub usage: Usage,
    /// Store reads per operation to learn of completions (the peer's).
    pub reads: f64,
}

impl Outcome {
    pub fn micros_per(&self, group: &str) -> f64 {
        self.usage.micros_per(group, self.completed)
    }

    pub fn all_micros(&self) -> f64 {
        GROUPS.iter().map(|g| self.micros_per(g)).sum()
    }

    pub fn quantile(&self, q: f64) -> Duration {
        Duration::from_micros(self.latency.value_at_quantile(q))
    }
}

/// One accepted import: its index, the system's id for it, when it was sent (or due).
type Accepted = (u64, String, Instant);

/// Submits every import, then reads each status once it is done; meters `pids` (and this
/// process, as the client) over all of it.
pub async fn drive(
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
