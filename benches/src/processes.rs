//! The roles under test as real processes of the release binary: started with the run's
//! prefix and servers, their standard error in a log file, killed when dropped, and
//! their peak resident set size read from `/proc/<pid>/status` (`VmHWM`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// Starts role processes that share one prefix, NATS and Valkey.
#[derive(Clone, Debug)]
pub struct Launcher {
    pub bin: PathBuf,
    pub nats_url: String,
    pub valkey_url: String,
    pub prefix: String,
    pub log_dir: PathBuf,
    pub rust_log: String,
    /// Settings passed by environment: secrets, which a command line would show in
    /// `/proc/<pid>/cmdline`.
    pub env: Vec<(String, String)>,
}

/// One running role process.
pub struct RoleProcess {
    pub role: String,
    child: Child,
    log: PathBuf,
}

impl Launcher {
    /// `participant <role> --nats-url .. --valkey-url .. --prefix .. <args>`, with `env`.
    pub fn spawn(&self, role: &str, args: &[String]) -> anyhow::Result<RoleProcess> {
        let mut command = Command::new(&self.bin);
        command
            .arg(role)
            .args(["--nats-url", &self.nats_url])
            .args(["--valkey-url", &self.valkey_url])
            .args(["--prefix", &self.prefix])
            .args(args)
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .env("RUST_LOG", &self.rust_log);
        RoleProcess::spawn(&format!("participant {role}"), command, &self.log_dir)
    }

    /// An intake on a free port, once `/health/ready` answers `200`; returns its base URL.
    pub async fn intake(&self, args: &[String]) -> anyhow::Result<(RoleProcess, String)> {
        let port = free_port()?;
        let mut all = vec!["--listen".to_owned(), format!("127.0.0.1:{port}")];
        all.extend_from_slice(args);
        let mut process = self.spawn("intake", &all)?;
        let base = format!("http://127.0.0.1:{port}");
        let client = crate::submit::client()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            process.check_running()?;
            let ready = client.get(format!("{base}/health/ready")).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok((process, base));
            }
            if Instant::now() > deadline {
                bail!(
                    "the intake was not ready within 30 s; its log:\n{}",
                    process.log_tail()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl RoleProcess {
    /// Starts `command` as the process called `role`: no input, its standard error in a
    /// log file of `log_dir` (its output discarded), killed if dropped.
    pub fn spawn(role: &str, mut command: Command, log_dir: &Path) -> anyhow::Result<Self> {
        let index = std::fs::read_dir(log_dir).map_or(0, Iterator::count);
        let name: String = role
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { '-' })
            .collect();
        let log = log_dir.join(format!("{name}-{index}.log"));
        let stderr =
            std::fs::File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {role}"))?;
        Ok(Self {
            role: role.to_owned(),
            child,
            log,
        })
    }

    /// An error with the end of its log if the process has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => bail!(
                "{} exited ({status}); its log:\n{}",
                self.role,
                self.log_tail()
            ),
            Err(error) => bail!("{}: {error}", self.role),
        }
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// Peak resident set size in bytes (`VmHWM`), while the process runs.
    pub fn peak_rss(&self) -> Option<u64> {
        let pid = self.child.id()?;
        peak_rss_of(&PathBuf::from(format!("/proc/{pid}/status")))
    }

    /// Stops the process as an orchestrator would: SIGTERM, then SIGKILL if it has not
    /// ended within 5 s; reaps it.
    pub async fn stop(mut self) {
        if let Some(pid) = self.pid().and_then(|p| i32::try_from(p).ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
            let exited = tokio::time::timeout(Duration::from_secs(5), self.child.wait()).await;
            if exited.is_ok() {
                return;
            }
        }
        let _ = self.child.kill().await;
    }

    /// The last lines the process logged.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

fn peak_rss_of(status: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(status).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// A port nobody listens on now.
pub fn free_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// The largest peak RSS among `processes` of one role, in bytes.
pub fn peak_of(processes: &[RoleProcess]) -> u64 {
    processes
        .iter()
        .filter_map(RoleProcess::peak_rss)
        .max()
        .unwrap_or(0)
}
