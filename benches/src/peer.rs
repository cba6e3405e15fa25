//! The apalis peer under measurement (`benches/apalis-peer`): an `apalis-peer serve`
//! process and worker processes on a Redis of their own, and how the bench learns that one
//! of its operations completed. The peer publishes nothing, so the bench reads the
//! worker's progress hashes (`completed_at`, unix microseconds) in one pipeline per round,
//! oldest accepted first (apalis-redis runs tasks in about that order), a window that
//! follows how many completed in the last round, so that each operation is read little
//! more than once; the cost of those reads shows in the peer's Redis and in the bench.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use apalis_peer::store::progress_key;
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::arrivals::Arrivals;
use crate::processes::{RoleProcess, free_port};

/// Progress hashes read in one round: at first, and at most.
const WINDOW: (usize, usize) = (64, 4096);
/// The pause after a round in which fewer than a quarter of those read had completed.
const PAUSE: Duration = Duration::from_millis(50);

/// The peer's processes.
pub struct Peer {
    pub serve: RoleProcess,
    pub workers: Vec<RoleProcess>,
    /// `http://127.0.0.1:<port>` of `serve`.
    pub base: String,
}

impl Peer {
    /// `serve` on a free port, answering; then `workers` worker processes of `concurrency`
    /// slots. (They are known to poll once an import went through: see the part's warm-up.)
    pub async fn start(
        bin: &Path,
        redis_url: &str,
        workers: usize,
        concurrency: u16,
        log_dir: &Path,
    ) -> anyhow::Result<Self> {
        let port = free_port()?;
        let mut command = Command::new(bin);
        command
            .args(["--redis-url", redis_url, "serve"])
            .arg(format!("127.0.0.1:{port}"));
        let mut serve = RoleProcess::spawn("apalis-peer serve", command, log_dir)?;
        let base = format!("http://127.0.0.1:{port}");
        let client = crate::submit::client()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        // Any answer, even 404 for an unknown operation, means it serves.
        while client
            .get(format!("{base}/api/operations/none"))
            .send()
            .await
            .is_err()
        {
            serve.check_running()?;
            anyhow::ensure!(
                Instant::now() < deadline,
                "apalis-peer serve did not answer"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let workers = (0..workers)
            .map(|index| {
                let mut command = Command::new(bin);
                command
                    .args(["--redis-url", redis_url, "worker", "--concurrency"])
                    .arg(concurrency.to_string())
                    .arg("--name")
                    .arg(format!("bulk-import-worker-{index}"));
                RoleProcess::spawn("apalis-peer worker", command, log_dir)
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Self {
            serve,
            workers,
            base,
        })
    }

    /// SIGTERM to each, as to the participant's roles.
    pub async fn stop(self) {
        for worker in self.workers {
            worker.stop().await;
        }
        self.serve.stop().await;
    }

    pub fn check_running(&mut self) -> anyhow::Result<()> {
        self.serve.check_running()?;
        self.workers
            .iter_mut()
            .try_for_each(RoleProcess::check_running)
    }
}

/// Completion times of the peer's operations, from their progress hashes.
pub struct StoreWatch {
    pub arrivals: Arrivals<String>,
    expect: mpsc::UnboundedSender<String>,
    reads: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl StoreWatch {
    /// Connects to the peer's Redis and starts watching for the ids it is given.
    pub async fn start(redis_url: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(redis_url).context("the peer's Redis URL")?;
        let connection = client
            .get_multiplexed_async_connection()
            .await
            .context("connecting to the peer's Redis")?;
        let (expect, ids) = mpsc::unbounded_channel();
        let arrivals = Arrivals::default();
        let reads = Arc::new(AtomicU64::new(0));
        let task = tokio::spawn(watch(connection, ids, arrivals.clone(), reads.clone()));
        Ok(Self {
            arrivals,
            expect,
            reads,
            task,
        })
    }

    /// Watches for the completion of `id` (an operation the peer accepted).
    pub fn expect(&self, id: &str) {
        let _ = self.expect.send(id.to_owned());
    }

    /// Progress hashes read so far.
    pub fn reads(&self) -> u64 {
        self.reads.load(Ordering::Relaxed)
    }
}

impl Drop for StoreWatch {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn watch(
    mut connection: redis::aio::MultiplexedConnection,
    mut ids: mpsc::UnboundedReceiver<String>,
    arrivals: Arrivals<String>,
    reads: Arc<AtomicU64>,
) {
    let clock = Clock::now();
    let mut pending: VecDeque<String> = VecDeque::new();
    let mut window = WINDOW.0;
    loop {
        while let Ok(id) = ids.try_recv() {
            pending.push_back(id);
        }
        if pending.is_empty() {
            match ids.recv().await {
                Some(id) => pending.push_back(id),
                None => return,
            }
        }
        let round: Vec<String> = pending.drain(..pending.len().min(window)).collect();
        let mut pipe = redis::pipe();
        for id in &round {
            pipe.hget(progress_key(id), "completed_at");
        }
        let answers: Vec<Option<u64>> = match pipe.query_async(&mut connection).await {
            Ok(answers) => answers,
            Err(error) => {
                eprintln!("sidebyside: reading the peer's progress: {error}");
                Vec::new()
            }
        };
        reads.fetch_add(round.len() as u64, Ordering::Relaxed);
        let mut done = 0;
        let mut open = Vec::new();
        for (index, id) in round.into_iter().enumerate() {
            match answers.get(index).copied().flatten() {
                Some(micros) => {
                    arrivals.arrive(id, clock.instant(micros));
                    done += 1;
                }
                None => open.push(id),
            }
        }
        let read = done + open.len();
        for id in open.into_iter().rev() {
            pending.push_front(id);
        }
        // All done: more may be, read twice as many at once; else a little more than did
        // complete, after a pause if few did.
        window = if done == read {
            window * 2
        } else {
            done + done / 4 + 8
        }
        .clamp(8, WINDOW.1);
        if done * 4 < read {
            tokio::time::sleep(PAUSE).await;
        }
    }
}

/// Unix microseconds (the peer's timestamps) as instants of the bench's clock.
struct Clock {
    instant: Instant,
    micros: u64,
}

impl Clock {
    fn now() -> Self {
        let micros = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        Self {
            instant: Instant::now(),
            micros,
        }
    }

    fn instant(&self, micros: u64) -> Instant {
        if micros >= self.micros {
            self.instant + Duration::from_micros(micros - self.micros)
        } else {
            let before = Duration::from_micros(self.micros - micros);
            self.instant.checked_sub(before).unwrap_or(self.instant)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unix_microseconds_map_onto_the_bench_clock_both_ways() {
        let clock = Clock {
            instant: Instant::now(),
            micros: 1_000_000,
        };
        let later = clock.instant(1_002_500);
        assert_eq!(later - clock.instant, Duration::from_micros(2_500));
        let earlier = clock.instant(999_000);
        assert!(earlier <= clock.instant);
    }
}
