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
    println!("{}", serde_json::to_string_pretty(&accepted)?);
    if let Some(id) = accepted.get("operationId").and_then(|v| v.as_str()) {
        eprintln!("follow it with: participant watch {id}");
    }
    Ok(())
}
