//! The console as HTTP: its page and files come from the binary with a strict content
//! policy, and `GET /ui/api/service` reads the queue counts from JetStream.

use std::time::Duration;

use async_nats::jetstream;
use reqwest::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::support::app::{Options, TestApp, named_items, spawn_app_with};
use crate::support::{servers, spawn_app, wait};

async fn get(app: &TestApp, path: &str, accept: &str) -> reqwest::Response {
    app.http
        .get(format!("{}{path}", app.base_url))
        .header("accept", accept)
        .send()
        .await
        .unwrap()
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response.headers()[name].to_str().unwrap()
}

#[tokio::test]
async fn every_view_is_the_page_and_its_files_are_embedded() {
    let app = spawn_app().await;
    let browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    for path in [
        "/ui".to_owned(),
        format!("/ui?tenantId={}", app.tenant),
        format!("/ui/operations/{}?tenantId={}", Uuid::new_v4(), app.tenant),
        "/ui/service".to_owned(),
    ] {
        let page = get(&app, &path, browser_accept).await;
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        assert!(header(&page, "content-type").starts_with("text/html"));
        assert!(header(&page, "content-security-policy").contains("script-src 'self'"));
        assert!(header(&page, "content-security-policy").contains("frame-ancestors 'none'"));
        assert_eq!(header(&page, "x-content-type-options"), "nosniff");
        let body = page.text().await.unwrap();
        assert!(body.contains(r#"<script type="module" src="/ui/assets/console.js">"#));
    }

    let module = get(&app, "/ui/assets/operation.js", "*/*").await;
    assert_eq!(module.status(), StatusCode::OK);
    assert!(header(&module, "content-type").starts_with("text/javascript"));
    assert!(
        module
            .text()
            .await
            .unwrap()
            .contains("export async function renderOperation")
    );
    let style = get(&app, "/ui/assets/console.css", "text/css,*/*;q=0.1").await;
    assert!(header(&style, "content-type").starts_with("text/css"));

    let missing = get(&app, "/ui/assets/nothing.js", "*/*").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(header(&missing, "content-type"), "application/problem+json");
    let problem: Value = missing.json().await.unwrap();
    assert_eq!(problem["detail"], "No such console file.");
    assert_eq!(problem["instance"], "/ui/assets/nothing.js");
}

#[tokio::test]
async fn the_service_counts_are_the_queue_and_the_dead_letters_in_jetstream() {
    let options = Options {
        worker: false,
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let counts = || async {
        let response = get(&app, "/ui/api/service", "application/json").await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json::<Value>().await.unwrap()
    };
    // Readiness needs the jobs and events streams; the dead-letter stream and the workers'
    // consumer are declared right after them, and until then the counts are a 503.
    wait::until("the topology declared", Duration::from_secs(10), || async {
        let response = get(&app, "/ui/api/service", "application/json").await;
        (response.status() == StatusCode::OK).then_some(())
    })
    .await;
    let idle = counts().await;
    assert_eq!(idle["jobs"]["pending"], 0);
    assert_eq!(idle["jobs"]["ackPending"], 0);
    assert_eq!(
        idle["deadLetters"],
        serde_json::json!({"jobs": 0, "callbacks": 0})
    );

    app.accepted(named_items("wait", 1)).await;
    app.accepted(named_items("wait", 1)).await;
    let js = jetstream::new(app.nats.clone());
    for subject in ["jobs", "callbacks", "callbacks"] {
        let subject = format!("{}.deadletter.{subject}.{}", app.prefix(), Uuid::new_v4());
        js.publish(subject, "{}".into())
            .await
            .unwrap()
            .await
            .unwrap();
    }
    let busy = wait::until("both jobs counted", Duration::from_secs(10), || async {
        let now = counts().await;
        (now["jobs"]["pending"] == 2).then_some(now)
    })
    .await;
    assert_eq!(
        busy["deadLetters"],
        serde_json::json!({"jobs": 1, "callbacks": 2})
    );

    let refused = get(&app, "/ui/api/service", "text/html").await;
    assert_eq!(refused.status(), StatusCode::NOT_ACCEPTABLE);
    assert_eq!(header(&refused, "content-type"), "application/problem+json");
}
