//! Submitting bulk imports: one `reqwest::Client` per load task holding one keep-alive
//! connection, a body of uniquely named items, `X-Tenant-Id`, and on request a fresh
//! `Idempotency-Key` and an `X-Callback-Url`. The operation id comes from `Location`.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::Context as _;
use reqwest::StatusCode;
use tokio::time::Instant;
use uuid::Uuid;

use crate::load::{Caller, Sample};

/// The bulk-import path, on the intake and on the ceilings alike.
pub const IMPORT_PATH: &str = "/api/sampleentities/bulk-import";

/// A client that keeps one connection to one host alive.
pub fn client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .build()
        .context("building an HTTP client")
}

/// Submits imports of `items` items to one base URL over its own connection.
pub struct Importer {
    client: reqwest::Client,
    base: String,
    url: String,
    tenant: String,
    items: usize,
    tag: String,
    idempotency: bool,
    callback: Option<String>,
}

impl Importer {
    /// `tag` makes the item names unique: it must differ between importers of one tenant.
    pub fn new(base_url: &str, tenant: Uuid, items: usize, tag: String) -> anyhow::Result<Self> {
        Ok(Self {
            client: client()?,
            base: base_url.to_owned(),
            url: format!("{base_url}{IMPORT_PATH}"),
            tenant: tenant.to_string(),
            items,
            tag,
            idempotency: false,
            callback: None,
        })
    }

    /// Sends a fresh `Idempotency-Key` with every request.
    pub fn with_idempotency(mut self, on: bool) -> Self {
        self.idempotency = on;
        self
    }

    /// Asks for a webhook to `url` when the operation completes.
    pub fn with_callback(mut self, url: String) -> Self {
        self.callback = Some(url);
        self
    }

    /// The `seq`th import: its operation id once answered `202`, else `None`.
    pub async fn submit(&self, seq: u64) -> Option<Uuid> {
        let id = self.submit_for_id(seq).await?;
        Some(id.parse().unwrap_or_else(|_| Uuid::nil()))
    }

    /// The `seq`th import: the last segment of its `Location` once answered `202` (empty if
    /// there was none), else `None`.
    pub async fn submit_for_id(&self, seq: u64) -> Option<String> {
        let mut request = self
            .client
            .post(&self.url)
            .header("x-tenant-id", &self.tenant)
            .header("content-type", "application/json")
            .body(self.body(seq));
        if self.idempotency {
            request = request.header("idempotency-key", Uuid::new_v4().to_string());
        }
        if let Some(url) = &self.callback {
            request = request.header("x-callback-url", url);
        }
        let response = request.send().await.ok()?;
        let status = response.status();
        let id = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit('/').next())
            .unwrap_or_default()
            .to_owned();
        // Read the body to the end so the connection is reused.
        let _ = response.bytes().await;
        (status == StatusCode::ACCEPTED).then_some(id)
    }

    /// `GET /api/operations/{id}` as this importer's tenant: the document if answered `200`.
    pub async fn status(&self, id: &str) -> Option<serde_json::Value> {
        let response = self
            .client
            .get(format!("{}/api/operations/{id}", self.base))
            .header("x-tenant-id", &self.tenant)
            .send()
            .await
            .ok()?;
        if response.status() != StatusCode::OK {
            let _ = response.bytes().await;
            return None;
        }
        response.json().await.ok()
    }

    fn body(&self, seq: u64) -> String {
        let mut body = String::with_capacity(16 + self.items * (self.tag.len() + 24));
        body.push_str(r#"{"items":["#);
        for i in 0..self.items {
            if i > 0 {
                body.push(',');
            }
            let _ = write!(body, r#"{{"name":"{}-{seq}-{i}"}}"#, self.tag);
        }
        body.push_str("]}");
        body
    }
}

/// A caller that counts an import as done once it is answered `202`.
pub struct Accepting(pub Importer);

impl Caller for Accepting {
    async fn call(&mut self, seq: u64, start: Instant) -> Option<Sample> {
        self.0.submit(seq).await?;
        let at = Instant::now();
        Some(Sample {
            at,
            latency: at - start,
        })
    }
}
