//! Forwarding: the pooled upstream client and the one function that sends a
//! permitted request to its provider.
//!
//! What crosses the gateway, per RFC 9110 §7.6.1: hop-by-hop headers (the
//! fixed list plus any named in `Connection`) are dropped in both
//! directions. The client's credentials (`Authorization`, `X-API-Key`,
//! `Proxy-Authorization`, `Cookie`) never reach a provider; the route's
//! provider credential is injected instead. No `X-Forwarded-For` is added:
//! a model provider has no need for the end user's address.

use std::sync::Arc;
use std::time::Duration;

use amanah_crypto::SecretString;
use amanah_policy::Permitted;
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{request, Request, Response, Uri};
use http_body_util::BodyExt;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

use crate::body::{Body, GuardedBody, Tripped, UploadCheck};
use crate::config::{Config, Problem, Provider};
use crate::error::GatewayError;
use crate::request_id;

/// Headers that describe one connection, never the message (RFC 9110 §7.6.1),
/// plus `proxy-connection`, which old clients still send.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Client headers that carry the caller's own credentials or identity.
const CLIENT_CREDENTIALS: [&str; 3] = ["authorization", "x-api-key", "cookie"];

/// Removes hop-by-hop headers, including those the `Connection` header names.
pub fn strip_hop_by_hop(headers: &mut HeaderMap) {
    let named: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
    for name in named {
        headers.remove(name);
    }
}

/// A request that passed the pipeline's checks, waiting for a permit.
#[derive(Debug)]
pub struct ForwardRequest {
    pub parts: request::Parts,
    /// The client's body as it streams in (a [`GuardedBody`]), or the body
    /// the privacy stage rewrote.
    pub body: Body,
    /// Why the client's body stopped early, if it did.
    pub tripped: Arc<Tripped>,
    pub provider: usize,
    /// Path below the route's prefix (`""` or `/...`).
    pub remainder: String,
    pub request_id: HeaderValue,
    pub max_body_bytes: u64,
    /// On an upload route: why the body was refused, if it was.
    pub upload: Option<Arc<UploadCheck>>,
}

type HttpsClient = Client<HttpsConnector<HttpConnector>, Body>;

struct ProviderClient {
    client: HttpsClient,
    base: Uri,
    credential: Option<HeaderValue>,
    credential_header: HeaderName,
    first_byte_timeout: Duration,
    idle_timeout: Duration,
}

/// One pooled client per provider (each has its own connect timeout).
pub struct Upstreams {
    providers: Vec<ProviderClient>,
}

impl std::fmt::Debug for Upstreams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstreams")
            .field("providers", &self.providers.len())
            .finish()
    }
}

/// Builds the TLS client configuration: the system's roots plus an optional
/// extra CA file, TLS 1.2+ only.
pub fn client_tls(config: &Config) -> Result<rustls::ClientConfig, Problem> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = &config.upstream.extra_ca_file {
        let bad = |msg: String| {
            Problem::new(
                "upstream.extra_ca_file",
                msg,
                "point it at a PEM file of CA certificates",
            )
        };
        let certs = CertificateDer::pem_file_iter(path)
            .map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("{} is not valid PEM: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(bad(format!("{} holds no certificate", path.display())));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| bad(format!("{}: unusable certificate: {e}", path.display())))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| Problem::new("upstream", e.to_string(), "report this as a bug"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(cfg)
}

/// The header value to inject: `Bearer <secret>` for `Authorization`, the
/// raw secret for any other header. Marked sensitive so HTTP/2 never
/// indexes it and debug output hides it.
pub fn credential_value(
    header: &HeaderName,
    secret: &SecretString,
    key: &str,
) -> Result<HeaderValue, Problem> {
    let text = if header == header::AUTHORIZATION {
        format!("Bearer {}", secret.expose())
    } else {
        secret.expose().to_owned()
    };
    let mut v = HeaderValue::from_str(&text).map_err(|_| {
        Problem::new(
            key,
            "the credential contains characters not allowed in a header",
            "check the secret's content",
        )
    })?;
    v.set_sensitive(true);
    Ok(v)
}

impl Upstreams {
    /// One client per provider; `credentials[i]` is injected for provider `i`.
    pub fn new(
        config: &Config,
        credentials: Vec<Option<HeaderValue>>,
        tls: rustls::ClientConfig,
    ) -> Self {
        let providers = config
            .providers
            .iter()
            .zip(credentials)
            .map(|(p, credential)| ProviderClient {
                client: build_client(config, p, tls.clone()),
                base: p.base_url.clone(),
                credential,
                credential_header: p.credential_header.clone(),
                first_byte_timeout: p.first_byte_timeout,
                idle_timeout: p.idle_timeout,
            })
            .collect();
        Self { providers }
    }

    /// Sends the permitted request upstream and streams the answer back.
    /// Accepts only a [`Permitted`] request: there is no other way in.
    pub async fn forward(
        &self,
        permit: Permitted<ForwardRequest>,
    ) -> Result<Response<Body>, GatewayError> {
        let (fwd, _principal) = permit.into_parts();
        let p = &self.providers[fwd.provider];
        let uri = upstream_uri(&p.base, &fwd.remainder, fwd.parts.uri.query())?;

        let mut headers = fwd.parts.headers;
        strip_hop_by_hop(&mut headers);
        for name in CLIENT_CREDENTIALS {
            headers.remove(name);
        }
        headers.remove(header::HOST);
        headers.remove(header::EXPECT);
        // Amanah's own: who the data is about is none of the provider's
        // business.
        headers.remove(crate::subjects::SUBJECT_HEADER);
        headers.remove(crate::subjects::TENANT_HEADER);
        if let Some(v) = &p.credential {
            headers.insert(p.credential_header.clone(), v.clone());
        }
        headers.insert(request_id::HEADER, fwd.request_id);

        let tripped = fwd.tripped;
        let fwd_limit = fwd.max_body_bytes;
        let mut req = Request::new(fwd.body);
        *req.method_mut() = fwd.parts.method;
        *req.uri_mut() = uri;
        *req.headers_mut() = headers;

        let sent = tokio::time::timeout(p.first_byte_timeout, p.client.request(req)).await;
        let refused = || fwd.upload.as_ref().and_then(|u| u.rejection());
        let resp = match sent {
            Err(_) => return Err(GatewayError::UpstreamTimeout("first byte")),
            // An upstream may answer before it has read the body; a refused
            // upload must not pass on that answer.
            Ok(Ok(_)) if refused().is_some() => {
                return Err(GatewayError::UploadRejected(refused().unwrap_or(
                    amanah_media::Rejection::UnsupportedType { format: None },
                )))
            }
            Ok(Ok(resp)) => resp,
            Ok(Err(e)) => {
                if let Some(r) = refused() {
                    return Err(GatewayError::UploadRejected(r));
                }
                return Err(classify(&e, &tripped, fwd_limit));
            }
        };

        let (mut parts, body) = resp.into_parts();
        strip_hop_by_hop(&mut parts.headers);
        let body = GuardedBody::new(body, None, Some(p.idle_timeout)).boxed();
        Ok(Response::from_parts(parts, body))
    }
}

fn build_client(config: &Config, p: &Provider, tls: rustls::ClientConfig) -> HttpsClient {
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(p.connect_timeout));
    http.set_keepalive(Some(Duration::from_secs(60)));
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .timer(TokioTimer::new())
        .pool_idle_timeout(config.upstream.pool_idle_timeout)
        .pool_max_idle_per_host(config.upstream.pool_max_idle_per_host)
        .build(https)
}

/// `base` + `remainder` + `?query`.
fn upstream_uri(base: &Uri, remainder: &str, query: Option<&str>) -> Result<Uri, GatewayError> {
    let base_path = base.path().trim_end_matches('/');
    let mut path = format!("{base_path}{remainder}");
    if path.is_empty() {
        path.push('/');
    }
    if let Some(q) = query {
        path.push('?');
        path.push_str(q);
    }
    let mut parts = base.clone().into_parts();
    parts.path_and_query = Some(
        path.parse()
            .map_err(|_| GatewayError::BadRequest("the request path cannot be forwarded"))?,
    );
    Uri::from_parts(parts)
        .map_err(|_| GatewayError::BadRequest("the request path cannot be forwarded"))
}

/// Maps a client error to the gateway's error, reading typed causes rather
/// than messages.
fn classify(e: &hyper_util::client::legacy::Error, tripped: &Tripped, limit: u64) -> GatewayError {
    if tripped.too_large() {
        // Only the declared length is known up front; a streamed body that
        // outgrew the limit surfaces here.
        return GatewayError::PayloadTooLarge { limit };
    }
    if tripped.idle() {
        return GatewayError::RequestBodyTimeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return GatewayError::UpstreamTimeout("connect");
            }
        }
        source = s.source();
    }
    let detail = error_chain(e);
    if e.is_connect() {
        GatewayError::UpstreamConnect(detail)
    } else {
        GatewayError::Upstream(detail)
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hop_by_hop_headers_and_those_named_by_connection_are_dropped() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("close, x-secret-hop"),
        );
        h.insert("x-secret-hop", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::TE, HeaderValue::from_static("trailers"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1, "{h:?}");
        assert!(h.contains_key(header::CONTENT_TYPE));
    }

    #[test]
    fn upstream_uri_joins_base_path_and_remainder() {
        let base: Uri = "http://127.0.0.1:8765/v1".parse().unwrap();
        assert_eq!(
            upstream_uri(&base, "/chat/completions", None).unwrap(),
            "http://127.0.0.1:8765/v1/chat/completions"
        );
        assert_eq!(
            upstream_uri(&base, "", Some("a=1")).unwrap(),
            "http://127.0.0.1:8765/v1?a=1"
        );
        let root: Uri = "https://api.example.com/".parse().unwrap();
        assert_eq!(
            upstream_uri(&root, "", None).unwrap(),
            "https://api.example.com/"
        );
        assert_eq!(
            upstream_uri(&root, "/x", None).unwrap(),
            "https://api.example.com/x"
        );
    }

    #[test]
    fn injected_credential_is_sensitive() {
        let s = SecretString::new("sk-test-0123456789abcdefghijklmnopqrstuv".into());
        let v = credential_value(&header::AUTHORIZATION, &s, "k").unwrap();
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("sk-test"));
        let raw = credential_value(&HeaderName::from_static("x-api-key"), &s, "k").unwrap();
        assert_eq!(raw.to_str().unwrap(), s.expose());
    }
}
