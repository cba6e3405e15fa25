//! Contract §2: `POST /api/sampleentities` (quick work, `201`) and `GET .../{id}`.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::spawn_app;

#[tokio::test]
async fn create_answers_201_with_location_and_the_entity() {
    let app = spawn_app().await;
    let response = app
        .api(Method::POST, "/api/sampleentities")
        .json(&json!({"name": "alice", "team": "blue"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["name"], "alice");
    assert_eq!(body["team"], "blue");
    assert!(body["createdAt"].is_string());
    let id = body["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/sampleentities/{id}"));

    let fetched = app.api(Method::GET, &location).send().await.unwrap();
    assert_eq!(fetched.status(), StatusCode::OK);
    assert_eq!(fetched.json::<Value>().await.unwrap(), body);
}

#[tokio::test]
async fn a_duplicate_name_is_a_409_problem() {
    let app = spawn_app().await;
    let create = || {
        app.api(Method::POST, "/api/sampleentities")
            .json(&json!({"name": "bob"}))
            .send()
    };
    assert_eq!(create().await.unwrap().status(), StatusCode::CREATED);
    let again = create().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["code"], "duplicate-name");
}

#[tokio::test]
async fn a_missing_or_empty_name_is_a_validation_problem() {
    let app = spawn_app().await;
    for body in [json!({}), json!({"name": ""}), json!({"name": 7})] {
        let response = app
            .api(Method::POST, "/api/sampleentities")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["code"], "validation-failed");
        assert_eq!(problem["errors"][0]["pointer"], "/name");
    }
}

#[tokio::test]
async fn entities_are_invisible_to_other_tenants() {
    let app = spawn_app().await;
    let created: Value = app
        .api(Method::POST, "/api/sampleentities")
        .json(&json!({"name": "carol"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let path = format!("/api/sampleentities/{}", created["id"].as_str().unwrap());
    let other = app
        .http
        .get(format!("{}{path}", app.base_url))
        .header("x-tenant-id", uuid::Uuid::new_v4().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::NOT_FOUND);
    let unknown = app
        .api(Method::GET, "/api/sampleentities/not-an-id")
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}
