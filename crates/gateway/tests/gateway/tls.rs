//! TLS termination: 1.2 and 1.3 handshakes succeed, 1.0 and 1.1 are
//! refused with a protocol_version alert, HSTS is sent.

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::support::*;

struct TlsHarness {
    h: Harness,
    ca: CertificateDer<'static>,
}

async fn tls_harness() -> TlsHarness {
    let dir = tempfile::tempdir().unwrap();
    let cert =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let cert_path = dir.path().join("cert.pem");
    let key_path = dir.path().join("key.pem");
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    write_private(&key_path, &cert.key_pair.serialize_pem());
    let h = Harness::with(Setup {
        server: format!(
            "[server.tls]\ncert_file = \"{}\"\nkey_file = \"{}\"\nhsts_max_age_secs = 600",
            cert_path.display(),
            key_path.display()
        ),
        ..Setup::default()
    })
    .await;
    // Keep the cert files alive with the harness' own tempdir.
    std::fs::rename(dir.path(), h.dir.path().join("tls")).unwrap();
    TlsHarness {
        ca: cert.cert.der().clone(),
        h,
    }
}

/// Serves a [`TestUpstream`] over TLS with a fresh self-signed certificate
/// for `localhost`; returns its address and the certificate's PEM.
async fn tls_upstream() -> (
    std::net::SocketAddr,
    String,
    tokio::sync::watch::Sender<bool>,
) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::try_from(cert.key_pair.serialize_der()).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert.cert.der().clone()], key)
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::watch::channel(false);
    let limits = amanah_gateway::server::ConnLimits {
        max_connections: 16,
        header_read_timeout: Duration::from_secs(5),
        max_header_bytes: 16 * 1024,
        max_headers: 100,
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    tokio::spawn(amanah_gateway::server::serve(
        listener,
        Some(acceptor),
        limits,
        Arc::new(TestUpstream::default()),
        rx,
    ));
    (addr, cert.cert.pem(), tx)
}

#[tokio::test]
async fn upstream_certificates_are_verified() {
    let (addr, ca_pem, _stop) = tls_upstream().await;
    let base = format!("https://localhost:{}/v1", addr.port());

    // Not trusted: the system roots do not know this certificate.
    let mut h = Harness::with(Setup {
        upstream_base: Some(base.clone()),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let (s, _, b) = h.chat(&key).await;
    assert_error(s, http::StatusCode::BAD_GATEWAY, &b, "bad_gateway");
    h.finish().await;

    // Trusted through upstream.extra_ca_file.
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, ca_pem).unwrap();
    let mut h = Harness::with(Setup {
        upstream_base: Some(base),
        top: format!("[upstream]\nextra_ca_file = \"{}\"", ca.display()),
        ..Setup::default()
    })
    .await;
    let key = h.key().await;
    let (s, _, b) = h.chat(&key).await;
    assert_eq!(s, http::StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    h.finish().await;
}

async fn handshake(
    addr: std::net::SocketAddr,
    ca: &CertificateDer<'static>,
    version: &'static rustls::SupportedProtocolVersion,
) -> Result<tokio_rustls::client::TlsStream<tokio::net::TcpStream>, std::io::Error> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(ca.clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(&[version])
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    connector
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

#[tokio::test]
async fn tls13_and_tls12_handshakes_succeed_and_hsts_is_sent() {
    let t = tls_harness().await;
    for version in [&rustls::version::TLS13, &rustls::version::TLS12] {
        let mut stream = handshake(t.h.addr, &t.ca, version)
            .await
            .expect("handshake");
        assert_eq!(stream.get_ref().1.protocol_version(), Some(version.version));
        stream
            .write_all(b"GET /v1/models HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out).await;
        let text = String::from_utf8_lossy(&out).to_ascii_lowercase();
        assert!(text.starts_with("http/1.1 401"), "{text}");
        assert!(
            text.contains("strict-transport-security: max-age=600; includesubdomains"),
            "{text}"
        );
    }
    t.h.finish().await;
}

/// A minimal TLS ClientHello offering only `version` (no supported_versions
/// extension), as a TLS 1.0 or 1.1 client sends it.
fn legacy_client_hello(version: [u8; 2]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&version);
    body.extend_from_slice(&[7u8; 32]); // random
    body.push(0); // session id
                  // Suites the server does support (ECDHE-RSA/ECDSA-AES128-GCM-SHA256), so
                  // the protocol version is the only reason left to refuse.
    let suites: [u8; 4] = [0xc0, 0x2f, 0xc0, 0x2b];
    body.extend_from_slice(&(suites.len() as u16).to_be_bytes());
    body.extend_from_slice(&suites);
    body.extend_from_slice(&[1, 0]); // compression: null
                                     // Extensions a modern client library sends even when capped at 1.1:
                                     // signature_algorithms (ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256),
                                     // supported_groups (x25519, secp256r1), ec_point_formats (uncompressed).
                                     // With them the server can pick a certificate, so the version is the
                                     // only thing it can object to.
    let exts: &[u8] = &[
        0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 0x04, 0x03, 0x08, 0x04, //
        0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17, //
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,
    ];
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(exts);
    let mut hs = vec![1u8];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    record.extend_from_slice(&hs);
    record
}

#[tokio::test]
async fn tls10_and_tls11_are_refused() {
    let t = tls_harness().await;
    for (name, version) in [("TLS 1.0", [3u8, 1u8]), ("TLS 1.1", [3, 2])] {
        let mut tcp = tokio::net::TcpStream::connect(t.h.addr).await.unwrap();
        tcp.write_all(&legacy_client_hello(version)).await.unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut out)).await;
        // An alert record (0x15) whose description is protocol_version (70),
        // and certainly no ServerHello (handshake record 0x16).
        assert!(!out.is_empty(), "{name}: no answer");
        assert_eq!(out[0], 0x15, "{name}: expected an alert, got {out:?}");
        assert_eq!(
            out.get(6),
            Some(&70),
            "{name}: expected protocol_version, got {out:?}"
        );
    }
    // Control: the same hello claiming TLS 1.2 gets a ServerHello, so the
    // refusals above are about the version and nothing else.
    let mut tcp = tokio::net::TcpStream::connect(t.h.addr).await.unwrap();
    tcp.write_all(&legacy_client_hello([3, 3])).await.unwrap();
    let mut first = [0u8; 6];
    tokio::time::timeout(Duration::from_secs(5), tcp.read_exact(&mut first))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (first[0], first[5]),
        (0x16, 2),
        "expected a ServerHello record: {first:?}"
    );
    t.h.finish().await;
}

#[tokio::test]
async fn admin_session_cookie_is_secure_over_tls() {
    let mut t = tls_harness().await;
    let password = "Tls-Only-Cookie-42!";
    t.h.remember_secret(password);
    let users = &t.h.gw.as_ref().unwrap().users;
    let now = amanah_gateway::keys::now_unix();
    let (_, setup) = users
        .create("tess", &["viewer".to_owned()], now)
        .await
        .unwrap();
    let secret = amanah_crypto::SecretString::new(password.to_owned());
    users
        .complete_setup("tess", setup.expose(), &secret, now)
        .await
        .unwrap();
    t.h.remember_secret(setup.expose());

    let body = format!(r#"{{"username":"tess","password":"{password}"}}"#);
    let mut stream = handshake(t.h.addr, &t.ca, &rustls::version::TLS13)
        .await
        .expect("handshake");
    let request = format!(
        "POST /admin/v1/session HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out).await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    let cookie = text
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: amanah_session=")
        })
        .expect("a session cookie");
    for attribute in [
        "; Secure",
        "; HttpOnly",
        "; SameSite=Strict",
        "; Path=/admin",
    ] {
        assert!(cookie.contains(attribute), "{attribute} missing");
    }
    let token = cookie
        .split_once('=')
        .and_then(|(_, v)| v.split(';').next())
        .unwrap();
    t.h.remember_secret(token);
    t.h.finish().await;
}
