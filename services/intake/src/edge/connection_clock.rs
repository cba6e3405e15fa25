//! When a connection is next due to be cut off. hyper's own `header_read_timeout` starts
//! when hyper begins to wait for a head, so it also runs through the idle time between
//! keep-alive requests and cannot tell a slow head from an idle connection; this clock can.
//! It hears of the bytes read ([`Watched`]), of each request handed to the service, and of
//! each response's end (a [`ResponseGuard`] dropped with the response body), and keeps
//! the deadline of the phase the connection is in:
//!
//! - reading a head: complete within `header_read_timeout` of its first byte (of the
//!   accept, or the handshake, on a new connection);
//! - idle between requests: the next request starts within `idle_timeout`;
//! - a request in hand, its body, its handler and a streamed answer (an event stream may
//!   last for minutes): no deadline here; the request's own deadlines bound it.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use super::Cutoff;

#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Reading a request head, due complete by then.
    Head(Instant),
    /// Between requests, due to see the next one start by then.
    Idle(Instant),
    /// A request in hand.
    Busy,
}

/// One connection's clock; clones share it.
#[derive(Clone)]
pub struct Clock {
    phase: Arc<watch::Sender<Phase>>,
    header_read: Duration,
    idle: Duration,
}

impl Clock {
    /// A clock for a connection whose first head starts now.
    pub fn start(header_read: Duration, idle: Duration) -> Self {
        let (phase, _) = watch::channel(Phase::Head(Instant::now() + header_read));
        Self {
            phase: Arc::new(phase),
            header_read,
            idle,
        }
    }

    /// A request's head is in and the request goes to the service.
    pub fn request_started(&self) {
        self.phase.send_replace(Phase::Busy);
    }

    /// Ends the request when dropped (hyper drops the response body once it has sent it,
    /// or when the connection ends).
    pub fn response_guard(&self) -> ResponseGuard {
        ResponseGuard(self.clone())
    }

    /// Bytes arrived: an idle connection starts reading a head.
    fn bytes_read(&self) {
        if matches!(*self.phase.borrow(), Phase::Idle(_)) {
            let due = Instant::now() + self.header_read;
            self.phase.send_if_modified(|phase| match phase {
                Phase::Idle(_) => {
                    *phase = Phase::Head(due);
                    true
                }
                _ => false,
            });
        }
    }

    /// Resolves when the phase the connection is in has run out of time, with the reason.
    pub async fn expired(&self) -> Cutoff {
        let mut phase = self.phase.subscribe();
        loop {
            let current = *phase.borrow_and_update();
            let (due, reason) = match current {
                Phase::Head(due) => (due, Cutoff::HeaderRead),
                Phase::Idle(due) => (due, Cutoff::Idle),
                Phase::Busy => {
                    // The sender lives in `self`, so this only returns on a change.
                    let _ = phase.changed().await;
                    continue;
                }
            };
            tokio::select! {
                () = sleep_until(due) => return reason,
                _ = phase.changed() => {}
            }
        }
    }
}

/// Marks the connection idle when dropped.
pub struct ResponseGuard(Clock);

impl Drop for ResponseGuard {
    fn drop(&mut self) {
        let clock = &self.0;
        clock
            .phase
            .send_replace(Phase::Idle(Instant::now() + clock.idle));
    }
}

/// A connection's byte stream, telling its clock when bytes arrive.
pub struct Watched<S> {
    inner: S,
    clock: Clock,
}

impl<S> Watched<S> {
    pub fn new(inner: S, clock: Clock) -> Self {
        Self { inner, clock }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let read = Pin::new(&mut self.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.clock.bytes_read();
        }
        read
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
