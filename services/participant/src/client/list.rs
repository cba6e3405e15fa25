//! `participant list`: the tenant's operations, newest first, as a table.

use anyhow::Context as _;
use reqwest::Method;
use serde::Deserialize;
use shared::contract::StatusDocument;

use crate::cli::ListArgs;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    operations: Vec<StatusDocument>,
    next_cursor: Option<String>,
}

pub async fn run(args: ListArgs) -> anyhow::Result<()> {
    let mut query = vec![("limit", args.limit.to_string())];
    if let Some(status) = &args.status {
        query.push(("status", status.clone()));
    }
    if let Some(cursor) = &args.cursor {
        query.push(("cursor", cursor.clone()));
    }
    let response = super::request(&args.client, Method::GET, "/api/operations")
        .query(&query)
        .send()
        .await
        .context("listing the operations")?;
    let page: Page = serde_json::from_value(super::json_or_problem(response).await?)
        .context("reading the list")?;
    print!("{}", table(&page.operations));
    if let Some(cursor) = page.next_cursor {
        eprintln!("more: participant list --cursor {cursor}");
    }
    Ok(())
}

/// One line per operation under a header, in aligned columns.
fn table(operations: &[StatusDocument]) -> String {
    let mut out = format!(
        "{:<36}  {:<26}  {:<9}  {:>15}  {:<20}  {}\n",
        "OPERATION", "KIND", "STATUS", "PROGRESS", "CREATED", "WORKFLOW"
    );
    for op in operations {
        let progress = format!(
            "{}/{} {:>3}%",
            op.progress.current, op.progress.total, op.progress.percentage
        );
        let workflow = op.workflow.as_ref().map_or_else(String::new, |w| {
            [w.id.as_deref(), w.step.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" step ")
        });
        out.push_str(&format!(
            "{:<36}  {:<26}  {:<9}  {:>15}  {:<20}  {}\n",
            op.operation_id,
            op.kind,
            op.status.as_str(),
            progress,
            op.created_at.get(..19).unwrap_or(&op.created_at),
            workflow
        ));
    }
    out
}
