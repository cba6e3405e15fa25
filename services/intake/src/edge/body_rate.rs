//! A request body held to a minimum average rate, the way Apache's `mod_reqtimeout` holds
//! one (`body=10,MinRate=8192`): it must have arrived within `Http__BodyTimeout` plus one
//! second per `Http__BodyMinRate` bytes received so far, so a large import on a slow but
//! steady link goes through while a stalled or trickling one is cut off. (tower-http's
//! body timeout restarts with every frame, so a byte every few seconds would hold it
//! forever.) The body's [`Reading`] is shared with the request's guard, which answers
//! `408` for a body cut off and starts the answer deadline once the body is in.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use http_body::{Frame, SizeHint};
use tokio::sync::watch;
use tokio::time::{Instant, Sleep, sleep_until};

/// Where a request body is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Bytes are still to come.
    Arriving,
    /// Read to its end, failed, or dropped unread.
    Done,
    /// Cut off for arriving too slowly.
    TooSlow,
}

/// The error a body cut off for slowness ends with.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived slower than the minimum rate")]
pub struct TooSlow;

/// The allowance of one body.
#[derive(Clone, Copy, Debug)]
pub struct MinRate {
    /// Time allowed beyond the bytes' share.
    pub grace: Duration,
    /// Bytes per second.
    pub bytes_per_second: u64,
}

impl MinRate {
    /// How long after its start a body that has delivered `received` bytes may wait for more.
    pub fn allowance(self, received: u64) -> Duration {
        let share = received.saturating_mul(1000) / self.bytes_per_second.max(1);
        self.grace + Duration::from_millis(share)
    }
}

/// A body under a [`MinRate`].
pub struct MinRateBody {
    inner: Body,
    rate: MinRate,
    started: Instant,
    received: u64,
    timer: Pin<Box<Sleep>>,
    reading: watch::Sender<Reading>,
}

impl MinRateBody {
    /// Wraps `inner`; the receiver follows it (and reads [`Reading::Done`] once it is dropped).
    pub fn wrap(inner: Body, rate: MinRate) -> (Self, watch::Receiver<Reading>) {
        let started = Instant::now();
        let first = if inner.is_end_stream() {
            Reading::Done
        } else {
            Reading::Arriving
        };
        let (reading, follow) = watch::channel(first);
        let body = Self {
            inner,
            rate,
            started,
            received: 0,
            timer: Box::pin(sleep_until(started + rate.allowance(0))),
            reading,
        };
        (body, follow)
    }

    fn end(&self, how: Reading) {
        self.reading.send_if_modified(|reading| {
            let changed = *reading == Reading::Arriving;
            if changed {
                *reading = how;
            }
            changed
        });
    }
}

impl HttpBody for MinRateBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        if *self.reading.borrow() == Reading::TooSlow {
            return Poll::Ready(None);
        }
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(None) => {
                this.end(Reading::Done);
                Poll::Ready(None)
            }
            Poll::Ready(Some(Err(error))) => {
                this.end(Reading::Done);
                Poll::Ready(Some(Err(error)))
            }
            Poll::Pending => {
                let due = this.started + this.rate.allowance(this.received);
                if this.timer.deadline() != due {
                    this.timer.as_mut().reset(due);
                }
                if this.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                this.end(Reading::TooSlow);
                Poll::Ready(Some(Err(axum::Error::new(TooSlow))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        *self.reading.borrow() == Reading::TooSlow || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_byte_received_earns_its_share_of_time() {
        let rate = MinRate {
            grace: Duration::from_secs(10),
            bytes_per_second: 8192,
        };
        assert_eq!(rate.allowance(0), Duration::from_secs(10));
        assert_eq!(rate.allowance(8192), Duration::from_secs(11));
        assert_eq!(
            rate.allowance(16 * 1024 * 1024),
            Duration::from_secs(10 + 2048)
        );
    }
}
