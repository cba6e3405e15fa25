//! `participant cancel ID`: cancel an operation and print its status document.

use anyhow::Context as _;
use reqwest::Method;

use crate::cli::OperationArgs;

pub async fn run(args: OperationArgs) -> anyhow::Result<()> {
    let path = format!("/api/operations/{}", args.id);
    let response = super::request(&args.client, Method::DELETE, &path)
        .send()
        .await
        .context("cancelling the operation")?;
    let document = super::json_or_problem(response).await?;
    println!("{}", serde_json::to_string_pretty(&document)?);
    Ok(())
}
