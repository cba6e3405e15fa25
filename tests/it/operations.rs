//! Contract §2 and §3: reading operations: `ETag` and `304`, `Retry-After`, long polling,
//! progress that never goes backwards, the heartbeat, and the tenant's list.

use std::cell::RefCell;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::app::{Options, TestApp, named_items, spawn_app_with};
use crate::support::{servers, spawn_app, wait};

async fn without_worker() -> TestApp {
    let options = Options {
        worker: false,
        ..Options::default()
    };
    spawn_app_with(servers::shared(), options).await
}

/// The operation's `ETag` now.
async fn current_etag(app: &TestApp, id: uuid::Uuid) -> String {
    get(app, &format!("/api/operations/{id}"), None)
        .await
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn get(app: &TestApp, path: &str, if_none_match: Option<&str>) -> reqwest::Response {
    let mut request = app.api(Method::GET, path);
    if let Some(tag) = if_none_match {
        request = request.header("if-none-match", tag);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn etag_and_retry_after_follow_the_state() {
    let app = without_worker().await;
    let id = app.accepted(named_items("e", 2)).await;
    let path = format!("/api/operations/{id}");

    let pending = get(&app, &path, None).await;
    assert_eq!(pending.status(), StatusCode::OK);
    assert!(pending.headers().contains_key("retry-after"));
    let tag = pending.headers()["etag"].to_str().unwrap().to_owned();
    let unchanged = get(&app, &path, Some(&tag)).await;
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(unchanged.headers()["etag"], tag.as_str());
    assert!(unchanged.bytes().await.unwrap().is_empty());

    let _worker = app.start_worker().await.drop_guard();
    app.until_terminal(id, Duration::from_secs(30)).await;
    let done = get(&app, &path, Some(&tag)).await;
    assert_eq!(
        done.status(),
        StatusCode::OK,
        "a stale tag gets the document"
    );
    assert!(!done.headers().contains_key("retry-after"));
    let done_tag = done.headers()["etag"].to_str().unwrap().to_owned();
    assert_ne!(done_tag, tag);
    let again = get(&app, &path, Some(&done_tag)).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(!again.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn long_poll_returns_as_soon_as_the_document_changes() {
    let app = without_worker().await;
    let id = app.accepted(named_items("lp", 3)).await;
    let path = format!("/api/operations/{id}?waitSeconds=30");
    let tag = current_etag(&app, id).await;

    let started = Instant::now();
    let poll = get(&app, &path, Some(&tag));
    let worker = async {
        let stop = app.start_worker().await;
        stop.drop_guard()
    };
    let (response, _worker) = tokio::join!(poll, worker);
    let elapsed = started.elapsed();
    assert_eq!(response.status(), StatusCode::OK);
    assert_ne!(response.headers()["etag"], tag.as_str());
    let doc: Value = response.json().await.unwrap();
    assert_ne!(doc["status"], "accepted");
    assert!(
        elapsed < Duration::from_secs(15),
        "held {elapsed:?} despite a change"
    );
}

#[tokio::test]
async fn long_poll_holds_until_the_wait_passes_when_nothing_changes() {
    let app = without_worker().await;
    let id = app.accepted(named_items("hold", 1)).await;
    let tag = current_etag(&app, id).await;
    let started = Instant::now();
    let response = get(
        &app,
        &format!("/api/operations/{id}?waitSeconds=1"),
        Some(&tag),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NOT_MODIFIED);
    assert!(started.elapsed() >= Duration::from_millis(950));
}

#[tokio::test]
async fn long_poll_on_a_terminal_operation_or_a_stale_tag_returns_at_once() {
    let app = spawn_app().await;
    let id = app.accepted(named_items("done", 1)).await;
    app.until_terminal(id, Duration::from_secs(30)).await;
    let started = Instant::now();
    let response = get(&app, &format!("/api/operations/{id}?waitSeconds=30"), None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let stale = get(
        &app,
        &format!("/api/operations/{id}?waitSeconds=30"),
        Some("\"r0\""),
    )
    .await;
    assert_eq!(stale.status(), StatusCode::OK);
    assert!(started.elapsed() < Duration::from_secs(10));

    let too_long = get(&app, &format!("/api/operations/{id}?waitSeconds=31"), None).await;
    assert_eq!(too_long.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn progress_never_goes_backwards_under_polling() {
    let options = Options {
        simulated_item_latency: Duration::from_micros(300),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let id = app.accepted(named_items("p", 5_000)).await;
    let seen = RefCell::new(Vec::new());
    let statuses = RefCell::new(Vec::new());
    let doc = wait::until("completion", Duration::from_secs(60), || async {
        let doc = app.operation(id).await;
        seen.borrow_mut()
            .push(doc["progress"]["current"].as_u64().unwrap());
        statuses
            .borrow_mut()
            .push(doc["status"].as_str().unwrap().to_owned());
        (doc["status"] == "completed").then_some(doc)
    })
    .await;
    let (seen, statuses) = (seen.into_inner(), statuses.into_inner());
    assert!(
        seen.windows(2).all(|w| w[0] <= w[1]),
        "progress went backwards: {seen:?}"
    );
    assert!(
        seen.iter().any(|c| *c > 0 && *c < 5_000),
        "never saw progress in between: {seen:?}"
    );
    let order = ["accepted", "running", "completed"];
    let ranks: Vec<usize> = statuses
        .iter()
        .map(|s| order.iter().position(|o| o == s).unwrap())
        .collect();
    assert!(ranks.windows(2).all(|w| w[0] <= w[1]), "{statuses:?}");
    assert_eq!(doc["progress"]["percentage"], 100);
}

#[tokio::test]
async fn updated_at_advances_while_running_even_without_progress() {
    let options = Options {
        simulated_item_latency: Duration::from_millis(20),
        ack_wait: Duration::from_secs(3),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let id = app.accepted(named_items("slow", 250)).await;
    let first = wait::until("running", Duration::from_secs(20), || async {
        let doc = app.operation(id).await;
        (doc["status"] == "running").then_some(doc)
    })
    .await;
    let later = wait::until("a heartbeat", Duration::from_secs(20), || async {
        let doc = app.operation(id).await;
        (doc["updatedAt"] != first["updatedAt"]).then_some(doc)
    })
    .await;
    assert_eq!(later["status"], "running");
    assert_eq!(
        later["progress"]["current"], 0,
        "the one batch of 250 items takes 5 s, so this change is the heartbeat"
    );
}

#[tokio::test]
async fn the_list_is_the_tenants_newest_first_filtered_and_paged() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let id = app.accepted(named_items(&format!("l{i}"), 1)).await;
        app.until_terminal(id, Duration::from_secs(30)).await;
        ids.push(id);
    }
    ids.reverse();
    let list = |query: String| {
        let request = app.api(Method::GET, &format!("/api/operations{query}"));
        async move {
            let response = request.send().await.unwrap();
            (response.status(), response.json::<Value>().await.unwrap())
        }
    };
    let ids_of = |body: &Value| -> Vec<Uuid> {
        body["operations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["operationId"].as_str().unwrap().parse().unwrap())
            .collect()
    };

    let (status, all) = list(String::new()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ids_of(&all), ids);
    assert_eq!(all["nextCursor"], Value::Null);

    let (_, first) = list("?limit=2".into()).await;
    assert_eq!(ids_of(&first), ids[..2]);
    let cursor = first["nextCursor"].as_str().unwrap().to_owned();
    let (_, second) = list(format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(ids_of(&second), ids[2..]);
    assert_eq!(second["nextCursor"], Value::Null);

    let (_, completed) = list("?status=completed".into()).await;
    assert_eq!(ids_of(&completed).len(), 3);
    let (_, accepted) = list("?status=accepted".into()).await;
    assert_eq!(accepted["operations"], json!([]));

    for bad in ["?status=done", "?limit=0", "?limit=101", "?cursor=%%%"] {
        let (status, problem) = list(bad.into()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
        assert_eq!(problem["status"], 400);
    }

    let other: Value = app
        .http
        .get(format!("{}/api/operations", app.base_url))
        .header("x-tenant-id", Uuid::new_v4().to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(other["operations"], json!([]));
}

#[tokio::test]
async fn a_terminal_operation_expires_after_the_retention_and_its_items_are_gone() {
    let app = spawn_app().await;
    let id = app
        .accepted(vec![json!({"name": "x"}), json!({"name": "x"})])
        .await;
    app.until_terminal(id, Duration::from_secs(30)).await;
    let mut conn = app.valkey().await;
    let ttl = |key: String| {
        let mut conn = conn.clone();
        async move {
            redis::cmd("TTL")
                .arg(key)
                .query_async::<i64>(&mut conn)
                .await
                .unwrap()
        }
    };
    let week = 7 * 24 * 3600;
    let record = ttl(format!("{}:op:{{{id}}}", app.prefix())).await;
    assert!(record > week - 60 && record <= week, "record ttl {record}");
    let errors = ttl(format!("{}:op:{{{id}}}:errors", app.prefix())).await;
    assert!(errors > week - 60 && errors <= week, "errors ttl {errors}");
    let items: i64 = redis::cmd("EXISTS")
        .arg(format!("{}:op:{{{id}}}:items", app.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        items, 0,
        "the input items are dropped once the operation ends"
    );
}

#[tokio::test]
async fn an_expired_operation_leaves_the_list_and_its_index() {
    let app = without_worker().await;
    let kept = app.accepted(named_items("kept", 1)).await;
    let expired = app.accepted(named_items("gone", 1)).await;
    let mut conn = app.valkey().await;
    let _: i64 = redis::cmd("DEL")
        .arg(format!("{}:op:{{{expired}}}", app.prefix()))
        .query_async(&mut conn)
        .await
        .unwrap();

    let list = app.operations_list().await;
    let ids: Vec<&str> = list["operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["operationId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [kept.to_string()]);
    let indexed: Vec<String> = redis::cmd("ZRANGE")
        .arg(app.key("ops"))
        .arg(0)
        .arg(-1)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        indexed,
        [kept.to_string()],
        "the expired entry left the index"
    );
}
