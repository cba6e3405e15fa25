//! Cancel notices: the intake publishes `<prefix>.cancel.<operation>` when a running
//! operation is cancelled; the worker running it learns at once and stops at its next
//! checkpoint (where the record's cancel flag ends it as cancelled). If a notice is lost,
//! the flag still ends it at the next checkpoint.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::StreamExt;
use shared::ids::OperationId;
use shared::names::Names;
use tokio_util::sync::CancellationToken;

/// The operations this worker is running, each with the token its job watches.
#[derive(Default)]
pub struct Cancels {
    running: Mutex<HashMap<OperationId, CancellationToken>>,
}

/// A running operation's place in [`Cancels`]; leaves it when dropped.
pub struct Registration {
    cancels: Arc<Cancels>,
    operation: OperationId,
    pub token: CancellationToken,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.cancels.table().remove(&self.operation);
    }
}

impl Cancels {
    pub fn register(self: &Arc<Self>, operation: OperationId) -> Registration {
        let token = CancellationToken::new();
        self.table().insert(operation, token.clone());
        Registration {
            cancels: self.clone(),
            operation,
            token,
        }
    }

    /// Delivers notices to running jobs until `shutdown`.
    pub async fn listen(
        self: Arc<Self>,
        nats: async_nats::Client,
        names: Names,
        shutdown: CancellationToken,
    ) {
        let mut notices = match nats.subscribe(names.cancel_wildcard()).await {
            Ok(notices) => notices,
            Err(error) => {
                tracing::warn!(%error, "no cancel notices; cancels are seen at checkpoints");
                return;
            }
        };
        loop {
            let notice = tokio::select! {
                () = shutdown.cancelled() => return,
                notice = notices.next() => notice,
            };
            let Some(notice) = notice else { return };
            let operation = notice
                .subject
                .rsplit('.')
                .next()
                .and_then(|id| id.parse::<OperationId>().ok());
            if let Some(token) = operation.and_then(|op| self.table().get(&op).cloned()) {
                token.cancel();
            }
        }
    }

    fn table(&self) -> std::sync::MutexGuard<'_, HashMap<OperationId, CancellationToken>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
