//! Name resolution for callbacks that refuses forbidden addresses, so the address the
//! client connects to is the one checked, whatever DNS answered when the operation was
//! accepted (DNS rebinding).

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use shared::callback::AddressPolicy;

pub struct GuardedResolver {
    pub policy: AddressPolicy,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.policy.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let resolved: Vec<SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .iter()
                .copied()
                .filter(|a| policy.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves only to forbidden addresses").into());
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_name_resolving_to_a_forbidden_address_is_refused_at_connect_time() {
        let strict = GuardedResolver {
            policy: AddressPolicy::default(),
        };
        let name: Name = "localhost".parse().unwrap();
        assert!(strict.resolve(name).await.is_err());

        let allowing = GuardedResolver {
            policy: AddressPolicy {
                allow_http: true,
                allowed_networks: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
            },
        };
        let name: Name = "localhost".parse().unwrap();
        let addresses: Vec<SocketAddr> = allowing.resolve(name).await.unwrap().collect();
        assert!(!addresses.is_empty());
        assert!(addresses.iter().all(|a| a.ip().is_loopback()));
    }
}
