//! One attempt to deliver one webhook: a signed `POST` through a client that follows no
//! redirects, connects only to allowed addresses, gives up after the timeout and reads at
//! most a few kilobytes of the answer.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use reqwest::{StatusCode, header};
use shared::callback::AddressPolicy;
use shared::clock;
use shared::config::CallbacksConfig;
use shared::contract::headers;
use shared::signing::{self, SigningSecret};
use url::Url;

use crate::resolver::GuardedResolver;

/// Most of a receiver's answer that is read.
const ANSWER_CAP: usize = 16 * 1024;

/// The client every attempt of one dispatcher shares.
pub fn client(config: &CallbacksConfig) -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(config.timeout)
        .connect_timeout(config.timeout.min(Duration::from_secs(5)))
        .dns_resolver(Arc::new(GuardedResolver {
            policy: config.address_policy(),
        }))
        .user_agent(concat!(
            "participant-dispatcher/",
            env!("CARGO_PKG_VERSION")
        ))
        .build()
}

/// A webhook ready to send: its body is the same on every attempt.
pub struct Webhook<'a> {
    pub url: &'a str,
    /// `webhook-id`: the event id, stable across retries.
    pub id: String,
    pub body: Bytes,
    pub correlation: &'a str,
    pub tenant: String,
    pub workflow_id: Option<&'a str>,
    /// W3C trace context of the request that started the operation.
    pub traceparent: Option<&'a str>,
}

/// How one attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// A `2xx` within the timeout.
    Delivered,
    /// `410 Gone`: the receiver wants no more.
    Gone,
    /// Anything else; `retry_after` when a `429` or `503` asked for a pause.
    Failed {
        error: String,
        retry_after: Option<Duration>,
    },
}

pub async fn attempt(
    client: &reqwest::Client,
    policy: &AddressPolicy,
    secrets: &[SigningSecret],
    webhook: &Webhook<'_>,
) -> Attempt {
    let failed = |error: String| Attempt::Failed {
        error,
        retry_after: None,
    };
    let Ok(url) = Url::parse(webhook.url) else {
        return failed("the callback URL does not parse".into());
    };
    if let Some(ip) = literal_ip(&url)
        && !policy.allows(ip)
    {
        return failed(format!("{ip} is not an allowed address"));
    }
    let timestamp = clock::now_millis() / 1000;
    let signature = signing::signature(secrets, &webhook.id, timestamp, &webhook.body);
    let mut request = client
        .post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .header("webhook-id", &webhook.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .header(headers::CORRELATION_ID, webhook.correlation)
        .header(headers::TENANT_ID, &webhook.tenant);
    if let Some(workflow) = webhook.workflow_id {
        request = request.header(headers::WORKFLOW_ID, workflow);
    }
    if let Some(traceparent) = webhook.traceparent {
        request = request.header(headers::TRACEPARENT, traceparent);
    }
    let mut response = match request.body(webhook.body.clone()).send().await {
        Ok(response) => response,
        Err(error) => return failed(describe(&error)),
    };
    let status = response.status();
    let retry_after = matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    )
    .then(|| retry_after(response.headers()))
    .flatten();
    let mut read = 0;
    while read < ANSWER_CAP {
        match response.chunk().await {
            Ok(Some(chunk)) => read += chunk.len(),
            Ok(None) | Err(_) => break,
        }
    }
    if status.is_success() {
        Attempt::Delivered
    } else if status == StatusCode::GONE {
        Attempt::Gone
    } else {
        Attempt::Failed {
            error: format!("the receiver answered {status}"),
            retry_after,
        }
    }
}

/// The host of `url` when it is an IP address (which no resolver sees).
fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// `Retry-After` in seconds.
fn retry_after(response_headers: &header::HeaderMap) -> Option<Duration> {
    response_headers
        .get(header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// What went wrong, in words fit for the status document.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "the receiver did not answer in time".into()
    } else if error.is_connect() {
        "could not connect to the receiver".into()
    } else {
        "the request failed".into()
    }
}
