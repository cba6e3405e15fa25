//! Black-box tests: real HTTP against the roles, on real `nats-server` and Valkey (or
//! Redis) processes that this binary starts on free ports. Each test owns its prefix and
//! tenant, so tests run in parallel; tests that stop servers get servers of their own.

mod support;

mod bench;
mod bulk_import;
mod cancellation;
mod chaos;
mod cli;
mod compensation;
mod console;
mod dead_letters;
mod discovery;
mod edge;
mod entities;
mod event_streams;
mod events;
mod fencing;
mod headers_and_problems;
mod idempotency;
mod mtls;
mod node_loss;
mod observability;
mod openapi;
mod operations;
mod outages;
mod pollers;
mod real_clients;
mod sweeper;
mod webhooks;
mod worker_processes;
