//! Contract §1 and §5: the headers every request may carry, and RFC 9457 problems on every
//! error, from every route, the fallback included.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::spawn_app;

/// Asserts the response is a problem of `status` with `code`, and returns it.
async fn problem(response: reqwest::Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let correlation = response.headers()["x-correlation-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], status.as_u16(), "{body}");
    assert_eq!(body["code"], code, "{body}");
    for member in ["type", "title", "detail", "instance"] {
        assert!(body[member].is_string(), "{member} missing: {body}");
    }
    assert!(body["retryable"].is_boolean(), "{body}");
    assert_eq!(body["correlationId"], correlation.as_str());
    body
}

#[tokio::test]
async fn tenant_is_required_and_must_be_a_uuid() {
    let app = spawn_app().await;
    let url = format!("{}/api/operations", app.base_url);
    let missing = app.http.get(&url).send().await.unwrap();
    problem(missing, StatusCode::BAD_REQUEST, "tenant-required").await;
    let invalid = app
        .http
        .get(&url)
        .header("x-tenant-id", "tenant-1")
        .send()
        .await
        .unwrap();
    problem(invalid, StatusCode::BAD_REQUEST, "tenant-invalid").await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    let unknown = app
        .api(Method::GET, "/api/nothing-here")
        .send()
        .await
        .unwrap();
    let body = problem(unknown, StatusCode::NOT_FOUND, "not-found").await;
    assert_eq!(body["instance"], "/api/nothing-here");
    let wrong_method = app
        .api(Method::PUT, "/api/sampleentities/bulk-import")
        .send()
        .await
        .unwrap();
    problem(
        wrong_method,
        StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
    )
    .await;
}

#[tokio::test]
async fn malformed_json_and_wrong_content_types_are_problems() {
    let app = spawn_app().await;
    let path = "/api/sampleentities/bulk-import";
    let malformed = app
        .api(Method::POST, path)
        .header("content-type", "application/json")
        .body("{\"items\": [")
        .send()
        .await
        .unwrap();
    problem(malformed, StatusCode::BAD_REQUEST, "malformed-json").await;
    let text = app
        .api(Method::POST, path)
        .header("content-type", "text/plain")
        .body("{\"items\": []}")
        .send()
        .await
        .unwrap();
    problem(
        text,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    )
    .await;
    let none = app.api(Method::POST, path).body("{}").send().await.unwrap();
    problem(
        none,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported-media-type",
    )
    .await;
}

#[tokio::test]
async fn unknown_api_versions_are_not_acceptable() {
    let app = spawn_app().await;
    let v2 = app
        .api(Method::GET, "/api/operations")
        .header("accept", "application/vnd.rithm.v2+json")
        .send()
        .await
        .unwrap();
    problem(v2, StatusCode::NOT_ACCEPTABLE, "not-acceptable").await;
    for accepted in [
        "application/vnd.rithm.v1+json",
        "application/json",
        "*/*",
        "text/html, application/json;q=0.5",
    ] {
        let ok = app
            .api(Method::GET, "/api/operations")
            .header("accept", accepted)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), StatusCode::OK, "Accept: {accepted}");
    }
}

#[tokio::test]
async fn correlation_id_is_echoed_or_generated() {
    let app = spawn_app().await;
    let given = app
        .api(Method::GET, "/api/operations")
        .header("x-correlation-id", "workflow-run-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(given.headers()["x-correlation-id"], "workflow-run-abc-123");
    let generated = app
        .api(Method::GET, "/api/operations")
        .send()
        .await
        .unwrap();
    let id = generated.headers()["x-correlation-id"].to_str().unwrap();
    assert!(id.parse::<uuid::Uuid>().is_ok(), "{id}");
}

#[tokio::test]
async fn correlation_org_actor_and_workflow_are_stored_on_the_operation() {
    let app = spawn_app().await;
    let response = app
        .api(Method::POST, "/api/sampleentities/bulk-import")
        .header("x-correlation-id", "run-42")
        .header("x-org-id", "org-123")
        .header("x-actor-id", "orchestrator-xo@system")
        .header("x-workflow-id", "workflow-abc-123")
        .header("x-workflow-step", "3")
        .header("x-workflow-name", "user-onboarding")
        .json(&json!({"items": [{"name": "a"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let id = response.json::<Value>().await.unwrap()["operationId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let doc = app.operation(id).await;
    assert_eq!(doc["correlationId"], "run-42");
    assert_eq!(doc["orgId"], "org-123");
    assert_eq!(doc["actorId"], "orchestrator-xo@system");
    assert_eq!(
        doc["workflow"],
        json!({"id": "workflow-abc-123", "step": "3", "name": "user-onboarding"})
    );
    assert_eq!(doc["tenantId"], app.tenant.to_string());
}

#[tokio::test]
async fn health_live_and_ready_list_checks_and_capabilities() {
    let app = spawn_app().await;
    let live = app
        .http
        .get(format!("{}/health/live", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), StatusCode::OK);
    let ready = app
        .http
        .get(format!("{}/health/ready", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), StatusCode::OK);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    assert_eq!(body["checks"], json!({"nats": "ok", "valkey": "ok"}));
    assert_eq!(body["apiVersions"], json!(["v1"]));
    let capabilities = body["capabilities"].as_array().unwrap();
    assert!(capabilities.contains(&json!("operations")));
    assert!(capabilities.contains(&json!("long-poll")));
    assert!(capabilities.contains(&json!("compensation")));
    for dialect in ["azure-monitor", "location-polling", "event-stream"] {
        assert!(capabilities.contains(&json!(dialect)), "{dialect}");
    }
}
