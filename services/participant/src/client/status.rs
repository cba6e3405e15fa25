//! `participant status ID`: print an operation's status document.

use anyhow::Context as _;
use reqwest::Method;

use crate::cli::OperationArgs;

pub async fn run(args: OperationArgs) -> anyhow::Result<()> {
    let path = format!("/api/operations/{}", args.id);
    let response = super::request(&args.client, Method::GET, &path)
        .send()
        .await
        .context("asking for the operation")?;
    let document = super::json_or_problem(response).await?;
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}
