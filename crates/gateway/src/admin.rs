//! The admin listener (default 127.0.0.1:9090, never the traffic port):
//! `/healthz`, `/readyz` and `/metrics`.

use std::net::SocketAddr;
use std::sync::Arc;

use amanah_store::Store;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use hyper::body::Incoming;

use crate::body::{full, Body};
use crate::error::error_body;
use crate::metrics::Metrics;
use crate::protect;
use crate::request_id;
use crate::server::Handler;

pub struct AdminHandler {
    pub metrics: Arc<Metrics>,
    pub store: Arc<dyn Store>,
    pub audit: Arc<crate::audit::AuditStatus>,
    pub alerts: Arc<crate::alerts::AlertDispatcher>,
}

impl std::fmt::Debug for AdminHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminHandler").finish_non_exhaustive()
    }
}

fn json(status: StatusCode, body: bytes::Bytes) -> Response<Body> {
    let mut r = Response::new(full(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

impl Handler for AdminHandler {
    async fn handle(&self, req: Request<Incoming>, _peer: SocketAddr) -> Response<Body> {
        let rid = request_id::accept_or_generate(req.headers());
        let rid_text = rid.to_str().unwrap_or_default().to_owned();
        let mut resp = match (req.method(), req.uri().path()) {
            (&Method::GET, "/healthz") => json(StatusCode::OK, r#"{"status":"ok"}"#.into()),
            (&Method::GET, "/readyz") => match self.store.ping().await {
                Ok(()) => json(StatusCode::OK, r#"{"status":"ready"}"#.into()),
                Err(e) => {
                    tracing::warn!(error = %e, "readiness check: store unreachable");
                    json(
                        StatusCode::SERVICE_UNAVAILABLE,
                        error_body("unavailable", "the store is unreachable", &rid_text),
                    )
                }
            },
            (&Method::GET, "/metrics") => {
                let mut text = self.metrics.render();
                crate::metrics::render_audit(&self.audit, &mut text);
                crate::metrics::render_alerts(&self.alerts, &mut text);
                let mut r = Response::new(full(text));
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
                );
                r
            }
            _ => json(
                StatusCode::NOT_FOUND,
                error_body("not_found", "no such admin endpoint", &rid_text),
            ),
        };
        let h = resp.headers_mut();
        protect::secure_headers(h, None);
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(request_id::HEADER, rid);
        resp
    }
}
