//! The load generator: tokio tasks, each with its own caller (its own keep-alive
//! connection), either in a closed loop (send, await, send again) or paced at a fixed rate
//! (open loop). Latencies go to an HDR histogram per task, merged at the end; only calls
//! that finish (closed) or are scheduled (paced) inside the measured window count.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// One finished call: when it finished and how long it took by its own measure.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub at: Instant,
    pub latency: Duration,
}

/// Something a load task calls again and again; `None` is a failed call.
pub trait Caller: Send + 'static {
    /// The `seq`th call of this task, meant to start at `start` (now, or its slot when paced).
    fn call(&mut self, seq: u64, start: Instant) -> impl Future<Output = Option<Sample>> + Send;
}

/// The warm-up, then the measured time.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub warmup: Duration,
    pub measured: Duration,
}

/// What a load run measured.
#[derive(Clone, Debug)]
pub struct Stats {
    /// Latencies in microseconds.
    pub histogram: Histogram<u64>,
    pub ok: u64,
    pub failed: u64,
    /// Successful calls of the whole run, warm-up and calls that ended after the window
    /// included: what the CPU metered over the run was spent on.
    pub all: u64,
    pub measured: Duration,
}

impl Stats {
    fn new(measured: Duration) -> Self {
        Self {
            histogram: histogram(),
            ok: 0,
            failed: 0,
            all: 0,
            measured,
        }
    }

    /// Successful calls per second of the measured window.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.measured.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency at quantile `q` (0.5, 0.99, 0.999).
    pub fn quantile(&self, q: f64) -> Duration {
        Duration::from_micros(self.histogram.value_at_quantile(q))
    }

    fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        self.histogram.saturating_record(micros.max(1));
        self.ok += 1;
    }

    fn merge(&mut self, other: &Self) {
        let _ = self.histogram.add(&other.histogram);
        self.ok += other.ok;
        self.failed += other.failed;
        self.all += other.all;
    }
}

/// An empty histogram of microseconds, 1 µs to 10 minutes, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("constant, valid bounds")
}

/// Each caller in its own task, calling back to back; a call counts when it finishes
/// inside the measured window.
pub async fn closed_loop<C: Caller>(callers: Vec<C>, window: Window) -> Stats {
    let begin = Instant::now() + window.warmup;
    let end = begin + window.measured;
    let mut tasks = JoinSet::new();
    for mut caller in callers {
        tasks.spawn(async move {
            let mut stats = Stats::new(window.measured);
            let mut seq = 0;
            while Instant::now() < end {
                let outcome = caller.call(seq, Instant::now()).await;
                seq += 1;
                match outcome {
                    Some(sample) if sample.at >= begin && sample.at <= end => {
                        stats.record(sample.latency);
                        stats.all += 1;
                    }
                    Some(_) => stats.all += 1,
                    None => stats.failed += 1,
                }
            }
            stats
        });
    }
    collect(tasks, window.measured).await
}

/// Calls paced at `rate` per second over every caller (open loop): call `i` is due at
/// `start + i / rate`, taken by whichever task is free; a call counts when it was due
/// inside the measured window. Callers measure from the due time, so a late start shows.
pub async fn paced<C: Caller>(callers: Vec<C>, rate: f64, window: Window) -> Stats {
    let start = Instant::now();
    let begin = start + window.warmup;
    let end = begin + window.measured;
    let interval = Duration::from_secs_f64(1.0 / rate.max(0.001));
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for mut caller in callers {
        let next = next.clone();
        tasks.spawn(async move {
            let mut stats = Stats::new(window.measured);
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                let due = start + interval.mul_f64(seq as f64);
                if due >= end {
                    break;
                }
                tokio::time::sleep_until(due).await;
                match caller.call(seq, due).await {
                    Some(sample) if due >= begin => {
                        stats.record(sample.latency);
                        stats.all += 1;
                    }
                    Some(_) => stats.all += 1,
                    None => stats.failed += 1,
                }
            }
            stats
        });
    }
    collect(tasks, window.measured).await
}

async fn collect(mut tasks: JoinSet<Stats>, measured: Duration) -> Stats {
    let mut total = Stats::new(measured);
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok(stats) => total.merge(&stats),
            Err(error) => {
                eprintln!("a load task ended abnormally: {error}");
                total.failed += 1;
            }
        }
    }
    total
}
