//! HTTP/1.1 spoken by hand over a `TcpStream`, for clients no HTTP library would be: ones
//! that stall, trickle, or never finish. Reads are bounded; a bound passed is a failure.

use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio::time::{Instant, timeout};

/// A response as read off the wire.
#[derive(Debug)]
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

/// Reads until the peer closes (EOF or a reset); returns how long that took. Panics after
/// `bound`.
pub async fn until_closed<S: AsyncRead + Unpin>(stream: &mut S, bound: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 4096];
    let closed = timeout(bound, async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the connection was still open after {bound:?}"
    );
    started.elapsed()
}

/// Reads one response (its head, then `Content-Length` bytes of body). Panics after `bound`.
pub async fn response<S: AsyncRead + Unpin>(stream: &mut S, bound: Duration) -> RawResponse {
    timeout(bound, read_response(stream))
        .await
        .unwrap_or_else(|_| panic!("no response within {bound:?}"))
}

async fn read_response<S: AsyncRead + Unpin>(stream: &mut S) -> RawResponse {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at;
        }
        let read = stream.read(&mut buf).await.expect("reading a response");
        assert!(read > 0, "closed before a response head");
        bytes.extend_from_slice(&buf[..read]);
    };
    let head = String::from_utf8(bytes[..head_end].to_vec()).expect("an ASCII head");
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = bytes[head_end + 4..].to_vec();
    while body.len() < length {
        let read = stream.read(&mut buf).await.expect("reading a body");
        assert!(read > 0, "closed in the middle of a body");
        body.extend_from_slice(&buf[..read]);
    }
    body.truncate(length);
    RawResponse {
        status,
        headers,
        body,
    }
}
