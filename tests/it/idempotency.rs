//! Contract §4: `Idempotency-Key` on every `POST`.

use std::time::Duration;

use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use shared::ids::TenantId;
use shared::store::{Reservation, StoredAnswer};

use crate::support::app::named_items;
use crate::support::spawn_app;

async fn post(
    app: &crate::support::TestApp,
    path: &str,
    key: &str,
    body: &Value,
) -> (StatusCode, reqwest::header::HeaderMap, bytes::Bytes) {
    let response = app
        .api(Method::POST, path)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    (status, headers, response.bytes().await.unwrap())
}

async fn operation_count(app: &crate::support::TestApp) -> usize {
    app.operations_list().await["operations"]
        .as_array()
        .unwrap()
        .len()
}

const IMPORT: &str = "/api/sampleentities/bulk-import";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_many_concurrent_requests_with_one_key_exactly_one_executes() {
    let app = spawn_app().await;
    let body = json!({ "items": named_items("idem", 5) });
    let answers = join_all((0..25).map(|_| post(&app, IMPORT, "key-concurrent", &body))).await;

    let accepted: Vec<_> = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::ACCEPTED)
        .collect();
    let in_flight = answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::CONFLICT)
        .count();
    assert_eq!(accepted.len() + in_flight, 25, "only 202s and 409s");
    assert!(!accepted.is_empty());
    let originals = accepted
        .iter()
        .filter(|(_, h, _)| !h.contains_key("idempotent-replayed"))
        .count();
    assert_eq!(originals, 1, "exactly one request executed");
    assert!(accepted.iter().all(|(_, _, b)| *b == accepted[0].2));
    assert_eq!(operation_count(&app).await, 1);

    let (status, headers, replay) = post(&app, IMPORT, "key-concurrent", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(replay, accepted[0].2, "the stored answer, byte for byte");
    assert_eq!(headers["location"], accepted[0].1["location"]);
    assert_eq!(
        headers["operation-location"],
        accepted[0].1["operation-location"]
    );
    assert_eq!(
        headers["azure-asyncoperation"],
        accepted[0].1["operation-location"]
    );
    assert_eq!(operation_count(&app).await, 1);
    for (_, _, body) in answers
        .iter()
        .filter(|(s, _, _)| *s == StatusCode::CONFLICT)
    {
        let problem: Value = serde_json::from_slice(body).unwrap();
        assert_eq!(problem["code"], "idempotency-key-in-flight");
    }
}

#[tokio::test]
async fn the_same_key_with_another_request_is_422() {
    let app = spawn_app().await;
    let first = json!({ "items": named_items("a", 1) });
    let other = json!({ "items": named_items("b", 1) });
    assert_eq!(
        post(&app, IMPORT, "k1", &first).await.0,
        StatusCode::ACCEPTED
    );
    let (status, _, body) = post(&app, IMPORT, "k1", &other).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(problem["code"], "idempotency-key-reused");
    assert_eq!(operation_count(&app).await, 1);
}

#[tokio::test]
async fn quoted_and_bare_keys_are_one_key_and_scope_is_method_and_path() {
    let app = spawn_app().await;
    let body = json!({ "items": named_items("q", 1) });
    let (_, _, first) = post(&app, IMPORT, "\"k-q\"", &body).await;
    let (status, headers, again) = post(&app, IMPORT, "k-q", &body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(first, again);

    let (status, headers, _) =
        post(&app, "/api/sampleentities", "k-q", &json!({"name": "q"})).await;
    assert_eq!(status, StatusCode::CREATED, "another path is another scope");
    assert!(!headers.contains_key("idempotent-replayed"));
}

#[tokio::test]
async fn entity_creation_is_replayed_not_repeated() {
    let app = spawn_app().await;
    let body = json!({"name": "once"});
    let (status, _, first) = post(&app, "/api/sampleentities", "k-e", &body).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, headers, second) = post(&app, "/api/sampleentities", "k-e", &body).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "not 409: the first answer again"
    );
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(first, second);
}

#[tokio::test]
async fn errors_a_retry_may_fix_are_not_stored() {
    let app = spawn_app().await;
    let (status, _, _) = post(&app, IMPORT, "k-v", &json!({"items": []})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = post(&app, IMPORT, "k-v", &json!({"items": "x"})).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "not 422: nothing was stored"
    );
    let (status, headers, _) = post(
        &app,
        IMPORT,
        "k-v",
        &json!({ "items": named_items("v", 1) }),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(!headers.contains_key("idempotent-replayed"));

    let name = json!({"name": "taken"});
    assert_eq!(
        post(&app, "/api/sampleentities", "k-c1", &name).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        post(&app, "/api/sampleentities", "k-c2", &name).await.0,
        StatusCode::CONFLICT
    );
    let (status, headers, _) = post(&app, "/api/sampleentities", "k-c2", &name).await;
    assert_eq!(status, StatusCode::CONFLICT, "the 409 was not stored");
    assert!(!headers.contains_key("idempotent-replayed"));
}

#[tokio::test]
async fn an_invalid_key_is_400() {
    let app = spawn_app().await;
    let body = json!({ "items": named_items("i", 1) });
    for key in ["", "\"\"", &"k".repeat(256)] {
        let (status, _, body) = post(&app, IMPORT, key, &body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "key {key:?}");
        let problem: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(problem["code"], "idempotency-key-invalid");
    }
    assert_eq!(operation_count(&app).await, 0);
}

#[tokio::test]
async fn a_kept_answer_expires_after_the_retention() {
    let app = spawn_app().await;
    let body = json!({ "items": named_items("ttl", 1) });
    assert_eq!(
        post(&app, IMPORT, "k-ttl", &body).await.0,
        StatusCode::ACCEPTED
    );
    let mut conn = app.valkey().await;
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(app.key("idem:*"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    let ttl: i64 = redis::cmd("TTL")
        .arg(&keys[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(ttl > 23 * 3600 && ttl <= 24 * 3600, "ttl {ttl}");
}

#[tokio::test]
async fn a_request_whose_reservation_lapsed_does_not_overwrite_the_next_holder() {
    let app = spawn_app().await;
    let store = app.store();
    let tenant = TenantId(app.tenant);
    let reserve = || store.reserve_idempotency_key(tenant, "scope-lapse", "fingerprint");
    let answer = |body: &str| StoredAnswer {
        status: 202,
        headers: Vec::new(),
        body: body.to_owned(),
    };
    let complete = |token: String, body: &'static str| {
        let store = store.clone();
        async move {
            store
                .complete_idempotency_key(
                    tenant,
                    "scope-lapse",
                    "fingerprint",
                    &token,
                    answer(body),
                    Duration::from_secs(60),
                )
                .await
                .expect("complete")
        }
    };
    let Reservation::Reserved { token: first } = reserve().await.expect("reserve") else {
        panic!("a free key is reserved");
    };
    // The first request's lease lapses (its renewals did not reach Valkey) and a retry
    // reserves the key anew.
    let lapse = || async {
        let mut conn = app.valkey().await;
        let deleted: i64 = redis::cmd("DEL")
            .arg(app.key("idem:scope-lapse"))
            .query_async(&mut conn)
            .await
            .expect("del");
        assert_eq!(deleted, 1, "the reservation was there to lapse");
    };
    lapse().await;
    let Reservation::Reserved { token: second } = reserve().await.expect("reserve") else {
        panic!("a lapsed key is free again");
    };

    assert!(
        !complete(first, "first").await,
        "the lapsed request must not store its answer"
    );
    assert!(matches!(
        reserve().await.expect("reserve"),
        Reservation::InFlight { .. }
    ));

    assert!(complete(second.clone(), "second").await);
    // A retry of the same completion (its first reply lost) finds its answer there.
    assert!(complete(second, "second").await);
    let Reservation::Done { answer: kept, .. } = reserve().await.expect("reserve") else {
        panic!("the holder's answer is kept");
    };
    assert_eq!(kept.body, "second");

    // A lapsed request whose key nobody took meanwhile stores its answer.
    lapse().await;
    let Reservation::Reserved { token: third } = reserve().await.expect("reserve") else {
        panic!("a lapsed key is free again");
    };
    lapse().await;
    assert!(complete(third, "third").await);
    let Reservation::Done { answer: kept, .. } = reserve().await.expect("reserve") else {
        panic!("the answer is kept");
    };
    assert_eq!(kept.body, "third");
}
