//! The app under test: the intake (and, unless told otherwise, a worker) running
//! in-process through the same `run` functions the binary calls, on a port-0 listener,
//! against real servers, under a prefix and tenant of the test's own.

use std::sync::Arc;
use std::time::Duration;

use clap::{CommandFactory as _, FromArgMatches as _};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use shared::config::{EdgeConfig, RetrySchedule, Settings, TlsConfig};
use shared::connect::Deps;
use shared::metrics::{Metrics, ReasonLabels};
use shared::signing::SigningSecret;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::servers::{self, Servers};
use super::wait;

/// How the app under test is set up.
pub struct Options {
    /// Run a worker in-process too.
    pub worker: bool,
    /// Run a dispatcher in-process too.
    pub dispatcher: bool,
    pub signing_secrets: Vec<SigningSecret>,
    pub retry_schedule: Vec<Duration>,
    /// Refuse plain http and loopback callbacks, as production does; otherwise the tests'
    /// loopback receivers are allowed.
    pub strict_callbacks: bool,
    /// Serve HTTPS (and mutual TLS) with these files.
    pub tls: Option<TlsConfig>,
    /// The client the test speaks with (one that trusts the test CA, under TLS).
    pub http: Option<reqwest::Client>,
    /// Register in an InfraSoT registry at this URL, renewing at this interval.
    pub registry: Option<(String, Duration)>,
    pub max_body_bytes: u64,
    /// Deadlines and limits of the HTTP edge.
    pub edge: EdgeConfig,
    pub ack_wait: Duration,
    pub max_deliver: u64,
    pub sweep_after: Duration,
    pub simulated_item_latency: Duration,
    pub max_event_streams: u32,
    pub event_keep_alive: Duration,
    /// `Nats__Replicas`.
    pub nats_replicas: u8,
    /// `Valkey__WaitReplicas` (on a Valkey Cluster with replicas).
    pub valkey_wait_replicas: u8,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            worker: true,
            dispatcher: false,
            signing_secrets: vec![SigningSecret::generate().expect("a secret")],
            retry_schedule: vec![Duration::from_millis(200); 3],
            strict_callbacks: false,
            registry: None,
            tls: None,
            http: None,
            max_body_bytes: 16 * 1024 * 1024,
            edge: EdgeConfig::default(),
            ack_wait: Duration::from_secs(30),
            max_deliver: 5,
            sweep_after: Duration::from_secs(30),
            simulated_item_latency: Duration::ZERO,
            max_event_streams: 100,
            event_keep_alive: Duration::from_secs(15),
            nats_replicas: 1,
            valkey_wait_replicas: 0,
        }
    }
}

pub struct TestApp {
    pub base_url: String,
    pub tenant: Uuid,
    pub settings: Settings,
    pub http: reqwest::Client,
    pub nats: async_nats::Client,
    /// The NATS client of the in-process roles (the intake's and the worker's).
    pub roles_nats: async_nats::Client,
    /// The intake's metrics, read behind the API (when a request could not get through).
    pub metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    intake: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// The app with a worker, on the shared servers.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(servers::shared(), Options::default()).await
}

pub async fn spawn_app_with(servers: &Servers, options: Options) -> TestApp {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let settings = settings(servers, &options);
    let deps = Deps::connect(&settings, "participant-test")
        .await
        .expect("connections");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("listener");
    let scheme = if options.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let base_url = format!("{scheme}://{}", listener.local_addr().expect("address"));
    let shutdown = CancellationToken::new();
    let intake = tokio::spawn(intake::run(
        settings.clone(),
        deps.clone(),
        listener,
        shutdown.child_token(),
    ));
    if options.worker {
        tokio::spawn(worker::run(
            settings.clone(),
            deps.clone(),
            shutdown.child_token(),
        ));
    }
    if options.dispatcher {
        tokio::spawn(dispatcher::run(
            settings.clone(),
            deps.clone(),
            shutdown.child_token(),
        ));
    }
    let nats = async_nats::connect(servers.nats_seeds())
        .await
        .expect("nats");
    let app = TestApp {
        base_url,
        tenant: Uuid::new_v4(),
        settings,
        http: options.http.clone().unwrap_or_default(),
        nats,
        roles_nats: deps.nats.clone(),
        metrics: deps.metrics.clone(),
        shutdown,
        intake: Some(intake),
    };
    app.until_ready().await;
    app
}

/// The command line of the roles, for their defaults.
#[derive(clap::Parser)]
struct Defaults {
    #[command(flatten)]
    settings: Settings,
}

/// Every setting at its real default (as an empty command line gives them), whatever the
/// test's environment holds: the `Section__Key` variables are taken off the command.
fn defaults() -> Settings {
    let command = Defaults::command().mut_args(|arg| arg.env(None));
    let matches = command
        .try_get_matches_from(["participant-test"])
        .expect("the defaults parse");
    Defaults::from_arg_matches(&matches)
        .expect("the defaults")
        .settings
}

/// Settings as a deployment would give them, with a prefix of this test's own and what
/// the options ask for.
fn settings(servers: &Servers, options: &Options) -> Settings {
    let mut s = defaults();
    s.connection.nats_url = servers.nats_url();
    s.connection.valkey_url = servers.valkey_url();
    s.connection.valkey_cluster = servers.valkey_cluster();
    s.connection.prefix = format!("t{}", &Uuid::new_v4().simple().to_string()[..12]);
    s.http.listen = "127.0.0.1:0".parse().expect("address");
    s.http.max_body_bytes = options.max_body_bytes;
    s.http.edge = options.edge.clone();
    s.event_streams.max_streams = options.max_event_streams;
    s.event_streams.keep_alive = options.event_keep_alive;
    s.connection.nats_replicas = options.nats_replicas;
    s.connection.valkey_wait_replicas = options.valkey_wait_replicas;
    s.jobs.ack_wait = options.ack_wait;
    s.jobs.max_deliver = options.max_deliver;
    s.jobs.sweep_after = options.sweep_after;
    s.worker.simulated_item_latency = options.simulated_item_latency;
    s.callbacks.signing_secrets = options.signing_secrets.clone();
    s.callbacks.retry_schedule = RetrySchedule(options.retry_schedule.clone());
    if !options.strict_callbacks {
        s.callbacks.allow_http = true;
        s.callbacks.allowed_networks = vec!["127.0.0.1/32".parse().expect("network")];
    }
    if let Some((url, every)) = &options.registry {
        s.discovery.enabled = true;
        s.discovery.url = Some(url.parse().expect("registry url"));
        s.discovery.service_id = Some("participant-under-test".into());
        s.discovery.renew_every = *every;
    }
    if let Some(tls) = &options.tls {
        s.tls = tls.clone();
    }
    s
}

/// An intake started beside the app's own.
pub struct Intake {
    pub base_url: String,
    address: std::net::SocketAddr,
    settings: Settings,
    stop: CancellationToken,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Intake {
    async fn start(settings: Settings, listener: TcpListener) -> Self {
        let deps = Deps::connect(&settings, "another-intake")
            .await
            .expect("connections");
        let address = listener.local_addr().expect("address");
        let stop = CancellationToken::new();
        let handle = tokio::spawn(intake::run(settings.clone(), deps, listener, stop.clone()));
        Self {
            base_url: format!("http://{address}"),
            address,
            settings,
            stop,
            handle,
        }
    }

    /// Shuts it down as SIGTERM would, and waits until it has.
    pub async fn stop(self) {
        self.stop.cancel();
        self.handle
            .await
            .expect("the intake task")
            .expect("a clean intake shutdown");
    }

    /// Stops it, then starts a new intake on the same address.
    pub async fn restart(self) -> Self {
        let (settings, address) = (self.settings.clone(), self.address);
        self.stop().await;
        let listener = TcpListener::bind(address).await.expect("the same address");
        Self::start(settings, listener).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl TestApp {
    /// Shuts the app down as SIGTERM would, and waits for the intake to finish.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(intake) = self.intake.take() {
            intake
                .await
                .expect("the intake task")
                .expect("a clean intake shutdown");
        }
    }

    pub fn prefix(&self) -> &str {
        &self.settings.connection.prefix
    }

    /// A request to the API as this test's tenant.
    pub fn api(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base_url))
            .header("x-tenant-id", self.tenant.to_string())
    }

    /// `POST /api/sampleentities/bulk-import` with a JSON body.
    pub async fn import(&self, body: &Value) -> reqwest::Response {
        self.api(Method::POST, "/api/sampleentities/bulk-import")
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// Starts an import of `items`, expecting `202`; returns the operation id.
    pub async fn accepted(&self, items: Vec<Value>) -> Uuid {
        let response = self.import(&serde_json::json!({ "items": items })).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        let body: Value = response.json().await.expect("202 body");
        body["operationId"]
            .as_str()
            .and_then(|id| id.parse().ok())
            .expect("operationId")
    }

    /// `GET /api/operations/{id}`, expecting `200`.
    pub async fn operation(&self, id: Uuid) -> Value {
        let response = self
            .api(Method::GET, &format!("/api/operations/{id}"))
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("status document")
    }

    /// Starts a worker for this app in-process, late; it stops when the token is cancelled.
    pub async fn start_worker(&self) -> CancellationToken {
        let deps = Deps::connect(&self.settings, "late-worker")
            .await
            .expect("connections");
        let stop = CancellationToken::new();
        tokio::spawn(worker::run(self.settings.clone(), deps, stop.clone()));
        stop
    }

    /// Another intake on this app's settings, with its own listener and connections, as
    /// after a restart or behind a load balancer.
    pub async fn another_intake(&self) -> Intake {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("listener");
        Intake::start(self.settings.clone(), listener).await
    }

    /// `GET /api/operations`, expecting `200`.
    pub async fn operations_list(&self) -> Value {
        let response = self
            .api(Method::GET, "/api/operations")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.expect("the list")
    }

    /// Follows the operation by long polling until it is terminal (bounded).
    pub async fn until_terminal(&self, id: Uuid, bound: Duration) -> Value {
        wait::until("a terminal status", bound, || async {
            let response = self
                .api(Method::GET, &format!("/api/operations/{id}?waitSeconds=2"))
                .send()
                .await
                .ok()?;
            let doc: Value = response.json().await.ok()?;
            let terminal = matches!(
                doc["status"].as_str(),
                Some("completed" | "failed" | "cancelled")
            );
            terminal.then_some(doc)
        })
        .await
    }

    /// `/health/ready` answers 200.
    pub async fn until_ready(&self) {
        wait::until("readiness", Duration::from_secs(20), || async {
            let response = self
                .http
                .get(format!("{}/health/ready", self.base_url))
                .send()
                .await
                .ok()?;
            (response.status() == StatusCode::OK).then_some(())
        })
        .await;
    }

    /// Clients the intake's edge cut off for `reason` so far.
    pub fn cutoffs(&self, reason: &str) -> u64 {
        self.metrics
            .http_cutoffs
            .get_or_create(&ReasonLabels {
                reason: reason.to_owned(),
            })
            .get()
    }

    /// Valkey key of this test's names (for checks made behind the API).
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:tenant:{{{}}}:{suffix}", self.prefix(), self.tenant)
    }

    /// The store as the app's roles open it, for checks and steps made at the store itself
    /// (operations kept an hour).
    pub fn store(&self) -> shared::store::Store {
        shared::store::Store::connect(
            &self.settings.connection,
            shared::names::Names::new(self.prefix()),
            shared::connect::DEADLINE,
            std::time::Duration::from_secs(3_600),
        )
        .expect("store")
    }

    /// A new connection to the app's Valkey, or its Valkey Cluster (new each time, so a
    /// test that restarted Valkey reads the restarted one).
    pub async fn valkey(&self) -> shared::store::Connection {
        shared::store::Connection::open(&self.settings.connection, shared::connect::DEADLINE)
            .expect("valkey")
    }

    /// How many entities the tenant has, read straight from Valkey.
    pub async fn entity_count(&self) -> (u64, u64) {
        let mut conn = self.valkey().await;
        let names: u64 = redis::cmd("HLEN")
            .arg(self.key("names"))
            .query_async(&mut conn)
            .await
            .expect("HLEN names");
        let entities: u64 = redis::cmd("HLEN")
            .arg(self.key("entities"))
            .query_async(&mut conn)
            .await
            .expect("HLEN entities");
        (names, entities)
    }

    /// The workers' consumer's jobs not yet delivered, and delivered but not acknowledged.
    pub async fn jobs_backlog(&self) -> (u64, usize) {
        let js = async_nats::jetstream::new(self.nats.clone());
        let mut consumer: async_nats::jetstream::consumer::PullConsumer = js
            .get_consumer_from_stream(
                format!("{}_workers", self.prefix()),
                format!("{}_EVENTS", self.prefix()),
            )
            .await
            .expect("the workers' consumer");
        let info = consumer.info().await.expect("consumer info");
        (info.num_pending, info.num_ack_pending)
    }

    /// `participant worker` flags for this app, with `extra` appended.
    pub fn worker_flags(&self, extra: &[&str]) -> Vec<String> {
        let mut flags = vec!["worker".to_owned()];
        flags.extend(self.process_flags());
        flags.extend(extra.iter().map(|f| (*f).to_owned()));
        flags
    }

    /// Flags that point a `participant` process at this app's servers and prefix (its
    /// secrets go by [`Self::process_env`]).
    pub fn process_flags(&self) -> Vec<String> {
        let s = &self.settings;
        let mut flags = vec![
            "--nats-url".into(),
            s.connection.nats_url.clone(),
            "--valkey-url".into(),
            s.connection.valkey_url.clone(),
            "--prefix".into(),
            s.connection.prefix.clone(),
            "--ack-wait".into(),
            format!("{}ms", s.jobs.ack_wait.as_millis()),
            "--max-deliver".into(),
            s.jobs.max_deliver.to_string(),
            "--sweep-after".into(),
            format!("{}ms", s.jobs.sweep_after.as_millis()),
            "--retry-schedule".into(),
            s.callbacks
                .retry_schedule
                .0
                .iter()
                .map(|d| format!("{}ms", d.as_millis()))
                .collect::<Vec<_>>()
                .join(","),
            format!("--callback-allow-http={}", s.callbacks.allow_http),
            format!("--valkey-cluster={}", s.connection.valkey_cluster),
            "--nats-replicas".into(),
            s.connection.nats_replicas.to_string(),
        ];
        for network in &s.callbacks.allowed_networks {
            flags.extend(["--callback-allow-network".into(), network.to_string()]);
        }
        flags
    }

    /// Environment for a `participant` process of this app: the signing secrets, which a
    /// command line would show in `/proc/<pid>/cmdline`.
    pub fn process_env(&self) -> Vec<(String, String)> {
        let secrets = &self.settings.callbacks.signing_secrets;
        if secrets.is_empty() {
            return Vec::new();
        }
        let joined = secrets
            .iter()
            .map(SigningSecret::expose)
            .collect::<Vec<_>>()
            .join(",");
        vec![("Callbacks__SigningSecrets".into(), joined)]
    }
}

/// `n` items named `<tag>-<i>`.
pub fn named_items(tag: &str, n: usize) -> Vec<Value> {
    (0..n)
        .map(|i| serde_json::json!({ "name": format!("{tag}-{i}") }))
        .collect()
}
