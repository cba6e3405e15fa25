//! What every role of the participant shares, and nothing that belongs to one role.
//!
//! - [`config`]: the one typed configuration, spelled as `Section__Key` variables and flags.
//! - [`names`]: every subject, stream, consumer and Valkey key, derived from the prefix.
//! - [`contract`]: header names and the wire types of the HTTP contract (status document,
//!   problems).
//! - [`kind`]: the kinds of operation, declared once; [`job`] and [`event`]: the versioned
//!   messages carried by JetStream.
//! - [`ids`]: `TenantId` and `OperationId`, never mixed up.
//! - [`entity`]: the sample domain's rules (names, entity JSON, ids of imported items).
//! - [`operation`]: the operation as the roles know it; its status document is built at
//!   the edges.
//! - [`store`]: the operation store in Valkey; every status transition is one script.
//! - [`connect`]: connections with deadlines, and the JetStream topology declared at start.
//! - [`runner`]: the one message runner of the worker and the dispatcher: it pulls only
//!   for free slots ([`pull`]), counts deliveries ([`delivery`]), retries on one
//!   [`backoff`] schedule and gives up into the [`dead_letter`] stream.
//! - [`callback`] and [`signing`]: which webhook targets are allowed, and Standard Webhooks
//!   signatures.
//! - [`metrics`]: the Prometheus metrics of a process.
//! - [`nats_service`]: registration with the NATS service protocol (`$SRV.PING`...).
//! - [`telemetry`]: logging setup.
//! - [`clock`]: timestamps as the contract writes them.
//! - `fail_point` (with the `fail-points` feature, for the integration tests only): crashes
//!   injected at named points.

pub mod backoff;
pub mod callback;
pub mod clock;
pub mod config;
pub mod connect;
pub mod contract;
pub mod dead_letter;
pub mod delivery;
pub mod entity;
pub mod event;
#[cfg(feature = "fail-points")]
pub mod fail_point;
pub mod ids;
pub mod job;
pub mod kind;
pub mod metrics;
pub mod names;
pub mod nats_service;
pub mod operation;
pub mod pull;
pub mod runner;
pub mod signing;
pub mod store;
pub mod telemetry;
