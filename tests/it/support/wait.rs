//! Waiting for a condition, with a bound: never a sleep used as synchronisation.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// How often a condition is looked at.
const LOOK_EVERY: Duration = Duration::from_millis(25);

/// Looks at `probe` until it returns `Some`, and returns that; panics with `what` after
/// `bound`.
pub async fn until<T, F, Fut>(what: &str, bound: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + bound;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {bound:?} waiting for {what}"
        );
        tokio::time::sleep(LOOK_EVERY).await;
    }
}
