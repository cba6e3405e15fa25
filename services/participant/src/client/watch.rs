//! `participant watch ID`: a progress bar that follows an operation by long polling until
//! it ends, then its result.

use std::time::Duration;

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::{Method, StatusCode, header};
use shared::contract::StatusDocument;

use crate::cli::OperationArgs;

/// Seconds each long poll may wait for a change.
const WAIT_SECONDS: u64 = 10;

pub async fn run(args: OperationArgs) -> anyhow::Result<()> {
    let path = format!("/api/operations/{}?waitSeconds={WAIT_SECONDS}", args.id);
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template(
            "{spinner} {msg:>10} [{bar:40}] {pos}/{len} items ({percent}%) {elapsed}",
        )?
        .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut etag: Option<String> = None;
    loop {
        let mut request = super::request(&args.client, Method::GET, &path);
        if let Some(tag) = &etag {
            request = request.header(header::IF_NONE_MATCH, tag);
        }
        let response = request.send().await.context("polling the operation")?;
        if response.status() == StatusCode::NOT_MODIFIED {
            continue;
        }
        etag = response
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = super::json_or_problem(response).await?;
        let doc: StatusDocument =
            serde_json::from_value(body).context("reading the status document")?;
        bar.set_length(doc.progress.total);
        bar.set_position(doc.progress.current);
        bar.set_message(doc.status.as_str());
        if doc.status.is_terminal() {
            bar.finish();
            if let Some(result) = &doc.result {
                println!(
                    "{}: {} processed, {} succeeded, {} failed",
                    doc.status.as_str(),
                    result.processed,
                    result.succeeded,
                    result.failed
                );
                for error in result.errors.iter().take(20) {
                    println!("  item {}: {}", error.index, error.error);
                }
                if result.errors.len() > 20 {
                    println!("  ... and {} more", result.errors.len() - 20);
                }
            }
            if let Some(problem) = &doc.error {
                println!("{}: {}", doc.status.as_str(), problem.detail);
            }
            return Ok(());
        }
    }
}
