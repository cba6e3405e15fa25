//! The Lua scripts, loaded once per process. A script about an operation names its hash's
//! fields as `F.status`, `F.current`..., which are spelled out from [`field::ALL`] when the
//! script is built (so no table is made at every call), and is prefixed with the shared
//! helpers of `lua/prelude.lua` (the one way to end an operation), so Rust and Lua read the
//! same names. `EVALSHA` with a fallback to `EVAL` is done by `redis::Script`, so a
//! restarted Valkey that lost its script cache is handled.

use std::sync::LazyLock;

use redis::{FromRedisValue, ParsingError, Script, ScriptInvocation, Value};

use super::record::{self, field};
use crate::names::Names;

/// One call of a script: its keys and arguments named by the type's fields, its reply
/// decoded into [`Call::Reply`].
pub trait Call {
    type Reply: FromRedisValue;

    fn script(&self) -> &'static Script;

    /// Puts the keys and arguments on `invocation`, in the script's order.
    fn bind(&self, names: &Names, invocation: &mut ScriptInvocation<'_>);
}

/// The reply of the operation scripts: `{outcome, hash, list}`, where the list is the
/// per-item errors or the next input items, as the script says.
pub struct Tagged {
    pub outcome: String,
    /// The record's fields, in [`record::in_order`]'s shape (the script answers them as
    /// `HGETALL` does).
    pub fields: Vec<Option<String>>,
    pub list: Vec<String>,
}

impl FromRedisValue for Tagged {
    fn from_redis_value(value: Value) -> Result<Self, ParsingError> {
        let (outcome, hash, list): (String, record::Hash, Vec<String>) =
            FromRedisValue::from_redis_value(value)?;
        Ok(Self {
            outcome,
            fields: record::in_order(hash),
            list,
        })
    }
}

/// The error for an outcome a script does not return.
pub fn unknown(script: &str, outcome: &str) -> ParsingError {
    ParsingError::from(format!("{script}: unknown outcome {outcome}"))
}

/// The prelude, then `body`, each `F.<name>` in them spelled out as the quoted field.
fn about_an_operation(body: &str) -> Script {
    let text = format!("{}\n{body}", include_str!("lua/prelude.lua"));
    Script::new(&spell_fields(&text))
}

/// `text` with every `F.<name>` replaced by `'<field>'`, `<name>` being a field's constant
/// in lower case (`F.current` is `'cur'`).
///
/// # Panics
/// On a name that is no field: a script that could never run (a unit test builds them all).
fn spell_fields(text: &str) -> String {
    let mut spelled = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("F.") {
        let name_starts = at + 2;
        let name_len = rest[name_starts..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len() - name_starts);
        let name = &rest[name_starts..name_starts + name_len];
        let (_, value) = field::ALL
            .iter()
            .find(|(constant, _)| constant.eq_ignore_ascii_case(name))
            .unwrap_or_else(|| panic!("F.{name} is not a field of the operation hash"));
        spelled.push_str(&rest[..at]);
        spelled.push('\'');
        spelled.push_str(value);
        spelled.push('\'');
        rest = &rest[name_starts + name_len..];
    }
    spelled.push_str(rest);
    spelled
}

pub static START: LazyLock<Script> =
    LazyLock::new(|| about_an_operation(include_str!("lua/start.lua")));
pub static CHECKPOINT: LazyLock<Script> =
    LazyLock::new(|| about_an_operation(include_str!("lua/checkpoint.lua")));
pub static HEARTBEAT: LazyLock<Script> =
    LazyLock::new(|| about_an_operation(include_str!("lua/heartbeat.lua")));
pub static FAIL: LazyLock<Script> =
    LazyLock::new(|| about_an_operation(include_str!("lua/fail.lua")));
pub static CANCEL: LazyLock<Script> =
    LazyLock::new(|| about_an_operation(include_str!("lua/cancel.lua")));
pub static CALLBACK: LazyLock<Script> =
    LazyLock::new(|| about_an_operation(include_str!("lua/callback.lua")));
pub static COMPENSATE: LazyLock<Script> =
    LazyLock::new(|| about_an_operation(include_str!("lua/compensate.lua")));
pub static CREATE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/create.lua")));
pub static IMPORT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("lua/import.lua")));
pub static UNCREATE: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/uncreate.lua")));
pub static COMPLETE_KEY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/complete_key.lua")));
pub static RELEASE_KEY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/release_key.lua")));
pub static RENEW_KEY: LazyLock<Script> =
    LazyLock::new(|| Script::new(include_str!("lua/renew_key.lua")));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_field_table_names_every_field_once() {
        let mut names: Vec<&str> = field::ALL.iter().map(|(name, _)| *name).collect();
        let mut values: Vec<&str> = field::ALL.iter().map(|(_, value)| *value).collect();
        names.sort_unstable();
        values.sort_unstable();
        names.dedup();
        values.dedup();
        assert_eq!(names.len(), field::ALL.len());
        assert_eq!(values.len(), field::ALL.len());
    }

    #[test]
    fn field_names_are_spelled_out_when_a_script_is_built() {
        assert_eq!(
            spell_fields("HGET(k, F.status) HSET(k, F.current, 1, F.callback_url)"),
            "HGET(k, 'status') HSET(k, 'cur', 1, 'cb_url')"
        );
        for script in [
            &START,
            &CHECKPOINT,
            &HEARTBEAT,
            &FAIL,
            &CANCEL,
            &CALLBACK,
            &COMPENSATE,
        ] {
            // Building a script spells its fields out, and panics on a name that is none.
            LazyLock::force(script);
        }
    }

    #[test]
    #[should_panic(expected = "F.colour is not a field")]
    fn a_name_that_is_no_field_is_refused() {
        spell_fields("HGET(k, F.colour)");
    }
}
