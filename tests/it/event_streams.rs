//! Contract §7a: operation events over HTTP as server-sent events, read from the events
//! stream, resumable with `Last-Event-ID`, bounded per intake.

use std::time::Duration;

use futures::StreamExt as _;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use uuid::Uuid;

use shared::config::EdgeConfig;

use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::sse::{self, Message};
use crate::support::{TestApp, servers, spawn_app, wait};

fn events_path(id: Uuid) -> String {
    format!("/api/operations/{id}/events")
}

fn names(messages: &[Message]) -> Vec<&str> {
    messages.iter().map(|m| m.event.as_str()).collect()
}

/// The lifecycle of contract §7, in order: `accepted`, `running`, progress, the end.
fn assert_lifecycle(messages: &[Message], id: Uuid, end: &str) {
    let names = names(messages);
    assert_eq!(names.first(), Some(&"accepted"), "{names:?}");
    assert_eq!(names.get(1), Some(&"running"), "{names:?}");
    assert_eq!(names.last(), Some(&end), "{names:?}");
    assert!(
        names[2..names.len() - 1].iter().all(|n| *n == "progress"),
        "{names:?}"
    );
    assert!(messages.windows(2).all(|w| w[0].id < w[1].id), "ids rise");
    for message in messages {
        assert_eq!(message.data["event"], message.event.as_str());
        assert_eq!(message.data["operation"]["operationId"], id.to_string());
    }
}

#[tokio::test]
async fn a_late_subscriber_gets_the_whole_lifecycle_and_the_end() {
    let app = spawn_app().await;
    let id = app.accepted(named_items("late", 600)).await;
    app.until_terminal(id, Duration::from_secs(20)).await;

    let messages = sse::to_end(sse::open(app.api(Method::GET, &events_path(id))).await).await;
    assert_lifecycle(&messages, id, "completed");
    let last = &messages.last().unwrap().data["operation"];
    assert_eq!(last["result"]["succeeded"], 600);
}

#[tokio::test]
async fn a_live_subscriber_follows_the_operation_to_its_end() {
    let app = spawn_app_with(
        servers::shared(),
        Options {
            worker: false,
            ..Default::default()
        },
    )
    .await;
    let id = app.accepted(named_items("live", 300)).await;
    let mut stream = sse::open(app.api(Method::GET, &events_path(id))).await;
    let first = sse::take(&mut stream, 1).await;
    assert_eq!(names(&first), ["accepted"]);

    let _worker = app.start_worker().await;
    let mut messages = first;
    messages.extend(sse::to_end(stream).await);
    assert_lifecycle(&messages, id, "completed");
}

#[tokio::test]
async fn last_event_id_resumes_exactly_after_it_on_another_intake() {
    let app = spawn_app().await;
    let id = app.accepted(named_items("resume", 800)).await;
    app.until_terminal(id, Duration::from_secs(20)).await;
    let whole = sse::to_end(sse::open(app.api(Method::GET, &events_path(id))).await).await;
    assert!(whole.len() >= 3, "{:?}", names(&whole));

    let other = app.another_intake().await;
    let url = format!("{}{}", other.base_url, events_path(id));
    let request = app
        .http
        .get(&url)
        .header("x-tenant-id", app.tenant.to_string());
    let mut first = sse::open(request).await;
    let head = sse::take(&mut first, 2).await;
    drop(first);
    other.stop().await;
    assert_eq!(head, whole[..2]);

    let resumed = app
        .api(Method::GET, &events_path(id))
        .header("last-event-id", head[1].id.to_string());
    let rest = sse::to_end(sse::open(resumed).await).await;
    assert_eq!(rest, whole[2..], "no gap and no repeat");
}

#[tokio::test]
async fn the_tenant_stream_takes_the_tenant_from_the_query_and_replays_since() {
    let app = spawn_app().await;
    let first = app.accepted(named_items("t1", 5)).await;
    app.until_terminal(first, Duration::from_secs(20)).await;
    let elsewhere = Uuid::new_v4();
    let foreign = app
        .http
        .post(format!("{}/api/sampleentities/bulk-import", app.base_url))
        .header("x-tenant-id", elsewhere.to_string())
        .json(&serde_json::json!({"items": [{"name": "x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::ACCEPTED);

    let url = format!("{}/api/events?tenantId={}", app.base_url, app.tenant);
    let mut live = sse::open(app.http.get(&url)).await;
    let second = app.accepted(named_items("t2", 5)).await;
    let seen = sse::take(&mut live, 1).await;
    assert_eq!(seen[0].event, "accepted");
    assert_eq!(seen[0].data["operation"]["operationId"], second.to_string());

    let replay = format!("{url}&since=0");
    let mut replayed = sse::open(app.http.get(&replay)).await;
    let history = sse::take(&mut replayed, 1).await;
    assert_eq!(history[0].event, "accepted");
    assert_eq!(
        history[0].data["operation"]["operationId"],
        first.to_string()
    );
    let mut after = Vec::new();
    while after.last().is_none_or(|m: &Message| m.id != seen[0].id) {
        after.push(
            sse::next(&mut replayed)
                .await
                .expect("the replay reaches the live event"),
        );
    }
    assert!(
        after
            .iter()
            .all(|m| m.data["operation"]["tenantId"] == app.tenant.to_string()),
        "only the tenant's own events"
    );
}

#[tokio::test]
async fn streams_are_refused_and_problems_for_what_they_cannot_serve() {
    let app = spawn_app().await;
    let id = app.accepted(named_items("p", 1)).await;
    let other_tenant = app
        .http
        .get(format!("{}{}", app.base_url, events_path(id)))
        .header("x-tenant-id", Uuid::new_v4().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(other_tenant.status(), StatusCode::NOT_FOUND);
    let no_tenant = app
        .http
        .get(format!("{}/api/events", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(no_tenant.status(), StatusCode::BAD_REQUEST);
    let bad_cursor = app
        .api(Method::GET, &events_path(id))
        .header("last-event-id", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(bad_cursor.status(), StatusCode::BAD_REQUEST);
    let problem: Value = bad_cursor.json().await.unwrap();
    assert_eq!(problem["code"], "invalid-cursor");
    let json_only = app
        .api(Method::GET, "/api/events")
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(json_only.status(), StatusCode::NOT_ACCEPTABLE);
}

#[tokio::test]
async fn idle_streams_carry_comment_lines() {
    let app = spawn_app_with(
        servers::shared(),
        Options {
            event_keep_alive: Duration::from_millis(200),
            ..Default::default()
        },
    )
    .await;
    let response = app.api(Method::GET, "/api/events").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while !text.lines().any(|line| line.starts_with(':')) {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next())
            .await
            .expect("a keep-alive within 5 s")
            .expect("the stream stays open")
            .unwrap();
        text.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn a_quiet_stream_outlives_the_edges_idle_and_head_deadlines() {
    let edge = EdgeConfig {
        header_read_timeout: Duration::from_millis(200),
        idle_timeout: Duration::from_millis(300),
        ..EdgeConfig::default()
    };
    let app = spawn_app_with(
        servers::shared(),
        Options {
            worker: false,
            event_keep_alive: Duration::from_secs(5),
            edge,
            ..Default::default()
        },
    )
    .await;
    let id = app.accepted(named_items("quiet", 3)).await;
    let mut stream = sse::open(app.api(Method::GET, &events_path(id))).await;
    assert_eq!(names(&sse::take(&mut stream, 1).await), ["accepted"]);
    let cut_before = app.cutoffs("idle") + app.cutoffs("header_read");

    // What is under test is time itself: a second of silence, over three idle deadlines.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let _worker = app.start_worker().await;
    let rest = sse::to_end(stream).await;
    assert_eq!(rest.last().map(|m| m.event.as_str()), Some("completed"));
    let cut_after = app.cutoffs("idle") + app.cutoffs("header_read");
    assert_eq!(cut_after, cut_before, "the stream was not cut off");
}

#[tokio::test]
async fn streams_are_bounded_and_a_closed_one_releases_what_it_held() {
    let app = spawn_app_with(
        servers::shared(),
        Options {
            max_event_streams: 2,
            ..Default::default()
        },
    )
    .await;
    let consumers_before = event_consumers(&app).await;
    let first = sse_stream(&app).await;
    let _second = sse_stream(&app).await;
    assert_eq!(open_streams(&app).await, 2);
    assert_eq!(event_consumers(&app).await, consumers_before + 2);

    let refused = app.api(Method::GET, "/api/events").send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(problem["code"], "too-many-event-streams");

    drop(first);
    wait::until(
        "the closed stream released",
        Duration::from_secs(10),
        || async {
            let released = open_streams(&app).await == 1
                && event_consumers(&app).await == consumers_before + 1;
            released.then_some(())
        },
    )
    .await;
    let _third = sse_stream(&app).await;
}

/// An open tenant stream; dropped, the client leaves.
async fn sse_stream(app: &TestApp) -> reqwest::Response {
    let response = app.api(Method::GET, "/api/events").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response
}

/// `participant_event_streams_open` on the intake's `/metrics`.
async fn open_streams(app: &TestApp) -> u64 {
    let text = app
        .http
        .get(format!("{}/metrics", app.base_url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix("participant_event_streams_open "))
        .and_then(|value| value.trim().parse().ok())
        .expect("the open-streams gauge")
}

/// Consumers of the app's events stream, as the server counts them.
async fn event_consumers(app: &TestApp) -> usize {
    let js = async_nats::jetstream::new(app.nats.clone());
    let mut stream = js
        .get_stream(format!("{}_EVENTS", app.prefix()))
        .await
        .unwrap();
    stream.info().await.unwrap().state.consumer_count
}
