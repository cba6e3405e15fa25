//! Real `participant` processes, for tests that must kill one.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

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
        let dir = tempfile::tempdir().expect("temporary directory");
        let log = dir.path().join("participant.log");
        let child = Command::new(env!("CARGO_BIN_EXE_participant"))
            .args(args)
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
