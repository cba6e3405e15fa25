//! The HTTP edge against slow, idle and hostile clients, over real sockets: each deadline
//! cuts off the client that misses it (and only that one), the connection cap makes new
//! connections wait without disturbing requests in flight, and oversized heads are `431`
//! problems.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use shared::config::{EdgeConfig, TlsConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};

use crate::support::app::{Options, TestApp, named_items, spawn_app_with};
use crate::support::certs::Ca;
use crate::support::raw_http::{self, RawResponse};
use crate::support::{servers, wait};

/// The deadline under test, short so the tests are quick.
const DEADLINE: Duration = Duration::from_millis(500);
/// How late past a deadline a cut-off may come on a loaded test machine.
const MARGIN: Duration = Duration::from_millis(1500);
/// A deadline no test reaches.
const NEVER: Duration = Duration::from_secs(30);

/// The app with these edge settings, and a client that keeps no idle connection open (so
/// that only the test's own connections meet the edge).
async fn app_with(edge: EdgeConfig) -> TestApp {
    let options = Options {
        edge,
        http: Some(unpooled()),
        ..Options::default()
    };
    spawn_app_with(servers::shared(), options).await
}

fn unpooled() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// `host:port` of the app's listener.
fn address(app: &TestApp) -> String {
    let (_, address) = app.base_url.split_once("://").expect("a base URL");
    address.to_owned()
}

/// The `5xx` lines of the intake's request counts (readiness answers `503` while the app
/// starts, so tests compare these before and after).
fn server_errors(app: &TestApp) -> Vec<String> {
    app.metrics
        .render()
        .lines()
        .filter(|l| l.starts_with("participant_http_requests_total") && l.contains("status=\"5"))
        .map(str::to_owned)
        .collect()
}

fn assert_problem(response: &RawResponse, status: u16, code: &str) {
    assert_eq!(response.status, status);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    let problem = response.json();
    assert_eq!(problem["status"], status);
    assert_eq!(problem["code"], code);
}

#[tokio::test]
async fn a_slowloris_client_is_closed_within_the_head_deadline() {
    let app = app_with(EdgeConfig {
        header_read_timeout: DEADLINE,
        idle_timeout: NEVER,
        ..EdgeConfig::default()
    })
    .await;
    let before = server_errors(&app);
    let started = Instant::now();
    let stream = TcpStream::connect(address(&app)).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    // One header, then a byte of the next every 50 ms: the head never ends.
    let trickle = tokio::spawn(async move {
        let head = b"POST /api/sampleentities/bulk-import HTTP/1.1\r\nHost: x\r\n";
        if writer.write_all(head).await.is_err() {
            return;
        }
        while writer.write_all(b"x").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });

    raw_http::until_closed(&mut reader, DEADLINE + MARGIN).await;

    let elapsed = started.elapsed();
    assert!(elapsed >= DEADLINE, "closed after {elapsed:?}");
    trickle.abort();
    assert_eq!(app.cutoffs("header_read"), 1);
    assert_eq!(server_errors(&app), before);
}

#[tokio::test]
async fn a_stalled_body_is_cut_off_with_a_408_and_no_operation_exists() {
    let app = app_with(EdgeConfig {
        body_timeout: DEADLINE,
        body_min_rate: 1024,
        ..EdgeConfig::default()
    })
    .await;
    let before = server_errors(&app);
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    let head = format!(
        "POST /api/sampleentities/bulk-import HTTP/1.1\r\nHost: x\r\nX-Tenant-Id: {}\r\n\
         Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{\"items\":[",
        app.tenant
    );
    let started = Instant::now();
    stream.write_all(head.as_bytes()).await.unwrap();

    let response = raw_http::response(&mut stream, DEADLINE + MARGIN).await;

    let elapsed = started.elapsed();
    assert!(elapsed >= DEADLINE, "answered after {elapsed:?}");
    assert_problem(&response, 408, "body-too-slow");
    assert_eq!(response.json()["retryable"], true);
    assert_eq!(response.header("connection"), Some("close"));
    raw_http::until_closed(&mut stream, MARGIN).await;
    assert_eq!(app.operations_list().await["operations"], json!([]));
    assert_eq!(app.cutoffs("body"), 1);
    assert_eq!(server_errors(&app), before);
}

#[tokio::test]
async fn a_slow_but_steady_large_upload_within_the_rate_succeeds() {
    // Every other deadline is far shorter than the upload.
    let short = Duration::from_millis(300);
    let app = app_with(EdgeConfig {
        header_read_timeout: short,
        idle_timeout: short,
        body_timeout: short,
        body_min_rate: 16 * 1024,
        ..EdgeConfig::default()
    })
    .await;
    let body = serde_json::to_vec(&json!({ "items": named_items("slow-upload", 4000) })).unwrap();
    assert!(body.len() > 80_000, "{} bytes", body.len());
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    let head = format!(
        "POST /api/sampleentities/bulk-import HTTP/1.1\r\nHost: x\r\nX-Tenant-Id: {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        app.tenant,
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    // 4 KiB every 100 ms: about 40 KiB/s, steady, over two seconds and more.
    for chunk in body.chunks(4096) {
        stream.write_all(chunk).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let upload = started.elapsed();

    let response = raw_http::response(&mut stream, Duration::from_secs(10)).await;

    assert!(upload > 4 * short, "the upload took {upload:?}");
    assert_eq!(
        response.status,
        202,
        "{:?}",
        String::from_utf8_lossy(&response.body)
    );
    let id = response.json()["operationId"]
        .as_str()
        .and_then(|id| id.parse().ok())
        .expect("operationId");
    let done = app.until_terminal(id, Duration::from_secs(30)).await;
    assert_eq!(done["result"]["succeeded"], 4000);
    assert_eq!(app.cutoffs("body"), 0);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    // Shorter than the idle timeout: an idle connection is not held to the head deadline.
    let header_read = Duration::from_millis(200);
    let idle = Duration::from_millis(800);
    let app = app_with(EdgeConfig {
        header_read_timeout: header_read,
        idle_timeout: idle,
        ..EdgeConfig::default()
    })
    .await;
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    stream
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let response = raw_http::response(&mut stream, Duration::from_secs(5)).await;
    assert_eq!(response.status, 200);
    assert_eq!(response.header("connection"), None, "kept alive");
    let started = Instant::now();

    let elapsed = raw_http::until_closed(&mut stream, idle + MARGIN).await;

    // The idle clock starts as the answer is sent, a moment before it is read here.
    assert!(elapsed >= idle - header_read, "closed after {elapsed:?}");
    assert!(started.elapsed() > header_read);
    assert_eq!(app.cutoffs("idle"), 1);
    assert_eq!(app.cutoffs("header_read"), 0);
}

#[tokio::test]
async fn past_the_connection_cap_new_connections_wait_and_requests_in_flight_carry_on() {
    let cap = 4;
    let options = Options {
        worker: false,
        http: Some(unpooled()),
        edge: EdgeConfig {
            max_connections: cap,
            header_read_timeout: NEVER,
            idle_timeout: NEVER,
            ..EdgeConfig::default()
        },
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let before = server_errors(&app);
    let id = app.accepted(named_items("capped", 1)).await;
    let open = || app.metrics.http_connections.get();
    let bound = Duration::from_secs(5);
    wait::until("no connection open", bound, || async {
        (open() == 0).then_some(())
    })
    .await;

    // In flight: a long poll of an operation that does not change (no worker).
    let mut poll = TcpStream::connect(address(&app)).await.unwrap();
    let poll_sent = Instant::now();
    let request = format!(
        "GET /api/operations/{id}?waitSeconds=3 HTTP/1.1\r\nHost: x\r\nX-Tenant-Id: {}\r\n\r\n",
        app.tenant
    );
    poll.write_all(request.as_bytes()).await.unwrap();
    wait::until("the long poll's connection", bound, || async {
        (open() == 1).then_some(())
    })
    .await;
    let mut idle = Vec::new();
    for _ in 1..cap {
        idle.push(TcpStream::connect(address(&app)).await.unwrap());
    }
    wait::until("the cap reached", bound, || async {
        (open() == i64::from(cap)).then_some(())
    })
    .await;

    let mut normal = TcpStream::connect(address(&app)).await.unwrap();
    normal
        .write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut byte = [0u8; 1];
    let early = timeout(Duration::from_millis(300), normal.read(&mut byte)).await;
    assert!(early.is_err(), "answered past the cap: {early:?}");
    assert_eq!(open(), i64::from(cap));

    drop(idle);
    let answer = raw_http::response(&mut normal, Duration::from_secs(1)).await;
    assert_eq!(answer.status, 200);

    let polled = raw_http::response(&mut poll, Duration::from_secs(10)).await;
    assert_eq!(polled.status, 200);
    assert_eq!(polled.json()["operationId"], id.to_string());
    assert!(
        poll_sent.elapsed() >= Duration::from_secs(3),
        "the long poll was cut short"
    );
    assert_eq!(server_errors(&app), before);
}

#[tokio::test]
async fn a_tls_client_that_never_finishes_its_handshake_is_dropped() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = Ca::new("edge test");
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = ca.server("intake").write(dir.path());
    let trusting = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap()])
        .build()
        .unwrap();
    let options = Options {
        tls: Some(TlsConfig {
            mutual: false,
            ca_cert: None,
            cert: Some(cert),
            key: Some(key),
        }),
        http: Some(trusting),
        edge: EdgeConfig {
            tls_handshake_timeout: DEADLINE,
            header_read_timeout: NEVER,
            ..EdgeConfig::default()
        },
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let started = Instant::now();
    let mut stream = TcpStream::connect(address(&app)).await.unwrap();
    // The first bytes of a ClientHello record, and nothing more.
    stream.write_all(&[0x16, 0x03, 0x01]).await.unwrap();

    raw_http::until_closed(&mut stream, DEADLINE + MARGIN).await;

    let elapsed = started.elapsed();
    assert!(elapsed >= DEADLINE, "dropped after {elapsed:?}");
    assert_eq!(app.cutoffs("tls_handshake"), 1);
}

#[tokio::test]
async fn a_head_over_the_limits_is_a_431_problem() {
    let app = app_with(EdgeConfig {
        max_header_bytes: 2048,
        max_headers: 16,
        ..EdgeConfig::default()
    })
    .await;
    let url = format!("{}/health/live", app.base_url);
    let problem = |response: reqwest::Response| async move {
        assert_eq!(
            response.status(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["code"], "header-fields-too-large");
        assert_eq!(body["status"], 431);
        body
    };

    let big = app
        .http
        .get(&url)
        .header("x-big", "a".repeat(3000))
        .send()
        .await
        .unwrap();
    let body = problem(big).await;
    assert!(body["detail"].as_str().unwrap().contains("2048"), "{body}");

    let mut many = app.http.get(&url);
    for i in 0..20 {
        many = many.header(format!("x-field-{i}"), "v");
    }
    problem(many.send().await.unwrap()).await;

    // Past four times the limit hyper refuses the head itself, with a bare 431.
    let huge = app
        .http
        .get(&url)
        .header("x-huge", "a".repeat(4 * 2048 + 1))
        .send()
        .await;
    assert_eq!(
        huge.unwrap().status(),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
    );
    let counted = || async { (app.cutoffs("head_too_large") == 3).then_some(()) };
    wait::until("three heads counted", Duration::from_secs(5), counted).await;

    let fine = app.http.get(&url).send().await.unwrap();
    assert_eq!(fine.status(), StatusCode::OK);
}
