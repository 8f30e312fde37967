//! TLS termination: rustls with the `ring` provider, TLS 1.2 and 1.3 only,
//! forward-secret AEAD suites only (Mozilla "intermediate").

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{Problem, Tls};

/// The cipher suites Amanah accepts: every TLS 1.3 suite (all are AEAD with
/// ephemeral key exchange) and the TLS 1.2 ECDHE suites with AES-GCM or
/// ChaCha20-Poly1305. `ring`'s defaults are exactly these today; filtering
/// states the policy and keeps it if a default ever widens.
pub fn provider() -> CryptoProvider {
    let mut p = rustls::crypto::ring::default_provider();
    p.cipher_suites.retain(|s| {
        let name = format!("{:?}", s.suite());
        name.starts_with("TLS13_")
            || (name.starts_with("TLS_ECDHE_")
                && (name.contains("_GCM_") || name.contains("CHACHA20_POLY1305")))
    });
    p
}

pub fn server_config(cfg: &Tls) -> Result<Arc<ServerConfig>, Problem> {
    let certs = CertificateDer::pem_file_iter(&cfg.cert_file)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| {
            Problem::new(
                "server.tls.cert_file",
                format!("cannot load {}: {e}", cfg.cert_file.display()),
                "point it at a PEM file holding the certificate chain, leaf first",
            )
        })?;
    if certs.is_empty() {
        return Err(Problem::new(
            "server.tls.cert_file",
            format!("{} holds no certificate", cfg.cert_file.display()),
            "point it at a PEM file holding the certificate chain, leaf first",
        ));
    }
    let key = PrivateKeyDer::from_pem_file(&cfg.key_file).map_err(|e| {
        Problem::new(
            "server.tls.key_file",
            format!(
                "cannot load a private key from {}: {e}",
                cfg.key_file.display()
            ),
            "point it at a PEM private key (PKCS#8, PKCS#1 or SEC1)",
        )
    })?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Problem::new("server.tls", e.to_string(), "report this as a bug"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            Problem::new(
                "server.tls",
                format!("certificate and key do not form a usable pair: {e}"),
                "check that key_file is the private key of cert_file's leaf certificate",
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_forward_secret_aead_suites() {
        let names: Vec<String> = provider()
            .cipher_suites
            .iter()
            .map(|s| format!("{:?}", s.suite()))
            .collect();
        assert!(!names.is_empty());
        for n in &names {
            assert!(
                n.starts_with("TLS13_") || n.starts_with("TLS_ECDHE_"),
                "{n} lacks forward secrecy"
            );
            assert!(
                !n.contains("CBC") && !n.contains("RC4") && !n.contains("3DES"),
                "{n}"
            );
        }
        assert!(names.iter().any(|n| n.starts_with("TLS13_")));
        assert!(names.iter().any(|n| n.starts_with("TLS_ECDHE_")));
    }
}
