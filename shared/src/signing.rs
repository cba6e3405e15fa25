//! Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 over "{id}.{timestamp}.{body}">`,
//! one per active secret, space-separated, so a receiver can rotate secrets.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

const PREFIX: &str = "whsec_";
const MIN_BYTES: usize = 24;
const MAX_BYTES: usize = 64;

/// A signing secret: `whsec_` + standard base64 of 24 to 64 random bytes. Never printed:
/// its `Debug` and `Display` show only that it is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret {
    key: Vec<u8>,
}

impl SigningSecret {
    /// Parses `whsec_<base64>`; the message says what is wrong without echoing the value.
    pub fn parse(value: &str) -> Result<Self, String> {
        let encoded = value
            .strip_prefix(PREFIX)
            .ok_or("a signing secret starts with whsec_")?;
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| "a signing secret is whsec_ followed by standard base64")?;
        if !(MIN_BYTES..=MAX_BYTES).contains(&key.len()) {
            return Err(format!(
                "a signing secret holds {MIN_BYTES} to {MAX_BYTES} bytes, this one {}",
                key.len()
            ));
        }
        Ok(Self { key })
    }

    /// A new secret of 32 random bytes.
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut key = vec![0u8; 32];
        getrandom::fill(&mut key)?;
        Ok(Self { key })
    }

    /// The secret in its `whsec_` form, for the one place that must show it: the command
    /// that generates it.
    pub fn expose(&self) -> String {
        format!("{PREFIX}{}", STANDARD.encode(&self.key))
    }

    fn sign(&self, content: &[u8]) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes keys of any length");
        mac.update(content);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

/// The `webhook-signature` header value for one message, signed by every secret.
pub fn signature(secrets: &[SigningSecret], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut content = format!("{id}.{timestamp}.").into_bytes();
    content.extend_from_slice(body);
    secrets
        .iter()
        .map(|s| s.sign(&content))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn matches_the_specification_example() {
        let secret = SigningSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&[secret], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_are_checked_and_never_shown() {
        assert!(SigningSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(SigningSecret::parse("whsec_not base64!").is_err());
        assert!(SigningSecret::parse("whsec_c2hvcnQ=").is_err(), "too short");
        let secret = SigningSecret::generate().unwrap();
        assert_eq!(format!("{secret:?}"), "SigningSecret(<redacted>)");
        assert_eq!(SigningSecret::parse(&secret.expose()).unwrap(), secret);
    }

    #[test]
    fn every_secret_signs_during_a_rotation() {
        let a = SigningSecret::generate().unwrap();
        let b = SigningSecret::generate().unwrap();
        let both = signature(&[a.clone(), b], "id", 1, b"{}");
        let parts: Vec<&str> = both.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], signature(&[a], "id", 1, b"{}"));
    }
}
