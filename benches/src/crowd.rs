//! The hostile crowd of the hostile part: idle keep-alive connections (one request, then
//! silence) and slowloris ones (a request head that never ends: one more header line a
//! second). Each client reconnects when the intake cuts it off, so the crowd keeps its
//! size; it counts the connections it holds and the times it was cut off. Also the
//! open-files limit such a crowd needs, raised for this process and the intake it starts.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use nix::sys::resource::{Resource, getrlimit, setrlimit};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Connections being opened at once, so the intake's listen backlog never overflows.
const CONNECTING_AT_ONCE: usize = 128;
/// A slowloris client's pause between header lines.
const TRICKLE_EVERY: Duration = Duration::from_secs(1);
/// Pause before a client tries again after a failed connect.
const RETRY_AFTER: Duration = Duration::from_millis(100);

/// The crowd, while it is held open.
pub struct Crowd {
    shared: Arc<Shared>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

struct Shared {
    address: SocketAddr,
    connecting: Semaphore,
    held: AtomicUsize,
    cut_off: AtomicU64,
}

#[derive(Clone, Copy)]
enum Kind {
    Idle,
    Slowloris,
}

impl Crowd {
    /// Opens `idle` and `slowloris` connections to `address`; returns once all are open,
    /// or fails after `bound`.
    pub async fn gather(
        address: SocketAddr,
        idle: usize,
        slowloris: usize,
        bound: Duration,
    ) -> anyhow::Result<Self> {
        let shared = Arc::new(Shared {
            address,
            connecting: Semaphore::new(CONNECTING_AT_ONCE),
            held: AtomicUsize::new(0),
            cut_off: AtomicU64::new(0),
        });
        let (stop, tasks) = (CancellationToken::new(), TaskTracker::new());
        let kinds = std::iter::repeat_n(Kind::Idle, idle)
            .chain(std::iter::repeat_n(Kind::Slowloris, slowloris));
        for kind in kinds {
            tasks.spawn(client(kind, shared.clone(), stop.clone()));
        }
        tasks.close();
        let crowd = Self {
            shared,
            stop,
            tasks,
        };
        let deadline = Instant::now() + bound;
        while crowd.held() < idle + slowloris {
            if Instant::now() > deadline {
                let held = crowd.held();
                crowd.disperse().await;
                anyhow::bail!(
                    "only {held} of {} hostile connections opened within {bound:?}",
                    idle + slowloris
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(crowd)
    }

    /// Connections open now.
    pub fn held(&self) -> usize {
        self.shared.held.load(Ordering::Relaxed)
    }

    /// Times the intake closed one of the crowd's connections.
    pub fn cut_off(&self) -> u64 {
        self.shared.cut_off.load(Ordering::Relaxed)
    }

    /// The fewest connections held, looked at every 100 ms for `span`.
    pub async fn fewest_held(&self, span: Duration) -> usize {
        let end = Instant::now() + span;
        let mut fewest = self.held();
        while Instant::now() < end {
            tokio::time::sleep(Duration::from_millis(100)).await;
            fewest = fewest.min(self.held());
        }
        fewest
    }

    /// Closes every connection.
    pub async fn disperse(self) {
        self.stop.cancel();
        self.tasks.wait().await;
    }
}

/// One client: connects, misbehaves until cut off, and again, until `stop`.
async fn client(kind: Kind, shared: Arc<Shared>, stop: CancellationToken) {
    while !stop.is_cancelled() {
        let opened = {
            let _turn = shared.connecting.acquire().await;
            open(kind, shared.address).await
        };
        let Ok(mut stream) = opened else {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(RETRY_AFTER) => continue,
            }
        };
        shared.held.fetch_add(1, Ordering::Relaxed);
        let closed = tokio::select! {
            () = stop.cancelled() => false,
            () = misbehave(kind, &mut stream) => true,
        };
        shared.held.fetch_sub(1, Ordering::Relaxed);
        if closed {
            shared.cut_off.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A connection with what the client sends first: a whole request (idle), or a request
/// line and one header (slowloris).
async fn open(kind: Kind, address: SocketAddr) -> std::io::Result<TcpStream> {
    let mut stream = TcpStream::connect(address).await?;
    match kind {
        Kind::Idle => {
            stream
                .write_all(b"GET /health/live HTTP/1.1\r\nHost: bench\r\n\r\n")
                .await?;
            let mut answer = Vec::new();
            let mut buf = [0u8; 1024];
            while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
                let read = stream.read(&mut buf).await?;
                if read == 0 {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
                answer.extend_from_slice(&buf[..read]);
            }
        }
        Kind::Slowloris => {
            stream
                .write_all(b"POST /api/sampleentities/bulk-import HTTP/1.1\r\nHost: bench\r\n")
                .await?;
        }
    }
    Ok(stream)
}

/// Returns when the intake closes the connection: an idle client says nothing more, a
/// slowloris one a header line a second.
async fn misbehave(kind: Kind, stream: &mut TcpStream) {
    let (mut reader, mut writer) = stream.split();
    let mut buf = [0u8; 1024];
    let mut line = 0u64;
    loop {
        tokio::select! {
            read = reader.read(&mut buf) => match read {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            },
            () = tokio::time::sleep(TRICKLE_EVERY), if matches!(kind, Kind::Slowloris) => {
                line += 1;
                let header = format!("X-Slow-{line}: 1\r\n");
                if writer.write_all(header.as_bytes()).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// Raises this process's soft limit on open files to at least `needed` (processes it
/// starts inherit it); fails, saying what to do, when the hard limit is lower.
pub fn raise_open_files(needed: u64) -> anyhow::Result<()> {
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).context("reading RLIMIT_NOFILE")?;
    if soft >= needed {
        return Ok(());
    }
    anyhow::ensure!(
        hard >= needed,
        "the hostile part needs {needed} open files and the hard limit is {hard}: raise it \
         (`ulimit -Hn {needed}` as root) or run it with fewer clients"
    );
    setrlimit(Resource::RLIMIT_NOFILE, needed, hard).context("raising RLIMIT_NOFILE")
}
