//! Contract §2 and §3: the bulk import from `202` to its result.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::{servers, spawn_app};

#[tokio::test]
async fn accepted_answer_has_the_contract_headers_and_body() {
    let app = spawn_app().await;
    let response = app.import(&json!({"items": [{"name": "a"}]})).await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let headers = response.headers().clone();
    let body: Value = response.json().await.unwrap();

    let id = body["operationId"].as_str().unwrap();
    assert!(id.parse::<uuid::Uuid>().is_ok());
    assert_eq!(body["status"], "accepted");
    let status_url = format!("/api/operations/{id}");
    assert_eq!(body["statusUrl"], status_url.as_str());
    let eta = body["estimatedCompletionTime"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(eta, &time::format_description::well_known::Rfc3339).is_ok(),
        "{eta}"
    );
    let absolute = format!("{}{status_url}", app.base_url);
    assert_eq!(headers["location"], absolute.as_str());
    let monitor = format!("{absolute}/monitor");
    assert_eq!(headers["operation-location"], monitor.as_str());
    assert_eq!(headers["azure-asyncoperation"], monitor.as_str());
    assert!(!headers.contains_key("preference-applied"));
    let retry_after: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry_after >= 1);
}

#[tokio::test]
async fn the_record_is_readable_the_instant_the_202_is_sent() {
    let app = spawn_app().await;
    for i in 0..20 {
        let response = app
            .import(&json!({"items": [{"name": format!("n{i}")}]}))
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        let read = app
            .http
            .get(&location)
            .header("x-tenant-id", app.tenant.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), StatusCode::OK, "import {i}");
    }
}

#[tokio::test]
async fn completes_with_counts_and_per_item_errors() {
    let app = spawn_app().await;
    let existing = app
        .api(Method::POST, "/api/sampleentities")
        .json(&json!({"name": "already-there"}))
        .send()
        .await
        .unwrap();
    assert_eq!(existing.status(), StatusCode::CREATED);

    let id = app
        .accepted(vec![
            json!({"name": "a", "extra": 1}),
            json!({"name": "b"}),
            json!({"name": "a"}),
            json!({"title": "no name"}),
            json!({"name": ""}),
            json!({"name": 5}),
            json!({"name": "already-there"}),
        ])
        .await;
    let doc = app.until_terminal(id, Duration::from_secs(30)).await;

    assert_eq!(doc["status"], "completed", "{doc}");
    assert_eq!(doc["kind"], "sampleentities.bulk-import");
    assert_eq!(
        doc["progress"],
        json!({"current": 7, "total": 7, "percentage": 100})
    );
    assert_eq!(doc["error"], Value::Null);
    let required = "Validation failed: name required";
    assert_eq!(
        doc["result"],
        json!({
            "processed": 7, "succeeded": 2, "failed": 5,
            "errors": [
                {"index": 2, "error": "Duplicate entry"},
                {"index": 3, "error": required},
                {"index": 4, "error": required},
                {"index": 5, "error": required},
                {"index": 6, "error": "Duplicate entry"},
            ]
        })
    );
    for field in ["createdAt", "startedAt", "updatedAt", "completedAt"] {
        assert!(doc[field].is_string(), "{field}: {doc}");
    }
    assert_eq!(doc["attempt"], 1);
    assert_eq!(app.entity_count().await, (3, 3));
}

#[tokio::test]
async fn a_later_import_reports_names_taken_by_an_earlier_one() {
    let app = spawn_app().await;
    let first = app.accepted(named_items("x", 3)).await;
    app.until_terminal(first, Duration::from_secs(30)).await;
    let second = app.accepted(named_items("x", 5)).await;
    let doc = app.until_terminal(second, Duration::from_secs(30)).await;
    assert_eq!(doc["result"]["succeeded"], 2);
    assert_eq!(doc["result"]["failed"], 3);
    let indices: Vec<u64> = doc["result"]["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["index"].as_u64().unwrap())
        .collect();
    assert_eq!(indices, vec![0, 1, 2]);
}

#[tokio::test]
async fn the_envelope_is_checked_synchronously_and_then_no_operation_exists() {
    let app = spawn_app().await;
    let cases = [
        (json!({}), "/items"),
        (json!({"items": "abc"}), "/items"),
        (json!({"items": []}), "/items"),
        (
            json!({"items": [{"name": "a"}, {"name": "b"}, 3]}),
            "/items/2",
        ),
        (json!({"items": [{"name": "a"}, null]}), "/items/1"),
        // serde reads a top-level array positionally: its first element stands for `items`.
        (json!([{"name": "a"}]), "/items"),
    ];
    for (body, pointer) in cases {
        let response = app.import(&body).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["pointer"], pointer, "{problem}");
    }
    let too_many = named_items("n", 100_001);
    let response = app.import(&json!({ "items": too_many })).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let list = app.operations_list().await;
    assert_eq!(list["operations"], json!([]));
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let options = Options {
        max_body_bytes: 64 * 1024,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let body = json!({ "items": named_items("long-name-to-fill-the-body", 4_000) });
    let plain = app.import(&body).await;
    let keyed = app
        .api(Method::POST, "/api/sampleentities/bulk-import")
        .header("idempotency-key", "k-too-large")
        .json(&body)
        .send()
        .await
        .unwrap();
    for response in [plain, keyed] {
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["status"], 413);
        assert_eq!(problem["code"], "payload-too-large");
    }
}

/// The largest import the contract allows goes through a `nats-server` with its default
/// 1 MiB message limit: the job message stays small.
#[tokio::test]
async fn the_largest_import_completes() {
    let app = spawn_app().await;
    let id = app.accepted(named_items("big", 100_000)).await;
    let doc = app.until_terminal(id, Duration::from_secs(240)).await;
    assert_eq!(doc["status"], "completed");
    assert_eq!(doc["result"]["succeeded"], 100_000);
    assert_eq!(app.entity_count().await, (100_000, 100_000));
}

#[tokio::test]
async fn another_tenants_operation_is_not_found() {
    let app = spawn_app().await;
    let id = app.accepted(named_items("t", 1)).await;
    let response = app
        .http
        .get(format!("{}/api/operations/{id}", app.base_url))
        .header("x-tenant-id", uuid::Uuid::new_v4().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["code"], "not-found");
}
