//! What the two roles share: the job (exactly the request body), the apalis-redis settings,
//! and the names of the keys the worker writes and the status endpoint reads.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// The apalis queue both roles use.
pub const QUEUE: &str = "bulk-import";

/// The worker's progress of one operation: a hash of `state`, `total`, `current`,
/// `started_at` and `completed_at` (unix microseconds).
pub fn progress_key(operation: &str) -> String {
    format!("op:{operation}")
}

/// One imported entity: a hash of `name`, `op` and `idx`.
pub fn entity_key(entity: uuid::Uuid) -> String {
    format!("entity:{entity}")
}

/// One item of a bulk import.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
}

/// The job payload: the request body as it came.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct BulkImport {
    pub items: Vec<Item>,
}

/// How apalis-redis polls and watches its workers; the same for both roles. The defaults
/// are those of apalis-redis's own `examples/basic.rs`.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct Settings {
    /// Tasks one poll of the worker fetches.
    #[arg(long, default_value_t = 100)]
    pub batch: usize,
    /// Seconds between the worker's heartbeats.
    #[arg(long, default_value_t = 1)]
    pub heartbeat_secs: u64,
    /// Milliseconds between the worker's polls of an empty queue.
    #[arg(long, default_value_t = 100)]
    pub poll_millis: u64,
    /// Lock each fetched task to the worker (apalis-redis's default; off in its example).
    #[arg(long)]
    pub lock_tasks: bool,
}

impl Settings {
    /// The apalis-redis configuration these settings make.
    pub fn config(&self) -> apalis_redis::Config {
        apalis_redis::Config::default()
            .queue(QUEUE)
            .batch_size(self.batch)
            .heartbeat_interval(Duration::from_secs(self.heartbeat_secs))
            .lock_tasks(self.lock_tasks)
    }

    pub fn poll(&self) -> Duration {
        Duration::from_millis(self.poll_millis)
    }
}

/// Unix microseconds now: the progress hash's timestamps.
pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX))
}
