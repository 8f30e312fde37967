//! Accepting connections: the connection-level protections that sit before
//! any request is read.
//!
//! - a cap on concurrent connections: a permit is taken *before* `accept`,
//!   so excess clients wait in the kernel's backlog instead of costing
//!   memory here;
//! - the TLS handshake and the request head must each arrive within the
//!   header read timeout (slowloris);
//! - hyper's own hard limits on header size and count sit a little above
//!   the configured ones, which the pipeline enforces with a JSON 431;
//! - graceful drain on shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};
use tokio_rustls::TlsAcceptor;

use crate::body::Body;

/// How long open connections get to finish after shutdown is signalled.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Slack between the configured header limits (answered with JSON by the
/// pipeline) and hyper's hard parse limits (answered by hyper).
const HARD_LIMIT_SLACK_BYTES: usize = 8 * 1024;
const HARD_LIMIT_SLACK_HEADERS: usize = 28;

/// Something that answers requests.
pub trait Handler: Send + Sync + 'static {
    fn handle(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
    ) -> impl Future<Output = Response<Body>> + Send;
}

#[derive(Debug, Clone)]
pub struct ConnLimits {
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub max_header_bytes: usize,
    pub max_headers: usize,
}

/// Serves `listener` until `shutdown` turns true, then drains.
pub async fn serve<H: Handler>(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    limits: ConnLimits,
    handler: Arc<H>,
    mut shutdown: watch::Receiver<bool>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let hard_buf = (limits.max_header_bytes + HARD_LIMIT_SLACK_BYTES).max(8192);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(hard_buf)
        .max_headers(limits.max_headers + HARD_LIMIT_SLACK_HEADERS);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(hard_buf).unwrap_or(u32::MAX))
        .max_concurrent_streams(128);

    loop {
        let permit = tokio::select! {
            p = Arc::clone(&permits).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = shutdown.changed() => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off, don't spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        let handler = Arc::clone(&handler);
        let builder = builder.clone();
        let watcher = graceful.watcher();
        let tls = tls.clone();
        let handshake_timeout = limits.header_read_timeout;
        let mut draining = shutdown.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let svc = service_fn(move |req| {
                let handler = Arc::clone(&handler);
                // The handler runs in its own task: a client that closes
                // its connection mid-request makes hyper drop this future,
                // and must not cancel a request whose effect (a store
                // write, an upstream call) has begun before its audit
                // event is written.
                let task = tokio::spawn(async move { handler.handle(req, peer).await });
                async move {
                    Ok::<_, Infallible>(match task.await {
                        Ok(response) => response,
                        Err(e) => {
                            tracing::error!(error = %e, "request handler failed");
                            let mut r = Response::new(crate::body::full(crate::error::error_body(
                                "internal_error",
                                "the request failed inside the gateway",
                                "-",
                            )));
                            *r.status_mut() = http::StatusCode::INTERNAL_SERVER_ERROR;
                            r
                        }
                    })
                }
            });
            let result = match tls {
                None => {
                    let conn = builder
                        .serve_connection(TokioIo::new(stream), svc)
                        .into_owned();
                    watcher.watch(conn).await
                }
                Some(acceptor) => {
                    // A handshake still running when shutdown starts is
                    // abandoned: no request has been accepted on it yet.
                    let handshake =
                        tokio::time::timeout(handshake_timeout, acceptor.accept(stream));
                    let tls_stream = tokio::select! {
                        done = handshake => match done {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::debug!(client.ip = %peer.ip(), error = %e, "TLS handshake failed");
                                return;
                            }
                            Err(_) => {
                                tracing::debug!(client.ip = %peer.ip(), "TLS handshake timed out");
                                return;
                            }
                        },
                        _ = draining.changed() => return,
                    };
                    let conn = builder
                        .serve_connection(TokioIo::new(tls_stream), svc)
                        .into_owned();
                    watcher.watch(conn).await
                }
            };
            if let Err(e) = result {
                tracing::debug!(client.ip = %peer.ip(), error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain timeout; closing them");
    }
}
