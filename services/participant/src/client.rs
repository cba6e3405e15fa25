//! A client for people: submit an import, show, follow, cancel or compensate an operation,
//! list the tenant's operations, tail events, make a signing secret.

pub mod cancel;
pub mod compensate;
pub mod events;
pub mod list;
pub mod secret;
pub mod status;
pub mod submit;
pub mod watch;

use anyhow::Context as _;
use reqwest::{RequestBuilder, Response};
use shared::contract::headers;

use crate::cli::ClientArgs;

/// A request to the intake as the configured tenant.
fn request(args: &ClientArgs, method: reqwest::Method, path: &str) -> RequestBuilder {
    reqwest::Client::new()
        .request(method, format!("{}{path}", args.url.trim_end_matches('/')))
        .header(headers::TENANT_ID, args.tenant.to_string())
}

/// The body as JSON when the answer is a success, else an error carrying the problem.
async fn json_or_problem(response: Response) -> anyhow::Result<serde_json::Value> {
    let status = response.status();
    let body: serde_json::Value = response.json().await.context("reading the answer")?;
    if status.is_success() {
        Ok(body)
    } else {
        anyhow::bail!("{status}: {}", serde_json::to_string_pretty(&body)?)
    }
}

/// Prints a `202` body, then (on stderr) how to follow the operation it started.
fn print_accepted(accepted: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(accepted)?);
    if let Some(id) = accepted.get("operationId").and_then(|v| v.as_str()) {
        eprintln!("follow it with: participant watch {id}");
    }
    Ok(())
}
