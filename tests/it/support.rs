//! The test harness: servers, the app under test, worker processes, raw HTTP over a
//! socket, a browser, and waiting.

pub mod app;
pub mod browser;
pub mod certs;
pub mod clusters;
pub mod events;
pub mod load;
pub mod metrics;
pub mod processes;
pub mod raw_http;
pub mod receiver;
pub mod servers;
pub mod sse;
pub mod wait;

pub use app::{TestApp, spawn_app};
