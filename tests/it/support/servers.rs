//! `nats-server` and `valkey-server` (or `redis-server`) processes on free ports, each in a
//! temporary directory of its own. A server runs under a small shell watchdog that kills it
//! when this test binary exits, however it exits, so no server outlives the tests.
//! Tests may stop (SIGKILL), freeze (SIGSTOP), thaw and restart a server of their own.

use std::io::Read as _;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

/// The servers most tests share: started once per test binary. With
/// `PARTICIPANT_TEST_VALKEY_CLUSTER=1` their Valkey is a 3-master Valkey Cluster, so the
/// contract tests run against one too.
pub fn shared() -> &'static Servers {
    static SHARED: OnceLock<Servers> = OnceLock::new();
    SHARED.get_or_init(|| {
        if std::env::var_os("PARTICIPANT_TEST_VALKEY_CLUSTER").is_some_and(|v| v == "1") {
            Servers::start_valkey_cluster()
        } else {
            Servers::start(false)
        }
    })
}

/// A NATS server and a Valkey server; with `nats_peers`, `nats` is the first node of a
/// JetStream cluster, and with `valkey_peers`, `valkey` is the first master of a Valkey
/// Cluster (the other masters follow it in `valkey_peers`, then the replicas, if any).
pub struct Servers {
    pub nats: Server,
    pub nats_peers: Vec<Server>,
    pub valkey: Server,
    pub valkey_peers: Vec<Server>,
}

impl Servers {
    /// Starts both. `durable` Valkey writes every change to its append-only file, so a
    /// restarted Valkey has what it had, as a production one would.
    pub fn start(durable: bool) -> Self {
        Self {
            nats: Server::start(Kind::Nats),
            nats_peers: Vec::new(),
            valkey_peers: Vec::new(),
            valkey: Server::start(if durable {
                Kind::DurableValkey
            } else {
                Kind::Valkey
            }),
        }
    }

    /// Every NATS node, the first one first.
    pub fn nats_nodes(&mut self) -> impl Iterator<Item = &mut Server> {
        std::iter::once(&mut self.nats).chain(self.nats_peers.iter_mut())
    }

    /// The NATS URL, or a comma-separated list of every node's.
    pub fn nats_url(&self) -> String {
        self.nats_seeds().join(",")
    }

    /// The URL of each NATS node.
    pub fn nats_seeds(&self) -> Vec<String> {
        std::iter::once(&self.nats)
            .chain(&self.nats_peers)
            .map(|node| format!("nats://127.0.0.1:{}", node.port))
            .collect()
    }

    /// The Valkey URL, or a comma-separated list of every cluster node's (replicas too: any
    /// node tells the client where the slots are).
    pub fn valkey_url(&self) -> String {
        std::iter::once(&self.valkey)
            .chain(&self.valkey_peers)
            .map(|node| format!("redis://127.0.0.1:{}", node.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn valkey_cluster(&self) -> bool {
        !self.valkey_peers.is_empty()
    }
}

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    Nats,
    Valkey,
    DurableValkey,
}

/// One server process, restartable on the same port with the same data.
pub struct Server {
    kind: Kind,
    pub port: u16,
    /// Arguments after the usual ones (a cluster node's).
    extra: Vec<String>,
    dir: TempDir,
    watchdog: Option<Child>,
    pid: Option<Pid>,
}

impl Server {
    fn start(kind: Kind) -> Self {
        Self::start_with(kind, free_port(), Vec::new())
    }

    /// Starts a server on `port` with `extra` arguments.
    pub fn start_with(kind: Kind, port: u16, extra: Vec<String>) -> Self {
        let mut server = Self {
            kind,
            port,
            extra,
            dir: tempfile::tempdir().expect("temporary directory"),
            watchdog: None,
            pid: None,
        };
        server.restart();
        server
    }

    /// Starts the process (again), on the same port and data directory, and waits until
    /// it accepts connections.
    pub fn restart(&mut self) {
        self.stop();
        let (program, mut args) = self.command();
        args.extend(self.extra.iter().cloned());
        let log = self.dir.path().join("server.log");
        let mut watchdog = Command::new("sh")
            .arg("-c")
            .arg(r#"log="$1"; shift; "$@" >>"$log" 2>&1 & echo $!; read _; kill -9 $! 2>/dev/null"#)
            .arg("watchdog")
            .arg(&log)
            .arg(program)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting a server under its watchdog");
        let mut pid_line = String::new();
        let mut stdout = watchdog.stdout.take().expect("watchdog stdout");
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).unwrap_or(0) == 1 && byte[0] != b'\n' {
            pid_line.push(char::from(byte[0]));
        }
        let pid: i32 = pid_line.trim().parse().expect("server pid");
        self.pid = Some(Pid::from_raw(pid));
        self.watchdog = Some(watchdog);
        self.wait_until_listening(&log);
    }

    /// Kills the process with SIGKILL, as a crash would, and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(pid) = self.pid.take() {
            let _ = kill(pid, Signal::SIGCONT);
            let _ = kill(pid, Signal::SIGKILL);
        }
        if let Some(mut watchdog) = self.watchdog.take() {
            drop(watchdog.stdin.take());
            let _ = watchdog.wait();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_ok() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Freezes the process (SIGSTOP): it keeps its port but answers nothing.
    pub fn freeze(&self) {
        if let Some(pid) = self.pid {
            kill(pid, Signal::SIGSTOP).expect("SIGSTOP");
        }
    }

    /// Thaws a frozen process (SIGCONT).
    pub fn thaw(&self) {
        if let Some(pid) = self.pid {
            kill(pid, Signal::SIGCONT).expect("SIGCONT");
        }
    }

    fn command(&self) -> (PathBuf, Vec<String>) {
        let data = self.dir.path().join("data");
        std::fs::create_dir_all(&data).expect("data directory");
        let data = data.display().to_string();
        let port = self.port.to_string();
        match self.kind {
            Kind::Nats => (
                binary(&["nats-server"], "PARTICIPANT_NATS_SERVER"),
                vec![
                    "-a".into(),
                    "127.0.0.1".into(),
                    "-p".into(),
                    port,
                    "-js".into(),
                    "-sd".into(),
                    data,
                ],
            ),
            Kind::Valkey | Kind::DurableValkey => {
                let durable = matches!(self.kind, Kind::DurableValkey);
                (
                    binary(
                        &["valkey-server", "redis-server"],
                        "PARTICIPANT_VALKEY_SERVER",
                    ),
                    vec![
                        "--bind".into(),
                        "127.0.0.1".into(),
                        "--port".into(),
                        port,
                        "--dir".into(),
                        data,
                        "--save".into(),
                        String::new(),
                        "--appendonly".into(),
                        if durable { "yes" } else { "no" }.into(),
                        "--appendfsync".into(),
                        "always".into(),
                    ],
                )
            }
        }
    }

    fn wait_until_listening(&self, log: &Path) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "{:?} did not listen on {}; its log:\n{}",
                self.kind,
                self.port,
                std::fs::read_to_string(log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The server binary: from its variable, the project's `.tools/bin` (what
/// `deploy/setup.sh` installs), or the PATH.
fn binary(names: &[&str], variable: &str) -> PathBuf {
    if let Some(path) = std::env::var_os(variable) {
        return PathBuf::from(path);
    }
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/bin");
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![tools];
    dirs.extend(std::env::split_paths(&path));
    dirs.push(PathBuf::from("/usr/sbin"));
    names
        .iter()
        .flat_map(|name| dirs.iter().map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| panic!("none of {names:?} found; run deploy/setup.sh"))
}
