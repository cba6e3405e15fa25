//! `participant`: parses the command line, starts telemetry, connects, and hands over to a
//! role's `run` or to a client command. Nothing else lives here.

mod cli;
mod client;
mod roles;

use std::process::ExitCode;

use clap::Parser as _;
use clap::error::ErrorKind;
use shared::config::EXIT_CONFIG;

use crate::cli::{Cli, Command};

/// jemalloc instead of glibc's malloc: the roles allocate on one runtime thread and free on
/// another, which glibc's per-thread arenas handle badly. Measured in `BENCHMARKS.md`.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => ExitCode::SUCCESS,
                _ => ExitCode::from(EXIT_CONFIG as u8),
            };
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let result = match cli.command {
        Command::Intake(args) => roles::serve(args.settings, roles::Roles::Intake).await,
        Command::Worker(args) => roles::serve(args.settings, roles::Roles::Worker).await,
        Command::Dispatcher(args) => {
            if let Err(missing) = args.settings.callbacks.secrets() {
                eprintln!("error: {missing}");
                return ExitCode::from(EXIT_CONFIG as u8);
            }
            roles::serve(args.settings, roles::Roles::Dispatcher).await
        }
        Command::All(args) => roles::serve(args.settings, roles::Roles::All).await,
        Command::Submit(args) => client::submit::run(args).await,
        Command::Status(args) => client::status::run(args).await,
        Command::Watch(args) => client::watch::run(args).await,
        Command::Cancel(args) => client::cancel::run(args).await,
        Command::Compensate(args) => client::compensate::run(args).await,
        Command::List(args) => client::list::run(args).await,
        Command::Events(args) => client::events::run(args).await,
        Command::Secret => client::secret::run(),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            if error.is::<shared::connect::Unplaceable>()
                || error.is::<shared::config::Inconsistent>()
            {
                ExitCode::from(EXIT_CONFIG as u8)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}
