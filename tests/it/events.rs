//! Contract §7: every state change is published to
//! `<prefix>.events.<tenant>.<operation>.<event>` and kept in a JetStream stream, in
//! lifecycle order for one operation.

use std::time::Duration;

use serde_json::Value;
use uuid::Uuid;

use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::events::replay;
use crate::support::servers;

#[tokio::test]
async fn events_of_one_operation_arrive_in_lifecycle_order() {
    let options = Options {
        simulated_item_latency: Duration::from_micros(500),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let response = app
        .api(reqwest::Method::POST, "/api/sampleentities/bulk-import")
        .header("x-correlation-id", "corr-events-1")
        .json(&serde_json::json!({ "items": named_items("ev", 3_000) }))
        .send()
        .await
        .unwrap();
    let id: Uuid = response.json::<Value>().await.unwrap()["operationId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let events = replay(&app, id).await;

    let names: Vec<&str> = events
        .iter()
        .map(|(_, _, p)| p["event"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"accepted"), "{names:?}");
    assert_eq!(names.get(1), Some(&"running"), "{names:?}");
    assert_eq!(names.last(), Some(&"completed"), "{names:?}");
    assert!(
        names[2..names.len() - 1].iter().all(|n| *n == "progress"),
        "{names:?}"
    );
    assert!(
        names.contains(&"progress"),
        "a 1.5 s import reports progress: {names:?}"
    );

    let mut last_current = 0;
    for (subject, headers, payload) in &events {
        let event = payload["event"].as_str().unwrap();
        assert_eq!(
            subject,
            &format!("{}.events.{}.{id}.{event}", app.prefix(), app.tenant)
        );
        assert_eq!(
            headers.get("Nats-Msg-Id").unwrap().as_str(),
            payload["eventId"].as_str().unwrap()
        );
        assert_eq!(
            headers.get("X-Correlation-Id").unwrap().as_str(),
            "corr-events-1"
        );
        assert!(payload["occurredAt"].is_string());
        let doc = &payload["operation"];
        assert_eq!(doc["operationId"], id.to_string());
        assert_eq!(doc["correlationId"], "corr-events-1");
        let current = doc["progress"]["current"].as_u64().unwrap();
        assert!(current >= last_current, "progress went backwards in events");
        last_current = current;
    }
    let completed = &events.last().unwrap().2["operation"];
    assert_eq!(completed["status"], "completed");
    assert_eq!(completed["result"]["succeeded"], 3_000);
}

#[tokio::test]
async fn the_terminal_events_document_is_the_stored_status_document() {
    let app = spawn_app_with(servers::shared(), Options::default()).await;
    let mut items = named_items("doc", 600);
    for index in [3, 260, 599] {
        items[index] = serde_json::json!({ "name": "" });
    }
    items[400] = items[10].clone();
    let id = app.accepted(items).await;
    let stored = app.until_terminal(id, Duration::from_secs(30)).await;
    assert_eq!(stored["result"]["failed"], 4, "{stored}");

    let events = replay(&app, id).await;
    let (_, _, completed) = events.last().expect("events");
    assert_eq!(completed["event"], "completed");
    assert_eq!(
        completed["operation"], stored,
        "the event reports the operation as a GET reads it"
    );
    let (_, _, running) = &events[1];
    assert_eq!(running["event"], "running");
    let claimed = &running["operation"];
    assert_eq!(claimed["status"], "running", "{claimed}");
    assert_eq!(claimed["progress"]["current"], 0, "{claimed}");
    assert_eq!(claimed["progress"]["total"], 600, "{claimed}");
    assert_eq!(claimed["startedAt"], stored["startedAt"], "{claimed}");
    assert_eq!(claimed["createdAt"], stored["createdAt"], "{claimed}");
    assert!(claimed["completedAt"].is_null(), "{claimed}");
    assert_eq!(claimed["attempt"], 1, "{claimed}");
}
