//! Black-box tests: real HTTP against the roles, on real `nats-server` and Valkey (or
//! Redis) processes that this binary starts on free ports. Each test owns its prefix and
//! tenant, so tests run in parallel; tests that stop servers get servers of their own.

mod support;

mod bulk_import;
mod cli;
mod entities;
mod events;
mod headers_and_problems;
mod operations;
mod outages;
mod worker_processes;
