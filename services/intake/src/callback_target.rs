//! `X-Callback-Url` and `X-Callback-Events` on an operation-starting `POST`, checked when
//! the operation is accepted: a refused target is a `400` and no operation is created.

use std::net::IpAddr;

use axum::http::HeaderMap;
use shared::callback::{self, AddressPolicy, DEFAULT_EVENTS};
use shared::connect::DEADLINE;
use shared::store::CallbackTarget;
use url::Url;

use crate::context::text;
use crate::header_names;
use crate::problem::ApiError;

/// The callback target the request names, if any, once it passes the policy.
pub async fn from_headers(
    request_headers: &HeaderMap,
    policy: &AddressPolicy,
) -> Result<Option<CallbackTarget>, ApiError> {
    let events = match text(request_headers, &header_names::CALLBACK_EVENTS) {
        None => DEFAULT_EVENTS.to_vec(),
        Some(list) => callback::parse_events(&list).map_err(|e| {
            ApiError::bad_request(
                "callback-events-invalid",
                format!("X-Callback-Events: {e}."),
            )
        })?,
    };
    let Some(raw) = text(request_headers, &header_names::CALLBACK_URL) else {
        return Ok(None);
    };
    let refused = |why: String| {
        ApiError::bad_request("callback-url-refused", format!("X-Callback-Url: {why}."))
    };
    let url = Url::parse(&raw).map_err(|e| refused(format!("not a URL ({e})")))?;
    let (host, port) = policy.check_url(&url).map_err(refused)?;
    let addresses: Vec<IpAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => resolve(&host, port).await.map_err(refused)?,
    };
    if let Some(forbidden) = addresses.iter().find(|ip| !policy.allows(**ip)) {
        return Err(refused(format!(
            "{host} is {forbidden}, a loopback, private, link-local or metadata address"
        )));
    }
    Ok(Some(CallbackTarget {
        url: url.to_string(),
        events,
    }))
}

async fn resolve(host: &str, port: u16) -> Result<Vec<IpAddr>, String> {
    let lookup = tokio::net::lookup_host((host, port));
    match tokio::time::timeout(DEADLINE, lookup).await {
        Ok(Ok(addresses)) => {
            let addresses: Vec<IpAddr> = addresses.map(|a| a.ip()).collect();
            if addresses.is_empty() {
                Err(format!("{host} has no address"))
            } else {
                Ok(addresses)
            }
        }
        Ok(Err(_)) => Err(format!("{host} does not resolve")),
        Err(_) => Err(format!("{host} did not resolve within {DEADLINE:?}")),
    }
}
