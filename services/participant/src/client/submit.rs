//! `participant submit FILE`: start a bulk import and print where to follow it.

use anyhow::Context as _;
use reqwest::Method;

use crate::cli::SubmitArgs;

pub async fn run(args: SubmitArgs) -> anyhow::Result<()> {
    let body = tokio::fs::read(&args.file)
        .await
        .with_context(|| format!("reading {}", args.file.display()))?;
    let response = super::request(
        &args.client,
        Method::POST,
        "/api/sampleentities/bulk-import",
    )
    .header(reqwest::header::CONTENT_TYPE, "application/json")
    .body(body)
    .send()
    .await
    .context("sending the import")?;
    let accepted = super::json_or_problem(response).await?;
    super::print_accepted(&accepted)
}
