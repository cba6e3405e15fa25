//! Webhook callbacks: who may receive them, how they are signed, how often retried.

use std::time::Duration;

use ipnet::IpNet;

use super::parse_positive_duration;
use crate::callback::AddressPolicy;
use crate::signing::SigningSecret;

/// Webhook callbacks: who may receive them, how they are signed, how often retried.
#[derive(clap::Args, Clone, Debug)]
pub struct CallbacksConfig {
    /// `whsec_...` secrets; every active one signs each callback.
    #[arg(long = "signing-secret", env = "Callbacks__SigningSecrets", value_delimiter = ',', value_parser = SecretParser, hide_env_values = true)]
    pub signing_secrets: Vec<SigningSecret>,
    /// Delays before each retry; attempts in all are one more than its length.
    #[arg(long = "retry-schedule", env = "Callbacks__RetrySchedule", default_value = "5s,30s,2m,10m,30m,1h,3h,6h", value_parser = parse_schedule)]
    pub retry_schedule: RetrySchedule,
    /// How long a receiver has to answer one attempt.
    #[arg(long = "callback-timeout", env = "Callbacks__Timeout", default_value = "10s", value_parser = parse_positive_duration)]
    pub timeout: Duration,
    /// Allow plain `http` callback URLs (development only).
    #[arg(long = "callback-allow-http", env = "Callbacks__AllowHttp", default_value_t = false, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub allow_http: bool,
    /// Networks a callback may reach although not public (CIDR); by default private,
    /// loopback and link-local targets are refused.
    #[arg(
        long = "callback-allow-network",
        env = "Callbacks__AllowedNetworks",
        value_delimiter = ','
    )]
    pub allowed_networks: Vec<IpNet>,
    /// Callback deliveries one dispatcher makes at once for each terminal event kind
    /// (`completed`, `failed`, `cancelled`), so up to three times this in all.
    #[arg(id = "dispatcher_concurrency", long = "dispatcher-concurrency", env = "Callbacks__Concurrency", default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=4096))]
    pub concurrency: u16,
}

/// The dispatcher was started without a secret to sign with.
#[derive(Debug, thiserror::Error)]
#[error(
    "the dispatcher needs at least one signing secret (Callbacks__SigningSecrets or --signing-secret); `participant secret` makes one"
)]
pub struct NoSigningSecret;

impl CallbacksConfig {
    /// The secrets that sign each callback: at least one, or the dispatcher cannot run.
    pub fn secrets(&self) -> Result<&[SigningSecret], NoSigningSecret> {
        if self.signing_secrets.is_empty() {
            Err(NoSigningSecret)
        } else {
            Ok(&self.signing_secrets)
        }
    }

    pub fn address_policy(&self) -> AddressPolicy {
        AddressPolicy {
            allow_http: self.allow_http,
            allowed_networks: self.allowed_networks.clone(),
        }
    }
}

/// The delays before each retry of a callback.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetrySchedule(pub Vec<Duration>);

impl RetrySchedule {
    /// Attempts in all: the first, and one after each delay.
    pub fn attempts(&self) -> u64 {
        self.0.len() as u64 + 1
    }

    /// The delay before attempt `attempt + 1`, when there is one.
    pub fn delay_after(&self, attempt: u64) -> Option<Duration> {
        let index = usize::try_from(attempt.checked_sub(1)?).ok()?;
        self.0.get(index).copied()
    }
}

/// Parses signing secrets without ever echoing one in an error (clap's own messages quote
/// the rejected value).
#[derive(Clone)]
struct SecretParser;

impl clap::builder::TypedValueParser for SecretParser {
    type Value = SigningSecret;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<SigningSecret, clap::Error> {
        let name = arg.map_or_else(|| "--signing-secret".to_owned(), ToString::to_string);
        let fail = |why: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for '{name}': {why}\n"),
            )
        };
        let text = value.to_str().ok_or_else(|| fail("not UTF-8".into()))?;
        SigningSecret::parse(text).map_err(fail)
    }
}

fn parse_schedule(value: &str) -> Result<RetrySchedule, String> {
    value
        .split(',')
        .map(|d| parse_positive_duration(d.trim()))
        .collect::<Result<Vec<_>, _>>()
        .map(RetrySchedule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_schedule_lists_the_delays_before_each_retry() {
        let schedule = parse_schedule("1s,1s,1s").unwrap();
        assert_eq!(schedule.attempts(), 4);
        assert_eq!(schedule.delay_after(1), Some(Duration::from_secs(1)));
        assert_eq!(schedule.delay_after(4), None);
        assert!(parse_schedule("1s,,2s").is_err());
    }
}
