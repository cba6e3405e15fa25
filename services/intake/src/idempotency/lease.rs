//! A reserved `Idempotency-Key` is a short lease ([`RESERVATION_LEASE`]), not a long
//! reservation: the request renews it while it runs, and settles it when it ends, by
//! storing its answer or releasing the key. A settlement that fails (Valkey is away) is
//! retried in the background until it lands or the lease has lapsed anyway, so a client
//! may retry with the same key as soon as Valkey is back (contract §4).

use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

use shared::backoff::Backoff;
use shared::ids::TenantId;
use shared::store::{RESERVATION_LEASE, Store, StoreError, StoredAnswer};
use tokio_util::task::TaskTracker;

/// One request's hold on its key.
#[derive(Clone)]
pub struct Lease {
    pub store: Store,
    pub tenant: TenantId,
    pub scope: String,
    pub fingerprint: String,
    pub token: String,
}

impl Lease {
    /// Runs `work` while renewing the lease; the renewal ends with `work`.
    pub async fn hold<T>(&self, work: impl Future<Output = T>) -> T {
        tokio::select! {
            output = work => output,
            never = self.keep_renewed() => match never {},
        }
    }

    async fn keep_renewed(&self) -> Infallible {
        loop {
            tokio::time::sleep(RESERVATION_LEASE / 3).await;
            match self
                .store
                .renew_idempotency_key(self.tenant, &self.scope, &self.fingerprint, &self.token)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!("idempotency key lapsed while its request ran");
                    return std::future::pending().await;
                }
                Err(error) => tracing::warn!(%error, "idempotency key not renewed; retrying"),
            }
        }
    }

    /// Frees the key, for an answer that is not kept.
    pub async fn release(self, tasks: &TaskTracker) {
        settle(tasks, "released", move || {
            let lease = self.clone();
            async move {
                lease
                    .store
                    .release_idempotency_key(
                        lease.tenant,
                        &lease.scope,
                        &lease.fingerprint,
                        &lease.token,
                    )
                    .await
            }
        })
        .await;
    }

    /// Stores `answer` for the key, kept for `retention`.
    pub async fn complete(self, tasks: &TaskTracker, answer: StoredAnswer, retention: Duration) {
        settle(tasks, "stored", move || {
            let (lease, answer) = (self.clone(), answer.clone());
            async move {
                let stored = lease
                    .store
                    .complete_idempotency_key(
                        lease.tenant,
                        &lease.scope,
                        &lease.fingerprint,
                        &lease.token,
                        answer,
                        retention,
                    )
                    .await?;
                if !stored {
                    tracing::warn!(
                        "idempotency key lapsed and taken by another request; this answer is not stored"
                    );
                }
                Ok(())
            }
        })
        .await;
    }
}

/// Delays between the background attempts to settle a key.
const SETTLE_BACKOFF: Backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));

/// Tries `attempt` once, so that a retry right after the answer finds the key settled; if
/// that fails, goes on trying in the background, with backoff, for one lease: after that
/// the key has lapsed by itself.
async fn settle<F, Fut>(tasks: &TaskTracker, what: &'static str, mut attempt: F)
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Result<(), StoreError>> + Send,
{
    let Err(error) = attempt().await else {
        return;
    };
    tracing::warn!(%error, "idempotency key not {what}; retrying in the background");
    tasks.spawn(async move {
        let retried = tokio::time::timeout(RESERVATION_LEASE, async {
            for delay in SETTLE_BACKOFF.delays() {
                tokio::time::sleep(delay).await;
                if attempt().await.is_ok() {
                    return;
                }
            }
        })
        .await;
        if retried.is_err() {
            tracing::warn!("idempotency key not {what} within a lease; it lapsed by itself");
        }
    });
}
