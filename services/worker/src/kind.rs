//! What a kind of operation does, batch by batch; the worker's `operation`
//! loop does everything else (claiming, checkpoints, heartbeats, cancellation, events).

use std::future::Future;

use async_nats::jetstream::context::PublishAckFuture;
use serde_json::value::RawValue;
use shared::ids::OperationId;
use shared::runner::Failure;
use tokio_util::sync::CancellationToken;

use crate::context::Context;

/// Input items read with each checkpoint, for kinds that have stored input.
pub const BATCH: usize = 250;

/// One batch to work on.
pub struct Batch<'a> {
    pub operation: OperationId,
    /// Index of its first unit of work.
    pub start: u64,
    /// Units of work in the whole operation.
    pub total: u64,
    /// Its stored input items, for kinds that have them.
    pub items: &'a [&'a RawValue],
    /// Cancelled when the operation is: stop waiting and return what is done.
    pub cancelled: &'a CancellationToken,
}

/// What one batch came to.
pub struct BatchOutcome {
    /// Units of work it covered.
    pub processed: u64,
    pub succeeded: u64,
    /// Per-item errors, as JSON, in index order.
    pub errors: Vec<String>,
}

/// How a batch failed.
#[derive(Debug)]
pub enum JobError {
    /// May pass: the delivery is tried again later.
    Transient(anyhow::Error),
    /// Will not pass: the operation fails now.
    Permanent(Failure),
}

impl<E: Into<anyhow::Error>> From<E> for JobError {
    fn from(error: E) -> Self {
        Self::Transient(error.into())
    }
}

/// One kind of operation.
pub trait Kind: Send + Sync {
    /// Stored input items to read with each checkpoint (0: the kind has none).
    const INPUT_BATCH: usize;

    fn run_batch(
        &self,
        ctx: &Context,
        batch: Batch<'_>,
    ) -> impl Future<Output = Result<BatchOutcome, JobError>> + Send;

    /// Events to send once the operation has completed, beside its `completed` event.
    fn completed(
        &self,
        _ctx: &Context,
    ) -> impl Future<Output = Result<Vec<PublishAckFuture>, JobError>> + Send {
        async { Ok(Vec::new()) }
    }
}
