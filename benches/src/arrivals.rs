//! When did something about an operation arrive: its `completed` event on a plain core NATS
//! subscription, or its webhook at the receiver. An arrival may come before anyone waits
//! for it (a small import can complete before its `202` is read), so both orders work.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use futures::StreamExt as _;
use serde::Deserialize;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use uuid::Uuid;

enum Slot {
    Waiting(oneshot::Sender<Instant>),
    Arrived(Instant),
}

struct Inner<K> {
    slots: HashMap<K, Slot>,
    count: u64,
    first: Option<Instant>,
    last: Option<Instant>,
}

impl<K> Default for Inner<K> {
    fn default() -> Self {
        Self {
            slots: HashMap::new(),
            count: 0,
            first: None,
            last: None,
        }
    }
}

/// Arrival times by operation id (a UUID for the participant, the peer's own string
/// otherwise), handed to whoever waits for them; also how many arrived and when the first
/// and the last did.
pub struct Arrivals<K = Uuid> {
    inner: Arc<Mutex<Inner<K>>>,
}

impl<K> Default for Arrivals<K> {
    fn default() -> Self {
        Self {
            inner: Arc::default(),
        }
    }
}

impl<K> Clone for Arrivals<K> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

/// How many arrived since the last clear, and over which span.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub count: u64,
    pub first: Option<Instant>,
    pub last: Option<Instant>,
}

impl Tally {
    /// Arrivals per second between the first and the last.
    pub fn rate(&self) -> f64 {
        match (self.first, self.last) {
            (Some(first), Some(last)) if last > first => {
                self.count.saturating_sub(1) as f64 / (last - first).as_secs_f64()
            }
            _ => 0.0,
        }
    }
}

impl<K: Eq + Hash> Arrivals<K> {
    /// Records that `id` arrived `at`.
    pub fn arrive(&self, id: K, at: Instant) {
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        inner.count += 1;
        inner.first.get_or_insert(at);
        inner.last = Some(at);
        let slots = &mut inner.slots;
        match slots.remove(&id) {
            Some(Slot::Waiting(waiter)) => {
                let _ = waiter.send(at);
            }
            Some(arrived @ Slot::Arrived(_)) => {
                slots.insert(id, arrived);
            }
            None => {
                slots.insert(id, Slot::Arrived(at));
            }
        }
    }

    /// Resolves to the arrival time of `id`, at once if it has arrived.
    pub fn wait(&self, id: K) -> oneshot::Receiver<Instant> {
        let (sender, receiver) = oneshot::channel();
        if let Ok(mut inner) = self.inner.lock() {
            let slots = &mut inner.slots;
            match slots.remove(&id) {
                Some(Slot::Arrived(at)) => {
                    let _ = sender.send(at);
                }
                _ => {
                    slots.insert(id, Slot::Waiting(sender));
                }
            }
        }
        receiver
    }

    /// Forgets everything (between cells).
    pub fn clear(&self) {
        if let Ok(mut inner) = self.inner.lock() {
            *inner = Inner::default();
        }
    }

    /// How many arrived since the last clear, and when.
    pub fn tally(&self) -> Tally {
        self.inner.lock().map_or_else(
            |_| Tally::default(),
            |inner| Tally {
                count: inner.count,
                first: inner.first,
                last: inner.last,
            },
        )
    }
}

#[derive(Deserialize)]
struct EventMessage {
    operation: OperationRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct OperationRef {
    operation_id: Uuid,
}

/// The `completed` events of one prefix, as they arrive on a core NATS subscription.
pub struct Completions {
    pub arrivals: Arrivals,
    task: JoinHandle<()>,
}

impl Completions {
    /// Subscribes to `<prefix>.events.*.*.completed`; returns once the server has the
    /// subscription.
    pub async fn subscribe(nats: &async_nats::Client, prefix: &str) -> anyhow::Result<Self> {
        let mut subscriber = nats
            .subscribe(format!("{prefix}.events.*.*.completed"))
            .await
            .context("subscribing to completed events")?;
        nats.flush().await.context("flushing the subscription")?;
        let arrivals = Arrivals::default();
        let sink = arrivals.clone();
        let task = tokio::spawn(async move {
            while let Some(message) = subscriber.next().await {
                let at = Instant::now();
                if let Ok(event) = serde_json::from_slice::<EventMessage>(&message.payload) {
                    sink.arrive(event.operation.operation_id, at);
                }
            }
        });
        Ok(Self { arrivals, task })
    }
}

impl Drop for Completions {
    fn drop(&mut self) {
        self.task.abort();
    }
}
