//! The command line: the roles, and a client for people.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use shared::config::{ConnectionConfig, Settings};
use shared::ids::{OperationId, TenantId};

#[derive(Parser, Debug)]
#[command(
    name = "participant",
    version,
    about = "An event-driven participant on a message queue: HTTP intake, JetStream workers, Valkey state."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the HTTP API.
    Intake(RoleArgs),
    /// Run one worker; start as many as wanted, they share one durable consumer.
    Worker(RoleArgs),
    /// Run the callback dispatcher; several may run.
    Dispatcher(RoleArgs),
    /// Run the intake, a worker and (when a signing secret is set) the dispatcher in one
    /// process, for development.
    All(RoleArgs),
    /// Submit a bulk import from a JSON file (`{"items": [...]}`).
    Submit(SubmitArgs),
    /// Show an operation's status document.
    Status(OperationArgs),
    /// Follow an operation's events with a progress bar until it ends, then its result.
    Watch(OperationArgs),
    /// Cancel an operation.
    Cancel(OperationArgs),
    /// Start the compensation (saga rollback) of a completed operation.
    Compensate(OperationArgs),
    /// List the tenant's operations, newest first.
    List(ListArgs),
    /// Print operation events as they happen.
    Events(EventsArgs),
    /// Print a new webhook signing secret (`whsec_...`).
    Secret,
}

#[derive(Args, Debug)]
pub struct RoleArgs {
    #[command(flatten)]
    pub settings: Settings,
}

/// Where the intake is, and as which tenant to speak.
#[derive(Args, Debug, Clone)]
pub struct ClientArgs {
    /// Base URL of the intake.
    #[arg(
        long = "url",
        env = "Client__Url",
        default_value = "http://127.0.0.1:8080"
    )]
    pub url: String,
    /// Tenant to act as.
    #[arg(
        long = "tenant",
        env = "Client__TenantId",
        default_value = "00000000-0000-0000-0000-000000000001"
    )]
    pub tenant: TenantId,
}

#[derive(Args, Debug)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// JSON file holding `{"items": [{"name": ...}, ...]}`.
    pub file: PathBuf,
}

#[derive(Args, Debug)]
pub struct OperationArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// The operation id.
    pub id: OperationId,
}

#[derive(Args, Debug)]
pub struct ListArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    /// Only operations in this status.
    #[arg(long = "status", value_parser = ["accepted", "running", "completed", "failed", "cancelled"])]
    pub status: Option<String>,
    /// Operations per page, 1 to 100.
    #[arg(long = "limit", default_value_t = 20, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub limit: u8,
    /// The cursor a previous page printed.
    #[arg(long = "cursor")]
    pub cursor: Option<String>,
}

#[derive(Args, Debug)]
pub struct EventsArgs {
    #[command(flatten)]
    pub connection: ConnectionConfig,
    /// Only this tenant's events.
    #[arg(long = "tenant")]
    pub tenant: Option<TenantId>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }
}
