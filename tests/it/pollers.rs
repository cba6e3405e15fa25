//! Contract §3a: the views other pollers read. The Azure status monitor named by
//! `Operation-Location`, and the `Location`-while-`202` view that Durable Functions'
//! `CallHttpAsync`, Logic Apps and ARM follow (with `Prefer: poll=location`). The real
//! client libraries drive these in `real_clients`.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::{TestApp, servers, spawn_app, wait};

fn no_worker() -> Options {
    Options {
        worker: false,
        ..Default::default()
    }
}

async fn get(app: &TestApp, url: &str) -> Response {
    app.http
        .get(url)
        .header("x-tenant-id", app.tenant.to_string())
        .send()
        .await
        .unwrap()
}

/// Starts an import with `prefer` (if any); the `202`'s headers.
async fn start(app: &TestApp, items: usize, prefer: Option<&str>) -> HeaderMap {
    let mut request = app
        .api(Method::POST, "/api/sampleentities/bulk-import")
        .json(&json!({ "items": named_items("poll", items) }));
    if let Some(prefer) = prefer {
        request = request.header("prefer", prefer);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    response.headers().clone()
}

fn header(headers: &HeaderMap, name: &str) -> String {
    headers[name].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_monitor_maps_the_lifecycle_and_location_gives_the_document() {
    let app = spawn_app_with(
        servers::shared(),
        Options {
            worker: false,
            simulated_item_latency: Duration::from_millis(5),
            ..Default::default()
        },
    )
    .await;
    let accepted = start(&app, 200, None).await;
    let monitor_url = header(&accepted, "operation-location");
    assert_eq!(header(&accepted, "azure-asyncoperation"), monitor_url);

    let waiting = get(&app, &monitor_url).await;
    assert_eq!(waiting.status(), StatusCode::OK);
    assert!(waiting.headers().contains_key("retry-after"));
    let monitor: Value = waiting.json().await.unwrap();
    assert_eq!(monitor["status"], "NotStarted");
    assert_eq!(monitor["percentComplete"], 0);
    assert!(monitor.get("error").is_none());
    let id: Uuid = monitor["id"].as_str().unwrap().parse().unwrap();
    let document = app.operation(id).await;
    assert_eq!(monitor["createdDateTime"], document["createdAt"]);

    let _worker = app.start_worker().await;
    let monitor_status = |wanted: &'static str| {
        let (app, url) = (&app, &monitor_url);
        async move {
            let monitor: Value = get(app, url).await.json().await.ok()?;
            (monitor["status"] == wanted).then_some(monitor)
        }
    };
    wait::until("Running", Duration::from_secs(20), || {
        monitor_status("Running")
    })
    .await;
    let done = wait::until("Succeeded", Duration::from_secs(30), || {
        monitor_status("Succeeded")
    })
    .await;
    assert_eq!(done["percentComplete"], 100);
    assert!(done.get("error").is_none());
    assert!(
        !get(&app, &monitor_url)
            .await
            .headers()
            .contains_key("retry-after")
    );

    let final_get = get(&app, &header(&accepted, "location")).await;
    assert_eq!(final_get.status(), StatusCode::OK);
    let document: Value = final_get.json().await.unwrap();
    assert_eq!(document["status"], "completed");
    assert_eq!(document["result"]["succeeded"], 200);
}

#[tokio::test]
async fn a_cancelled_operation_is_canceled_on_the_monitor_and_424_on_the_result_view() {
    let app = spawn_app_with(servers::shared(), no_worker()).await;
    let accepted = start(&app, 3, None).await;
    let location = header(&accepted, "location");
    let result_url = format!("{location}/result");
    let pending = get(&app, &result_url).await;
    assert_eq!(pending.status(), StatusCode::ACCEPTED);
    assert_eq!(header(pending.headers(), "location"), result_url);
    assert!(pending.headers().contains_key("retry-after"));
    let body: Value = pending.json().await.unwrap();
    assert_eq!(body["status"], "accepted");

    let cancel = app
        .http
        .delete(&location)
        .header("x-tenant-id", app.tenant.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), StatusCode::OK);

    let monitor: Value = get(&app, &header(&accepted, "operation-location"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(monitor["status"], "Canceled");
    assert_eq!(monitor["error"]["code"], "operation-cancelled");
    assert!(monitor["error"]["message"].is_string());

    let ended = get(&app, &result_url).await;
    assert_eq!(ended.status(), StatusCode::FAILED_DEPENDENCY);
    assert!(!ended.headers().contains_key("retry-after"));
    assert_eq!(
        header(ended.headers(), "content-type"),
        "application/problem+json"
    );
    let problem: Value = ended.json().await.unwrap();
    assert_eq!(problem["status"], 424);
    assert_eq!(problem["code"], "operation-cancelled");
    assert_eq!(problem["retryable"], false);
    assert_eq!(problem["operation"]["status"], "cancelled");
}

#[tokio::test]
async fn prefer_poll_location_points_location_at_the_result_view() {
    let app = spawn_app().await;
    let plain = start(&app, 1, None).await;
    assert!(!header(&plain, "location").ends_with("/result"));
    assert!(!plain.contains_key("preference-applied"));

    let preferred = start(&app, 1, Some("respond-async, poll=location")).await;
    let location = header(&preferred, "location");
    assert!(location.starts_with(&app.base_url), "{location}");
    assert!(location.ends_with("/result"), "{location}");
    assert_eq!(header(&preferred, "preference-applied"), "poll=location");
    assert!(header(&preferred, "operation-location").ends_with("/monitor"));
}

#[tokio::test]
async fn every_view_is_the_tenants_own() {
    let app = spawn_app().await;
    let id = app.accepted(named_items("own", 1)).await;
    for view in ["monitor", "result"] {
        let stranger = app
            .http
            .get(format!("{}/api/operations/{id}/{view}", app.base_url))
            .header("x-tenant-id", Uuid::new_v4().to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(stranger.status(), StatusCode::NOT_FOUND, "{view}");
    }
}

/// What Durable Functions' `CallHttpAsync` (and Logic Apps' asynchronous pattern) does:
/// while the answer is `202`, wait `Retry-After` and `GET` its `Location`; the first other
/// answer is the outcome. `between` runs after each `202`.
async fn call_http_async<F, Fut>(app: &TestApp, mut between: F) -> Response
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut response = app
        .api(Method::POST, "/api/sampleentities/bulk-import")
        .header("prefer", "poll=location")
        .json(&json!({ "items": named_items("durable", 50) }))
        .send()
        .await
        .unwrap();
    for _ in 0..60 {
        if response.status() != StatusCode::ACCEPTED {
            return response;
        }
        let location = header(response.headers(), "location");
        let retry_after: u64 = header(response.headers(), "retry-after").parse().unwrap();
        between(location.clone()).await;
        tokio::time::sleep(Duration::from_secs(retry_after)).await;
        response = get(app, &location).await;
    }
    panic!("still 202 after 60 polls");
}

#[tokio::test]
async fn a_durable_functions_poller_ends_with_200_and_the_result() {
    let app = spawn_app().await;
    let outcome = call_http_async(&app, |_| async {}).await;
    assert_eq!(outcome.status(), StatusCode::OK);
    let document: Value = outcome.json().await.unwrap();
    assert_eq!(document["status"], "completed");
    assert_eq!(document["result"]["succeeded"], 50);
}

#[tokio::test]
async fn a_durable_functions_poller_ends_with_424_for_a_cancelled_operation() {
    let app = spawn_app_with(servers::shared(), no_worker()).await;
    let outcome = call_http_async(&app, |location| {
        let app = &app;
        async move {
            let status_url = location.trim_end_matches("/result").to_owned();
            let cancel = app
                .http
                .delete(status_url)
                .header("x-tenant-id", app.tenant.to_string())
                .send()
                .await
                .unwrap();
            assert!(cancel.status().is_success());
        }
    })
    .await;
    assert_eq!(outcome.status(), StatusCode::FAILED_DEPENDENCY);
    let problem: Value = outcome.json().await.unwrap();
    assert_eq!(problem["code"], "operation-cancelled");
    assert_eq!(problem["operation"]["status"], "cancelled");
}
