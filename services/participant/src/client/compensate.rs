//! `participant compensate ID`: start the compensation of a completed operation and print
//! where to follow it.

use anyhow::Context as _;
use reqwest::Method;

use crate::cli::OperationArgs;

pub async fn run(args: OperationArgs) -> anyhow::Result<()> {
    let path = format!("/api/operations/{}/compensate", args.id);
    let response = super::request(&args.client, Method::POST, &path)
        .send()
        .await
        .context("asking for the compensation")?;
    let accepted = super::json_or_problem(response).await?;
    super::print_accepted(&accepted)
}
