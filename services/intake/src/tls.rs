//! The HTTPS listener's TLS configuration: certificate, key and, with mutual TLS, the CA
//! that signs client certificates. Loaded at start and again on SIGHUP; a reload affects
//! new connections only, so open ones carry on.

use std::path::Path;
use std::sync::{Arc, RwLock};

use anyhow::Context as _;
use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ServerConfig, WebPkiClientVerifier};
use shared::config::TlsConfig;
use x509_parser::extensions::GeneralName;

/// The current configuration, swapped whole on reload.
#[derive(Clone)]
pub struct Reloadable {
    settings: TlsConfig,
    current: Arc<RwLock<Arc<ServerConfig>>>,
}

impl Reloadable {
    pub fn load(settings: &TlsConfig) -> anyhow::Result<Self> {
        let config = build(settings)?;
        Ok(Self {
            settings: settings.clone(),
            current: Arc::new(RwLock::new(config)),
        })
    }

    /// The configuration for the next handshake.
    pub fn current(&self) -> Arc<ServerConfig> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Reads the files again; on failure keeps the configuration it had.
    pub fn reload(&self) -> anyhow::Result<()> {
        let config = build(&self.settings)?;
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = config;
        Ok(())
    }
}

fn build(settings: &TlsConfig) -> anyhow::Result<Arc<ServerConfig>> {
    let (Some(cert), Some(key)) = (&settings.cert, &settings.key) else {
        anyhow::bail!("TLS needs both a certificate and a key");
    };
    let chain = certificates(cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading the private key {}", key.display()))?;
    let builder = ServerConfig::builder();
    let builder = match (&settings.ca_cert, settings.mutual) {
        (Some(ca), true) => {
            let mut roots = RootCertStore::empty();
            for certificate in certificates(ca)? {
                roots.add(certificate).context("a CA certificate")?;
            }
            let verifier = WebPkiClientVerifier::builder(Arc::new(roots))
                .build()
                .context("the client certificate verifier")?;
            builder.with_client_cert_verifier(verifier)
        }
        _ => builder.with_no_client_auth(),
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .context("the certificate does not match the key")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn certificates(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let certificates = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("reading {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing {}", path.display()))?;
    anyhow::ensure!(
        !certificates.is_empty(),
        "no certificate in {}",
        path.display()
    );
    Ok(certificates)
}

/// Who a client certificate names: its subject CN, else its first SAN URI or DNS name.
pub fn peer_identity(certificates: Option<&[CertificateDer<'_>]>) -> Option<String> {
    let leaf = certificates?.first()?;
    let (_, parsed) = x509_parser::parse_x509_certificate(leaf.as_ref()).ok()?;
    if let Some(cn) = parsed
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
    {
        return Some(cn.to_owned());
    }
    let names = parsed.subject_alternative_name().ok()??;
    names
        .value
        .general_names
        .iter()
        .find_map(|name| match name {
            GeneralName::URI(uri) => Some((*uri).to_owned()),
            GeneralName::DNSName(dns) => Some((*dns).to_owned()),
            _ => None,
        })
}
