//! Callback targets (contract §6): which URLs may receive webhooks, and which events.
//! The URL is checked when the operation is accepted and the resolved address again when
//! the dispatcher connects, so DNS rebinding cannot turn a public name into a private
//! address (SSRF).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use url::Url;

use crate::event::EventKind;

/// Events a callback may ask for, and the default.
pub const CALLBACK_EVENTS: [EventKind; 3] = [
    EventKind::Completed,
    EventKind::Failed,
    EventKind::Cancelled,
];
pub const DEFAULT_EVENTS: [EventKind; 2] = [EventKind::Completed, EventKind::Failed];

/// Which callback URLs and addresses are allowed.
#[derive(Clone, Debug, Default)]
pub struct AddressPolicy {
    /// Plain `http` (for development).
    pub allow_http: bool,
    /// Networks allowed although not public (a loopback receiver in development).
    pub allowed_networks: Vec<IpNet>,
}

impl AddressPolicy {
    /// Checks what can be checked without resolving: scheme, userinfo, a host. Returns the
    /// host and port to resolve.
    pub fn check_url(&self, url: &Url) -> Result<(String, u16), String> {
        match url.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => return Err("the callback URL must use https".into()),
            other => return Err(format!("the callback URL scheme {other:?} is not allowed")),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("the callback URL must not carry credentials".into());
        }
        let host = match url.host() {
            Some(url::Host::Domain(name)) => name.to_owned(),
            Some(url::Host::Ipv4(ip)) => ip.to_string(),
            Some(url::Host::Ipv6(ip)) => ip.to_string(),
            None => return Err("the callback URL has no host".into()),
        };
        let port = url
            .port_or_known_default()
            .ok_or("the callback URL has no port")?;
        Ok((host, port))
    }

    /// May the dispatcher connect to this address?
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        is_public(ip) || self.allowed_networks.iter().any(|n| n.contains(&ip))
    }
}

/// Parses `X-Callback-Events`: a comma list of `completed`, `failed`, `cancelled`.
pub fn parse_events(value: &str) -> Result<Vec<EventKind>, String> {
    let mut events = Vec::new();
    for name in value.split(',').map(str::trim) {
        let event = CALLBACK_EVENTS
            .into_iter()
            .find(|e| e.as_str() == name)
            .ok_or_else(|| format!("unknown callback event {name:?}"))?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    Ok(events)
}

/// An IPv4 address carried in IPv6 (mapped `::ffff:a.b.c.d` or NAT64 `64:ff9b::a.b.c.d`)
/// is judged as the IPv4 address it reaches.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return IpAddr::V4(v4);
            }
            let s = v6.segments();
            if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
                let [a, b] = s[6].to_be_bytes();
                let [c, d] = s[7].to_be_bytes();
                return IpAddr::V4(Ipv4Addr::new(a, b, c, d));
            }
            ip
        }
        IpAddr::V4(_) => ip,
    }
}

/// Public unicast: not loopback, private, link-local (cloud metadata among it),
/// unique-local, shared, multicast, reserved or unspecified.
fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    let shared = a == 100 && (64..128).contains(&b);
    let benchmarking = a == 198 && (b == 18 || b == 19);
    let reserved = a >= 240 || a == 0;
    let ietf = a == 192 && b == 0 && ip.octets()[2] == 0;
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_unspecified()
        || ip.is_documentation()
        || shared
        || benchmarking
        || reserved
        || ietf)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    let unique_local = first & 0xfe00 == 0xfc00;
    let link_local = first & 0xffc0 == 0xfe80;
    let documentation = first == 0x2001 && ip.segments()[1] == 0x0db8;
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || unique_local
        || link_local
        || documentation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_private_loopback_link_local_and_metadata_addresses() {
        let policy = AddressPolicy::default();
        for refused in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.3.4",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(!policy.allows(ip(refused)), "{refused}");
        }
        for allowed in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"] {
            assert!(policy.allows(ip(allowed)), "{allowed}");
        }
    }

    #[test]
    fn an_allowlist_opens_named_networks() {
        let policy = AddressPolicy {
            allow_http: true,
            allowed_networks: vec!["127.0.0.1/32".parse().unwrap()],
        };
        assert!(policy.allows(ip("127.0.0.1")));
        assert!(policy.allows(ip("::ffff:127.0.0.1")));
        assert!(!policy.allows(ip("127.0.0.2")));
    }

    #[test]
    fn urls_need_https_no_credentials_and_a_host() {
        let strict = AddressPolicy::default();
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(strict.check_url(&url("https://example.com/hook")).is_ok());
        assert!(strict.check_url(&url("http://example.com/hook")).is_err());
        assert!(strict.check_url(&url("ftp://example.com/hook")).is_err());
        assert!(strict.check_url(&url("https://u:p@example.com/")).is_err());
        assert_eq!(
            strict.check_url(&url("https://[::1]:8443/")).unwrap(),
            ("::1".to_owned(), 8443)
        );
    }

    #[test]
    fn events_are_a_known_comma_list() {
        assert_eq!(
            parse_events("completed, cancelled").unwrap(),
            vec![EventKind::Completed, EventKind::Cancelled]
        );
        assert!(parse_events("completed,started").is_err());
        assert!(parse_events("").is_err());
    }
}
