//! Timestamps: stored as unix milliseconds, written as RFC 3339 with milliseconds.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Milliseconds since the unix epoch, now.
pub fn now_millis() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// `2026-02-16T10:05:00.123Z` for a unix-millisecond timestamp.
pub fn rfc3339(millis: i64) -> String {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let at = at
        .replace_nanosecond(at.millisecond() as u32 * 1_000_000)
        .unwrap_or(at);
    at.format(&Rfc3339).unwrap_or_default()
}

/// The unix-millisecond timestamp of an RFC 3339 one, as [`rfc3339`] writes them.
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_milliseconds_in_utc() {
        assert_eq!(rfc3339(1_771_236_300_123), "2026-02-16T10:05:00.123Z");
    }

    #[test]
    fn reads_back_what_it_writes() {
        assert_eq!(
            parse_rfc3339("2026-02-16T10:05:00.123Z"),
            Some(1_771_236_300_123)
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
