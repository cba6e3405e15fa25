//! The Lua scripts, loaded once per process. `EVALSHA` with a fallback to `EVAL` is done by
//! `redis::Script`, so a restarted Valkey that lost its script cache is handled.

use std::sync::LazyLock;

use redis::Script;

pub static START: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/start.lua")));
pub static CHECKPOINT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/checkpoint.lua")));
pub static HEARTBEAT: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/heartbeat.lua")));
pub static FAIL: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/fail.lua")));
pub static IMPORT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/import.lua")));
pub static CANCEL: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/cancel.lua")));
pub static RELEASE_KEY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/release_key.lua")));
pub static CALLBACK: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/callback.lua")));
pub static COMPENSATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/compensate.lua")));
pub static UNCREATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/uncreate.lua")));
