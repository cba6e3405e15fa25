//! The operator's console (`/ui`) in a real browser: headless Chromium over WebDriver,
//! against the real service. Each test reads what a person would see (the DOM's text and
//! the progress bar's value) and waits for it with a bound.
//!
//! `PARTICIPANT_SCREENSHOTS=docs cargo test -p participant --test it console` also saves
//! the README's pictures of each view.

mod served;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::app::{Options, TestApp, named_items, spawn_app_with};
use crate::support::browser::{Browser, PATIENCE};
use crate::support::{servers, spawn_app, wait};

/// The row of one operation in the list.
fn row(id: Uuid) -> String {
    format!("#operations tr[data-operation-id='{id}']")
}

fn operation_address(app: &TestApp, id: Uuid) -> String {
    format!("/ui/operations/{id}?tenantId={}", app.tenant)
}

/// Starts an import as workflow `wf-console`, step 2; returns its id.
async fn import_in_workflow(app: &TestApp, items: Vec<Value>) -> Uuid {
    let response = app
        .api(Method::POST, "/api/sampleentities/bulk-import")
        .header("x-workflow-id", "wf-console")
        .header("x-workflow-step", "2")
        .json(&json!({ "items": items }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let body: Value = response.json().await.unwrap();
    body["operationId"].as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn an_import_appears_in_the_list_and_its_page_follows_it_to_the_end() {
    let options = Options {
        simulated_item_latency: Duration::from_millis(6),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let browser = Browser::start().await;

    browser.goto(&format!("{}/ui", app.base_url)).await;
    browser
        .until_text("#tenant-needed", |t| t.contains("UUID"))
        .await;
    browser
        .type_into("#tenant", &format!("{}\u{e007}", app.tenant))
        .await;
    browser
        .until_text("#operations tbody", |t| t == "No operations yet.")
        .await;
    assert_eq!(
        browser.address().await,
        format!("/ui?tenantId={}", app.tenant)
    );

    // 1,000 items in batches of 250, 1.5 s each: two duplicates and one without a name.
    let mut items = named_items("console", 997);
    items.extend([
        json!({"name": "console-1"}),
        json!({"name": "console-2"}),
        json!({"size": 3}),
    ]);
    let id = import_in_workflow(&app, items).await;
    let small = app.accepted(named_items("small", 3)).await;
    browser
        .until_text(&format!("{} .kind", row(id)), |t| {
            t == "sampleentities.bulk-import"
        })
        .await;
    browser
        .until_text(&format!("{} .kind", row(small)), |t| !t.is_empty())
        .await;
    let order = browser
        .texts("#operations tbody tr a.id")
        .await
        .into_iter()
        .collect::<Vec<_>>();
    assert_eq!(order, [small.to_string(), id.to_string()], "newest first");
    assert_eq!(
        browser
            .text(&format!("{} .workflow", row(id)))
            .await
            .unwrap(),
        "wf-console / 2"
    );

    browser.click(&format!("{} a.id", row(id))).await;
    browser
        .until_text("#operation-id", |t| t == id.to_string())
        .await;
    assert_eq!(browser.address().await, operation_address(&app, id));
    browser
        .script("window.notReloaded = true; return null;", vec![])
        .await;
    let seen = RefCell::new(BTreeSet::new());
    wait::until("the bar at 100 %", PATIENCE, || async {
        let value = browser.attribute("#progress", "aria-valuenow").await?;
        seen.borrow_mut().insert(value.parse::<u8>().ok()?);
        (value == "100").then_some(())
    })
    .await;
    let seen = seen.into_inner();
    assert!(
        seen.iter().any(|v| (1..100).contains(v)),
        "the bar moved through {seen:?}"
    );
    browser
        .until_attribute("#status .status", "data-status", |s| s == "completed")
        .await;
    let reloaded = browser
        .script("return window.notReloaded === true;", vec![])
        .await;
    assert_eq!(reloaded, json!(true), "the page followed without reloading");

    let errors = [
        ["997", "Duplicate entry"],
        ["998", "Duplicate entry"],
        ["999", "Validation failed: name required"],
    ];
    assert_eq!(item_errors(&browser).await, errors);
    assert_eq!(browser.text("#failed-items").await.unwrap(), "3");
    let events = browser.texts("#timeline li .event").await;
    assert_eq!(events.first().map(String::as_str), Some("accepted"));
    assert_eq!(events.get(1).map(String::as_str), Some("running"));
    assert_eq!(events.last().map(String::as_str), Some("completed"));
    assert!(events.contains(&"progress".to_owned()), "{events:?}");

    // The same address, pasted, opens the same view.
    browser
        .goto(&format!("{}{}", app.base_url, operation_address(&app, id)))
        .await;
    browser
        .until_attribute("#status .status", "data-status", |s| s == "completed")
        .await;
    browser
        .until_text("#timeline", |t| t.contains("completed"))
        .await;
    assert_eq!(item_errors(&browser).await, errors);
    browser.screenshot("console-operation").await;

    // A refusal is shown as the problem the API answered.
    browser.click("#cancel").await;
    let question = browser.accept_confirmation().await;
    assert!(question.contains(&id.to_string()), "{question}");
    let problem = browser
        .until_text("#action-outcome .problem", |t| t.contains("409"))
        .await;
    assert!(
        problem.contains("Cancel refused: 409 Conflict"),
        "{problem}"
    );
    assert!(problem.contains("already completed"), "{problem}");
    assert!(problem.contains("operation-ended"), "{problem}");

    browser.click(".crumbs a").await;
    browser
        .until_attribute(&format!("{} .status", row(small)), "data-status", |s| {
            s == "completed"
        })
        .await;
    browser.screenshot("console-operations").await;
    browser.close().await;
}

/// The per-item errors table, as `[index, error]` rows.
async fn item_errors(browser: &Browser) -> Vec<[String; 2]> {
    let cells = browser.texts("#item-errors tbody td").await;
    cells
        .chunks(2)
        .map(|pair| [pair[0].clone(), pair[1].clone()])
        .collect()
}

#[tokio::test]
async fn a_large_import_is_cancelled_from_its_page() {
    let options = Options {
        simulated_item_latency: Duration::from_millis(20),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let id = app.accepted(named_items("large", 5_000)).await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}{}", app.base_url, operation_address(&app, id)))
        .await;
    browser
        .until_attribute("#status .status", "data-status", |s| s == "running")
        .await;

    browser.click("#cancel").await;
    let question = browser.accept_confirmation().await;
    assert!(
        question.starts_with(&format!("Cancel operation {id}?")),
        "{question}"
    );
    browser
        .until_attribute("#status .status", "data-status", |s| s == "cancelled")
        .await;
    // The answer to the DELETE may reach the page after the cancelled event does.
    browser
        .until_text("#action-outcome", |t| t.starts_with("Cancel requested"))
        .await;
    browser.until_text("#live", |t| t == "ended").await;
    let events = browser.texts("#timeline li .event").await;
    assert_eq!(events.last().map(String::as_str), Some("cancelled"));

    let doc = app.operation(id).await;
    assert_eq!(doc["status"], "cancelled");
    let shown: u8 = browser
        .attribute("#progress", "aria-valuenow")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        u64::from(shown),
        doc["progress"]["percentage"].as_u64().unwrap()
    );
    assert!(shown < 100, "cancelled part way");
    browser.close().await;
}

#[tokio::test]
async fn a_completed_import_is_compensated_from_its_page_and_each_links_to_the_other() {
    let app = spawn_app().await;
    let id = app.accepted(named_items("undo", 5)).await;
    app.until_terminal(id, PATIENCE).await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}{}", app.base_url, operation_address(&app, id)))
        .await;
    browser
        .until_text("#links", |t| t == "Not compensated.")
        .await;

    browser.click("#compensate").await;
    let question = browser.accept_confirmation().await;
    assert!(
        question.starts_with(&format!("Compensate operation {id}?")),
        "{question}"
    );
    let started = browser
        .until_text("#action-outcome", |t| t.starts_with("Compensation started"))
        .await;
    let compensation = app.operation(id).await["compensation"]["operationId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(started.contains(&compensation), "{started}");
    browser
        .until_text("#compensated-by", |t| t.contains("completed"))
        .await;

    browser.click("#compensated-by a").await;
    browser
        .until_text("#operation-id", |t| t == compensation)
        .await;
    browser
        .until_attribute("#status .status", "data-status", |s| s == "completed")
        .await;
    assert_eq!(
        browser.text("#compensates a").await.unwrap(),
        id.to_string()
    );
    assert_eq!(app.entity_count().await, (0, 0), "the import was undone");
    browser.close().await;
}

#[tokio::test]
async fn a_page_for_another_tenant_never_shows_the_operation() {
    let app = spawn_app().await;
    let other = Uuid::new_v4();
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/ui?tenantId={other}", app.base_url))
        .await;
    browser
        .until_text("#operations tbody", |t| t == "No operations yet.")
        .await;

    let mine = app.accepted(named_items("mine", 3)).await;
    app.until_terminal(mine, PATIENCE).await;
    let response = app
        .http
        .post(format!("{}/api/sampleentities/bulk-import", app.base_url))
        .header("x-tenant-id", other.to_string())
        .json(&json!({"items": named_items("theirs", 3)}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let theirs: Value = response.json().await.unwrap();
    let theirs = theirs["operationId"].as_str().unwrap().to_owned();
    browser
        .until_text("#operations tbody tr a.id", |t| t == theirs)
        .await;
    assert_eq!(browser.texts("#operations tbody tr a.id").await, [theirs]);

    browser
        .goto(&format!(
            "{}/ui/operations/{mine}?tenantId={other}",
            app.base_url
        ))
        .await;
    let problem = browser.until_text(".problem", |t| t.contains("404")).await;
    assert!(problem.contains("No such operation."), "{problem}");
    assert_eq!(browser.text("#progress").await, None);
    assert_eq!(browser.text("#details").await, None);
    browser.close().await;
}

#[tokio::test]
async fn the_list_filters_by_status_and_pages_with_the_cursor() {
    let options = Options {
        worker: false,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let mut ids = Vec::new();
    for n in 0..22 {
        ids.push(app.accepted(named_items(&format!("page{n}"), 1)).await);
    }
    let response = app
        .api(Method::DELETE, &format!("/api/operations/{}", ids[3]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}/ui?tenantId={}", app.base_url, app.tenant))
        .await;
    browser
        .until_text(&format!("{} .kind", row(ids[21])), |t| !t.is_empty())
        .await;
    assert_eq!(browser.texts("#operations tbody tr").await.len(), 20);

    browser.click(".pager a").await;
    browser
        .until_text(&format!("{} .kind", row(ids[0])), |t| !t.is_empty())
        .await;
    let rest = browser.texts("#operations tbody tr a.id").await;
    assert_eq!(rest, [ids[1].to_string(), ids[0].to_string()]);
    assert!(browser.address().await.contains("cursor="));

    browser
        .click("#status-filter option[value=cancelled]")
        .await;
    browser
        .until_text("#operations tbody tr a.id", |t| t == ids[3].to_string())
        .await;
    assert_eq!(browser.texts("#operations tbody tr").await.len(), 1);
    assert_eq!(
        browser.address().await,
        format!("/ui?tenantId={}&status=cancelled", app.tenant)
    );
    browser.close().await;
}

#[tokio::test]
async fn the_service_view_shows_readiness_and_the_queue_refreshed_on_its_own() {
    let options = Options {
        worker: false,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let browser = Browser::start().await;
    browser.goto(&format!("{}/ui/service", app.base_url)).await;
    browser
        .until_text("#readiness-status", |t| t == "ready")
        .await;
    assert_eq!(
        browser.texts("#checks tbody tr").await,
        ["natsok", "valkeyok"]
    );
    let capabilities = browser.texts("#capabilities li").await;
    for wanted in ["operations", "cancellation", "compensation", "event-stream"] {
        assert!(capabilities.iter().any(|c| c == wanted), "{capabilities:?}");
    }
    browser.until_text("#jobs-pending", |t| t == "0").await;
    assert_eq!(browser.text("#dead-letter-jobs").await.unwrap(), "0");

    app.accepted(named_items("queued", 2)).await;
    browser.until_text("#jobs-pending", |t| t == "1").await;
    let reads: u32 = browser
        .attribute("#refreshed", "data-reads")
        .await
        .unwrap()
        .parse()
        .unwrap();
    assert!(reads >= 2, "read again on its own ({reads} reads)");
    browser.screenshot("console-service").await;
    browser.close().await;
}

#[tokio::test]
async fn many_per_item_errors_are_paged_in_the_page() {
    let app = spawn_app().await;
    let items = (0..120).map(|_| json!({"name": "same"})).collect();
    let id = app.accepted(items).await;
    app.until_terminal(id, PATIENCE).await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("{}{}", app.base_url, operation_address(&app, id)))
        .await;
    browser
        .until_text("#item-errors-position", |t| t == "1–50 of 119")
        .await;
    let first = item_errors(&browser).await;
    assert_eq!(first.len(), 50);
    assert_eq!(first[0], ["1".to_owned(), "Duplicate entry".to_owned()]);

    browser.click("#item-errors-next").await;
    browser
        .until_text("#item-errors-position", |t| t == "51–100 of 119")
        .await;
    assert_eq!(item_errors(&browser).await[0][0], "51");
    browser.click("#item-errors-next").await;
    browser
        .until_text("#item-errors-position", |t| t == "101–119 of 119")
        .await;
    let last = item_errors(&browser).await;
    assert_eq!(last.len(), 19);
    assert_eq!(last[18][0], "119");
    let next = browser.attribute("#item-errors-next", "disabled").await;
    assert_eq!(next.as_deref(), Some(""), "no page after the last");
    browser.close().await;
}
