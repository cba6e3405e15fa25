//! Mutual TLS on the HTTP listener: a client certificate signed by the configured CA is
//! required; certificate and key are reloaded on SIGHUP without dropping open connections.

use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal;
use reqwest::StatusCode;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use serde_json::json;
use shared::config::TlsConfig;
use tokio_rustls::TlsConnector;

use crate::support::app::{Options, named_items, spawn_app_with};
use crate::support::certs::{Ca, Leaf};
use crate::support::processes::Process;
use crate::support::servers::{self, free_port};
use crate::support::{metrics, wait};

/// An HTTPS client trusting `ca`, presenting `identity` when given.
fn client(ca: &Ca, identity: Option<&Leaf>) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap()]);
    if let Some(identity) = identity {
        builder = builder.identity(identity.identity());
    }
    builder.build().unwrap()
}

/// Files for a listener with mutual TLS: server certificate, key and client CA.
fn tls_files(dir: &std::path::Path, ca: &Ca, server: &Leaf) -> TlsConfig {
    let (cert, key) = server.write(dir);
    let ca_path = dir.join("ca.pem");
    std::fs::write(&ca_path, ca.pem()).unwrap();
    TlsConfig {
        mutual: true,
        ca_cert: Some(ca_path),
        cert: Some(cert),
        key: Some(key),
    }
}

#[tokio::test]
async fn a_client_certificate_from_the_ca_is_required() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = Ca::new("clients and servers");
    let stranger_ca = Ca::new("somebody else");
    let dir = tempfile::tempdir().unwrap();
    let trusted = client(&ca, Some(&ca.client("orchestrator-xo")));
    let options = Options {
        tls: Some(tls_files(dir.path(), &ca, &ca.server("intake"))),
        http: Some(trusted.clone()),
        ..Options::default()
    };
    let app = spawn_app_with(servers::shared(), options).await;
    let url = format!("{}/health/live", app.base_url);
    assert!(url.starts_with("https://"));

    let answer = trusted.get(&url).send().await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);

    let anonymous = client(&ca, None);
    assert!(
        anonymous.get(&url).send().await.is_err(),
        "no client certificate: refused at the handshake"
    );
    let stranger = client(&ca, Some(&stranger_ca.client("orchestrator-xo")));
    assert!(
        stranger.get(&url).send().await.is_err(),
        "a certificate from another CA: refused"
    );
}

/// The server's certificate, as a new TLS connection sees it.
async fn served_certificate(port: u16, ca: &Ca, identity: &Leaf) -> Vec<u8> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.pem().as_bytes()).unwrap())
        .unwrap();
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_client_auth_cert(
            vec![CertificateDer::from_pem_slice(identity.cert_pem.as_bytes()).unwrap()],
            PrivateKeyDer::from_pem_slice(identity.key_pem.as_bytes()).unwrap(),
        )
        .unwrap();
    let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let tls = TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("127.0.0.1").unwrap(), stream)
        .await
        .unwrap();
    tls.get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

/// Waits until the intake at `base` has counted one certificate reload with `outcome`.
async fn until_reloads(https: &reqwest::Client, base: &str, outcome: &str) {
    let url = format!("{base}/metrics");
    wait::until(outcome, Duration::from_secs(10), || async {
        let samples = metrics::samples(https, &url).await?;
        let reloads = metrics::count(
            &samples,
            "participant_tls_reloads_total",
            ("outcome", outcome),
        );
        (reloads == 1.0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_swapped_and_sighup_serves_new_connections_while_open_ones_finish() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = Ca::new("clients and servers");
    let first = ca.server("intake-before");
    let second = ca.server("intake-after");
    let caller = ca.client("orchestrator-xo");
    let dir = tempfile::tempdir().unwrap();
    let files = tls_files(dir.path(), &ca, &first);
    let app = spawn_app_with(
        servers::shared(),
        Options {
            worker: false,
            ..Options::default()
        },
    )
    .await;
    let port = free_port();
    let mut flags = vec!["intake".to_owned()];
    flags.extend(app.process_flags());
    flags.extend([
        "--listen".into(),
        format!("127.0.0.1:{port}"),
        "--mtls".into(),
        "--ca-cert".into(),
        files.ca_cert.unwrap().display().to_string(),
        "--cert".into(),
        files.cert.unwrap().display().to_string(),
        "--key".into(),
        files.key.unwrap().display().to_string(),
        "--log-format".into(),
        "json".into(),
    ]);
    let intake = Process::start(&flags, &app.process_env());
    let base = format!("https://127.0.0.1:{port}");
    let https = client(&ca, Some(&caller));
    wait::until("the HTTPS intake", Duration::from_secs(20), || async {
        https
            .get(format!("{base}/health/live"))
            .send()
            .await
            .ok()
            .map(drop)
    })
    .await;
    assert_eq!(served_certificate(port, &ca, &caller).await, first.der);

    let accepted = https
        .post(format!("{base}/api/sampleentities/bulk-import"))
        .header("x-tenant-id", app.tenant.to_string())
        .json(&json!({ "items": named_items("tls", 1) }))
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let location = accepted.headers()["location"].to_str().unwrap().to_owned();
    let tag = https
        .get(&location)
        .header("x-tenant-id", app.tenant.to_string())
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let open = tokio::spawn(
        https
            .get(format!("{location}?waitSeconds=3"))
            .header("x-tenant-id", app.tenant.to_string())
            .header("if-none-match", tag)
            .send(),
    );

    second.write(dir.path());
    intake.signal(Signal::SIGHUP);
    until_reloads(&https, &base, "reloaded").await;
    assert_eq!(
        served_certificate(port, &ca, &caller).await,
        second.der,
        "a new connection gets the new certificate"
    );
    let held = open.await.unwrap().expect("the open request completes");
    assert_eq!(held.status(), StatusCode::NOT_MODIFIED);

    std::fs::write(dir.path().join("key.pem"), "not a key").unwrap();
    intake.signal(Signal::SIGHUP);
    until_reloads(&https, &base, "failed").await;
    assert_eq!(
        served_certificate(port, &ca, &caller).await,
        second.der,
        "a reload that fails keeps the certificate it had"
    );
    assert!(
        intake
            .json_log()
            .iter()
            .any(|entry| entry["fields"]["peer"] == "orchestrator-xo"),
        "the client's identity is logged: {}",
        intake.log()
    );
}
