//! Real `participant` processes, for tests that must kill one.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tempfile::TempDir;

/// A running `participant` process, killed when dropped; its standard error goes to a log.
pub struct Process {
    child: Child,
    log: PathBuf,
    _dir: TempDir,
}

impl Process {
    /// Starts `participant <args>`.
    pub fn start(args: &[String]) -> Self {
        Self::start_with_env(args, &[])
    }

    /// Starts `participant <args>` with extra environment.
    pub fn start_with_env(args: &[String], env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let log = dir.path().join("participant.log");
        let child = Command::new(env!("CARGO_BIN_EXE_participant"))
            .args(args)
            .envs(env.iter().copied())
            .env("RUST_LOG", "info")
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
