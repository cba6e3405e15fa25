//! Real `participant` processes, for tests that must kill one.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

use super::app::TestApp;
use super::servers::free_port;
use super::wait;

/// A running `participant` process, killed when dropped; its standard error goes to a log.
pub struct Process {
    child: Child,
    log: PathBuf,
    _dir: TempDir,
}

impl Process {
    /// Starts `participant <args>` with `env`, and none of the `Section__Key` settings
    /// of the test's own environment, so a test means the same wherever it runs.
    pub fn start(args: &[String], env: &[(String, String)]) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let log = dir.path().join("participant.log");
        let mut command = Command::new(env!("CARGO_BIN_EXE_participant"));
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().contains("__") {
                command.env_remove(name);
            }
        }
        let child = command
            .args(args)
            .env("RUST_LOG", "info")
            .envs(env.iter().map(|(name, value)| (name, value)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("starting participant");
        Self {
            child,
            log,
            _dir: dir,
        }
    }

    /// Sends a signal (SIGSTOP, SIGCONT, SIGTERM).
    pub fn signal(&self, signal: Signal) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        kill(pid, signal).expect("signal");
    }

    /// How it exited, once it has.
    pub fn try_exit_status(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGKILL, and wait until it is gone.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Its command line as any user of the machine sees it (`/proc/<pid>/cmdline`), once
    /// the kernel shows it: right after the spawn returns, the new program's arguments may
    /// not be in place yet, and the file reads empty.
    pub async fn command_line(&self) -> String {
        let path = format!("/proc/{}/cmdline", self.child.id());
        wait::until("the process's command line", Duration::from_secs(5), || {
            let cmdline = std::fs::read(&path).expect("the process's command line");
            let shown = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            async move { (!shown.is_empty()).then_some(shown) }
        })
        .await
    }

    /// Waits (at most 10 s) until it has exited, and returns how.
    pub async fn until_exited(&mut self) -> std::process::ExitStatus {
        wait::until("the process to exit", Duration::from_secs(10), || {
            let exited = self.try_exit_status();
            async move { exited }
        })
        .await
    }

    /// The lines it has logged so far that are JSON (`--log-format json`), parsed.
    pub fn json_log(&self) -> Vec<serde_json::Value> {
        self.log()
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    /// What it has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An intake process for `app` that aborts when it reaches the fail point `point`, once it
/// is live; returns it with its base URL.
pub async fn doomed_intake(app: &TestApp, point: &str) -> (Process, String) {
    let port = free_port();
    let mut flags = vec!["intake".to_owned()];
    flags.extend(app.process_flags());
    flags.extend(["--listen".into(), format!("127.0.0.1:{port}")]);
    let mut env = app.process_env();
    env.push(("PARTICIPANT_FAIL_POINT".into(), point.into()));
    let doomed = Process::start(&flags, &env);
    let url = format!("http://127.0.0.1:{port}");
    wait::until("the doomed intake", Duration::from_secs(20), || async {
        reqwest::get(format!("{url}/health/live"))
            .await
            .ok()
            .map(drop)
    })
    .await;
    (doomed, url)
}
