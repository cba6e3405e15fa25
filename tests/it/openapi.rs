//! `/openapi.json` (OpenAPI 3.1) is generated from the code: every route the intake serves
//! is documented, and every documented route is served.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::spawn_app;

/// The routes of the contract (§2, §3a, §7a).
const CONTRACT: [(&str, &str); 15] = [
    ("post", "/api/sampleentities"),
    ("get", "/api/sampleentities/{id}"),
    ("post", "/api/sampleentities/bulk-import"),
    ("get", "/api/operations"),
    ("get", "/api/operations/{id}"),
    ("delete", "/api/operations/{id}"),
    ("post", "/api/operations/{id}/compensate"),
    ("get", "/api/operations/{id}/monitor"),
    ("get", "/api/operations/{id}/result"),
    ("get", "/api/operations/{id}/events"),
    ("get", "/api/events"),
    ("get", "/health/live"),
    ("get", "/health/ready"),
    ("get", "/metrics"),
    ("get", "/openapi.json"),
];

#[tokio::test]
async fn every_route_served_is_documented_and_every_documented_route_is_served() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(format!("{}/openapi.json", app.base_url))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let document: Value = response.json().await.unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));

    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                documented.insert((method.clone(), path.clone()));
            }
        }
    }
    let contract: BTreeSet<(String, String)> = CONTRACT
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    assert_eq!(documented, contract);

    for (method, path) in &documented {
        let concrete = path.replace("{id}", &uuid::Uuid::new_v4().to_string());
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let answer = app
            .api(method.clone(), &concrete)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        let status = answer.status();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        let streams = answer
            .headers()
            .get("content-type")
            .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
        if streams {
            continue;
        }
        let body: Value = answer.json().await.unwrap_or(Value::Null);
        assert_ne!(
            body["detail"], "No such resource.",
            "{method} {path} fell through to the fallback"
        );
    }

    let import = &document["paths"]["/api/sampleentities/bulk-import"]["post"];
    let accepted_headers = &import["responses"]["202"]["headers"];
    for name in [
        "Location",
        "Operation-Location",
        "Azure-AsyncOperation",
        "Retry-After",
    ] {
        assert!(accepted_headers[name].is_object(), "202 header {name}");
    }
    let parameters = import["parameters"].as_array().unwrap();
    assert!(parameters.iter().any(|p| p["name"] == "Prefer"), "Prefer");
    let monitor = &document["components"]["schemas"]["MonitorStatus"];
    assert_eq!(
        monitor["enum"],
        serde_json::json!(["NotStarted", "Running", "Succeeded", "Failed", "Canceled"])
    );
    let events = &document["paths"]["/api/operations/{id}/events"]["get"]["responses"]["200"];
    assert!(events["content"]["text/event-stream"].is_object());

    let problem = &document["components"]["schemas"]["Problem"];
    assert!(problem["properties"]["correlationId"].is_object());
    let status_document = &document["components"]["schemas"]["StatusDocument"];
    assert!(status_document["properties"]["progress"].is_object());
}
