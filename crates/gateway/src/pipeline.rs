//! The request pipeline: one function, stages in order, each with the
//! reason it sits where it does.
//!
//! Connection-level protections (connection cap, TLS, header read timeout,
//! hyper's hard parse limits) have run in [`crate::server`] before a request
//! arrives here.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::{header, HeaderMap, HeaderValue, Request, Response};
use hyper::body::Incoming;

use crate::admin_api::{self, AdminApi};
use crate::audit::{AuditLog, AuditNote};
use crate::body::{Body, GuardedBody, PrefixedBody, SniffedBody, Tripped, UploadCheck};
use crate::config::{AuditFailure, Config};
use crate::data_api::{self, DataApi};
use crate::error::{into_response, GatewayError, Origin};
use crate::identify::Identifier;
use crate::incident::Lockdown;
use crate::keys::now_unix;
use crate::logging::ACCESS_TARGET;
use crate::metrics::{Metrics, UpstreamFailure};
use crate::privacy::{self, PrivacyStage, Protection};
use crate::protect::{self, CorsPolicy};
use crate::proxy::{ForwardRequest, Upstreams};
use crate::ratelimit::{LimitKey, Quota, RateDecision, RateLimiter};
use crate::request_id;
use crate::router::{self, Router};
use crate::server::Handler;
use crate::subjects::SubjectGate;

#[derive(Debug, Clone, Copy)]
struct RequestLimits {
    max_header_bytes: usize,
    max_headers: usize,
    body_idle_timeout: std::time::Duration,
}

/// What the access log, metrics and response headers need to know about a
/// request.
#[derive(Debug, Default)]
struct Trace {
    route: Option<usize>,
    principal: Option<String>,
    /// The tightest rate-limit budget that applied, for `RateLimit-*`.
    rate: Option<RateDecision>,
    /// The admin API answered.
    admin: bool,
    /// The data API answered.
    data: bool,
    /// Values the privacy stage replaced (or found, in detect mode).
    redactions: Option<usize>,
    /// The account a refused credential claimed (`key:<id>`), for the
    /// audit event and the per-account alert.
    claimed: Option<String>,
    /// What the request did, for its audit event.
    audit: AuditNote,
}

/// The request budgets a gateway enforces.
#[derive(Debug, Clone, Copy)]
struct Budgets {
    per_principal: Option<Quota>,
    per_ip: Option<Quota>,
}

/// What the gateway does itself rather than forward: its two APIs, which
/// answer before any route, and the subject rules routes apply.
#[derive(Debug)]
pub struct OwnStages {
    /// `/admin`.
    pub admin: AdminApi,
    /// `/v1/records`, `/v1/subjects`.
    pub data: DataApi,
    /// Consent and residency on routes (it reads the same register).
    pub subjects: SubjectGate,
    /// Incident lockdown: while on, only administrators are served.
    pub lockdown: Arc<Lockdown>,
}

/// Where every request leaves its trace: the metrics and the audit log.
#[derive(Debug)]
pub struct Recorders {
    pub metrics: Arc<Metrics>,
    pub audit: Arc<AuditLog>,
}

#[derive(Debug)]
pub struct Gateway {
    router: Router,
    identifier: Identifier,
    limiter: Arc<dyn RateLimiter>,
    budgets: Budgets,
    upstreams: Upstreams,
    admin: AdminApi,
    data: DataApi,
    subjects: SubjectGate,
    lockdown: Arc<Lockdown>,
    privacy: PrivacyStage,
    cors: CorsPolicy,
    metrics: Arc<Metrics>,
    audit: Arc<AuditLog>,
    /// `[audit].on_failure`, for requests that matched no route.
    audit_failure: AuditFailure,
    /// Provider names by index, for audit events.
    provider_names: Vec<String>,
    hsts: Option<HeaderValue>,
    limits: RequestLimits,
    /// Union of every route's methods, for CORS preflight answers.
    allow_methods: HeaderValue,
}

impl Gateway {
    pub fn new(
        config: &Config,
        identifier: Identifier,
        limiter: Arc<dyn RateLimiter>,
        upstreams: Upstreams,
        own: OwnStages,
        privacy: PrivacyStage,
        recorders: Recorders,
    ) -> Self {
        let Recorders { metrics, audit } = recorders;
        let mut methods: Vec<&str> = config
            .routes
            .iter()
            .flat_map(|r| r.methods.iter().map(http::Method::as_str))
            .collect();
        methods.sort_unstable();
        methods.dedup();
        Self {
            router: Router::new(&config.routes),
            identifier,
            limiter,
            budgets: Budgets {
                per_principal: config.rate_limits.per_principal,
                per_ip: config.rate_limits.per_ip,
            },
            upstreams,
            admin: own.admin,
            data: own.data,
            subjects: own.subjects,
            lockdown: own.lockdown,
            privacy,
            cors: CorsPolicy::new(&config.cors),
            metrics,
            audit,
            audit_failure: config.audit.on_failure,
            provider_names: config.providers.iter().map(|p| p.name.clone()).collect(),
            hsts: config
                .server
                .tls
                .as_ref()
                .map(|t| protect::hsts_value(t.hsts_max_age_secs)),
            limits: RequestLimits {
                max_header_bytes: config.server.max_header_bytes,
                max_headers: config.server.max_headers,
                body_idle_timeout: config.server.body_idle_timeout,
            },
            allow_methods: HeaderValue::from_str(&methods.join(", "))
                .unwrap_or_else(|_| HeaderValue::from_static("POST")),
        }
    }

    /// Spends one request of each budget that is set; the tightest left
    /// is kept for the `RateLimit-*` headers (429 when one is spent).
    async fn charge(
        &self,
        budgets: [(Option<Quota>, &'static str, LimitKey); 3],
        trace: &mut Trace,
    ) -> Result<(), GatewayError> {
        for (quota, what, key) in budgets {
            let Some(quota) = quota else { continue };
            let decision = self
                .limiter
                .acquire(&key, quota)
                .await
                .map_err(|e| GatewayError::IdentityUnavailable(e.to_string()))?;
            trace.rate = Some(trace.rate.map_or(decision, |d| d.tighter(decision)));
            if !decision.allowed {
                return Err(GatewayError::RateLimited(what, decision));
            }
        }
        Ok(())
    }

    /// Step 5's identification, remembering who was identified, or which
    /// account a refused credential claimed.
    async fn identify(
        &self,
        headers: &HeaderMap,
        peer: SocketAddr,
        now: i64,
        trace: &mut Trace,
    ) -> Result<amanah_policy::Principal, GatewayError> {
        match self.identifier.identify(headers, peer.ip(), now).await {
            Ok(principal) => {
                trace.principal = Some(principal.id.clone());
                Ok(principal)
            }
            Err(e) => {
                if matches!(e, GatewayError::Unauthenticated(_)) {
                    trace.claimed = crate::identify::claimed_account(headers);
                }
                Err(e)
            }
        }
    }

    /// During a lockdown only principals holding `admin:access` are
    /// served (503 for everyone else).
    async fn check_lockdown(
        &self,
        principal: &amanah_policy::Principal,
        now: i64,
    ) -> Result<(), GatewayError> {
        if !self.lockdown.active() {
            return Ok(());
        }
        let policy = self.identifier.access.policy().await?;
        let admin = amanah_policy::RequiredPermission::parse(crate::users::ADMIN_ACCESS)
            .map_err(|e| GatewayError::IdentityUnavailable(e.to_string()))?;
        policy
            .decide(
                principal,
                &amanah_policy::Requirement::new("lockdown", admin),
                now,
            )
            .map_err(|_| GatewayError::Lockdown)
    }

    /// The stages, in order. Every early return is a typed error that
    /// [`Handler::handle`] turns into a response.
    async fn run(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        request_id: &HeaderValue,
        trace: &mut Trace,
    ) -> Result<Response<Body>, GatewayError> {
        // 1. Header limits: the cheapest check, before any stage reads a header.
        check_header_limits(req.headers(), self.limits)?;

        // 2. CORS preflight: browsers never attach credentials to a preflight,
        //    so it is answered before identification, and only for allow-listed
        //    origins.
        if let Some(answer) = self.cors.preflight(&req, &self.allow_methods) {
            trace.audit.skip = true;
            return answer;
        }

        // 3. Path hygiene: dot segments or encoded separators could make the
        //    router and the upstream read different paths.
        router::check_request_path(req.uri().path())?;

        // 4. Admin API: `/admin` belongs to no route; the API signs its
        //    callers in itself (session + CSRF, or a bearer credential with
        //    admin:access) and shares the failure brake.
        let now = now_unix();
        let owned_by_api =
            admin_api::owns_path(req.uri().path()) || data_api::owns_path(req.uri().path());
        // 4a. The two APIs change state before their event is written, so
        //    while the audit log cannot be written they change nothing
        //    (503); this request's own event is still tried, and a success
        //    reopens them.
        if owned_by_api && !self.audit.status().healthy() {
            trace.admin = admin_api::owns_path(req.uri().path());
            trace.data = !trace.admin;
            trace.audit.set(
                "api.refused",
                format!("path:{}", truncate(req.uri().path(), 128)),
            );
            return Err(GatewayError::AuditUnavailable(
                "the last audit write failed".into(),
            ));
        }
        if admin_api::owns_path(req.uri().path()) {
            trace.admin = true;
            return self
                .admin
                .handle(req, peer, &self.identifier, now, &mut trace.audit)
                .await;
        }

        // 4b. Data API: `/v1/records` and `/v1/subjects` belong to no route
        //    either; the API identifies its callers as step 5 does and
        //    checks each endpoint's permission and the record's data class.
        if data_api::owns_path(req.uri().path()) {
            trace.data = true;
            let principal = self.identify(req.headers(), peer, now, trace).await?;
            self.check_lockdown(&principal, now).await?;
            self.charge(
                [
                    (
                        self.budgets.per_principal,
                        "principal",
                        LimitKey::Principal(principal.id.clone()),
                    ),
                    (self.budgets.per_ip, "ip", LimitKey::network(peer.ip())),
                    // No route budget: the data API is no route.
                    (None, "route", LimitKey::network(peer.ip())),
                ],
                trace,
            )
            .await?;
            let mut response = self
                .data
                .handle(req, principal, now, &mut trace.audit)
                .await?;
            // Decrypted records: no cache anywhere may keep them.
            response
                .headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            return Ok(response);
        }

        // 5. Identify: every route needs a principal. Before routing, so an
        //    unauthenticated caller learns nothing about which routes exist.
        //    A source that keeps failing is refused before its credential is
        //    looked at (429).
        let principal = self.identify(req.headers(), peer, now, trace).await?;

        // 5b. Lockdown: during an incident only administrators are served
        //    (503); the admin API above stays open so they can end it.
        self.check_lockdown(&principal, now).await?;

        // 6. Route: the longest prefix owns the path (404, 405).
        let matched = self.router.find(req.method(), req.uri().path())?;
        trace.route = Some(matched.route);
        let route = self.router.route(matched.route);
        let remainder = matched.remainder.to_owned();
        let route_index = matched.route;

        // 7. Rate limit: per principal, per source network, per route (429).
        //    After identification, so one caller cannot spend another's
        //    budget; before authorization, so denied calls count too.
        let budgets = [
            (
                self.budgets.per_principal,
                "principal",
                LimitKey::Principal(principal.id.clone()),
            ),
            (self.budgets.per_ip, "ip", LimitKey::network(peer.ip())),
            (route.rate_limit, "route", LimitKey::Route(matched.route)),
        ];
        self.charge(budgets, trace).await?;

        // 8. Authorize: route -> permission, data class, scopes; the permit is
        //    the only way into the forwarder (403).
        let policy = self.identifier.access.policy().await?;
        let permit = amanah_policy::authorize(&policy, principal, &route.requirement, now, req)?;

        if let Some(subject) = permit
            .get()
            .headers()
            .get(crate::subjects::SUBJECT_HEADER)
            .and_then(|v| v.to_str().ok())
        {
            trace.audit.sensitive("subject", subject);
        }

        // 8b. Subject rules: consent for the route's purpose and the
        //    subject's regions against the provider's (403). After
        //    authorization, so only permitted callers learn anything about a
        //    subject; before the body is read.
        self.subjects
            .check(route_index, permit.get().headers())
            .await?;

        // 9. Body limit: a declared length over the limit is refused before a
        //    byte is read; a streamed body is counted as it passes (413).
        if declared_length(permit.get().headers())?.is_some_and(|n| n > route.max_body_bytes) {
            return Err(GatewayError::PayloadTooLarge {
                limit: route.max_body_bytes,
            });
        }
        let idle = self.limits.body_idle_timeout;
        let privacy = self.privacy.applies(route_index);
        let principal_id = permit.principal().id.clone();
        let mut client_body = None;
        let mut upload = None;
        let permit = permit.map(|req| {
            let (parts, body) = req.into_parts();
            let guarded = GuardedBody::new(body, Some(route.max_body_bytes), Some(idle));
            let tripped = guarded.tripped();
            let mut body = http_body_util::BodyExt::boxed(guarded);
            // 9b. Upload check: on an upload route every chunk passes the
            //    content sniffer before it is forwarded (415, 422, 413),
            //    and nothing is buffered beyond a 64 KiB header window.
            if let Some(limits) = &route.upload {
                let content_type = parts
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok());
                let sniffed = SniffedBody::new(body, limits.clone(), content_type);
                upload = Some(sniffed.check());
                body = http_body_util::BodyExt::boxed(sniffed);
            }
            let body = if privacy || upload.is_some() {
                client_body = Some(body);
                crate::body::empty()
            } else {
                body
            };
            ForwardRequest {
                parts,
                body,
                tripped,
                provider: route.provider,
                remainder,
                request_id: request_id.clone(),
                max_body_bytes: route.max_body_bytes,
                upload: upload.clone(),
            }
        });

        // 9c. An upload's header is read and judged before a byte goes
        //    upstream (415, 422, 413 for a declared duration): the first
        //    frames are held until the sniffer knows the format, at most a
        //    header window's worth.
        let (permit, client_body) = match (&upload, client_body) {
            (Some(check), Some(body)) => {
                let body =
                    hold_upload_header(body, check, &permit.get().tripped, route.max_body_bytes)
                        .await?;
                (
                    permit.map(|mut f| {
                        f.body = body;
                        f
                    }),
                    None,
                )
            }
            (_, client_body) => (permit, client_body),
        };

        // 10. Privacy: personal data and secrets in the body are counted,
        //    replaced or refused (422) as the route says. After
        //    authorization, so only permitted bodies are read; the whole
        //    body is read here, within the limit of step 9.
        let mut protection = Protection::default();
        let permit = match client_body {
            None => permit,
            Some(body) => {
                let (body, p) = self
                    .privacy
                    .protect_request(
                        route_index,
                        &principal_id,
                        &permit.get().parts.headers,
                        body,
                        &permit.get().tripped,
                        route.max_body_bytes,
                    )
                    .await?;
                protection = p;
                trace.redactions = Some(protection.types.len());
                if !protection.types.is_empty() {
                    trace
                        .audit
                        .detail("redacted_types", count_types(&protection.types));
                }
                self.metrics.privacy_values(trace.route, &protection.types);
                permit.map(|mut f| {
                    f.body = body;
                    protection.edit_request_headers(&mut f.parts.headers);
                    f
                })
            }
        };

        // 10b. A fail-closed route does not call its provider while the
        //    audit log cannot be written (the last write failed): the
        //    answer would be withheld anyway. This request's own event is
        //    still tried, and a success reopens the route.
        if route.audit == AuditFailure::Closed && !self.audit.status().healthy() {
            return Err(GatewayError::AuditUnavailable(
                "the last audit write failed".into(),
            ));
        }

        // 11. Forward: pooled client, verified TLS, provider credential injected,
        //    bodies streamed both ways.
        let response = self.upstreams.forward(permit).await?;

        // 12. Protect the answer: placeholders restored (streams event by
        //    event), personal data the model produced masked when asked.
        let response = self.privacy.protect_response(&protection, response).await?;

        // 12a. Token counts for the audit event, from a small non-streamed
        //    JSON answer (read whole; streams pass untouched).
        let (response, usage) = crate::usage::read(response).await?;
        if let Some(usage) = usage {
            for (name, n) in [
                ("tokens.input", usage.input),
                ("tokens.output", usage.output),
                ("tokens.total", usage.total),
            ] {
                if let Some(n) = n {
                    trace.audit.detail(name, n.to_string());
                }
            }
        }
        Ok(response)
    }

    /// The request's audit event, or `None` for requests refused before
    /// anyone was identified (limits, path hygiene, preflights: nothing
    /// happened) and for rate-limit refusals (counted in the metrics; an
    /// event per refusal would let a flood fill the log).
    fn audit_event(
        &self,
        trace: &mut Trace,
        err: Option<&GatewayError>,
        status: http::StatusCode,
        peer: SocketAddr,
        request_id: &HeaderValue,
    ) -> Option<amanah_audit::Event> {
        let note = std::mem::take(&mut trace.audit);
        let auth_failure = match err {
            Some(GatewayError::Unauthenticated(f)) => Some(*f),
            _ => None,
        };
        let identified = trace.principal.is_some() || note.actor.is_some();
        if note.skip
            || matches!(err, Some(GatewayError::RateLimited(..)))
            || (!identified && auth_failure.is_none() && note.action.is_none())
        {
            return None;
        }
        let route = trace.route.map(|i| self.router.route(i));
        let (action, resource) = match (note.action, route) {
            // A refused credential, unless the API tells a sign-in apart.
            (action, _) if auth_failure.is_some() && action != Some("auth.login") => (
                "auth.request",
                note.resource.clone().unwrap_or_else(|| "-".into()),
            ),
            (Some(action), _) => (action, note.resource.clone().unwrap_or_else(|| "-".into())),
            (None, Some(route)) => ("model.invoke", format!("route:{}", route.name)),
            (None, None) => ("http.request", "-".to_owned()),
        };
        let actor = note
            .actor
            .clone()
            .or_else(|| trace.principal.clone())
            .unwrap_or_else(|| "-".to_owned());
        let outcome = match status.as_u16() {
            401 => amanah_audit::Outcome::Failure,
            403 => amanah_audit::Outcome::Denied,
            s if s >= 500 => amanah_audit::Outcome::Error,
            s if s >= 400 => amanah_audit::Outcome::Failure,
            _ => amanah_audit::Outcome::Success,
        };
        let mut event = self
            .audit
            .event(&actor, action, &resource, outcome)
            .with_client_ip(peer.ip().to_string())
            .with_request_id(request_id.to_str().unwrap_or_default());
        let details = &mut event.details;
        let mut clear = |name: &str, value: String| {
            details.insert(name.to_owned(), amanah_audit::DetailValue::Clear(value));
        };
        clear("status", status.as_u16().to_string());
        if let Some(f) = auth_failure {
            clear("reason", f.as_str().to_owned());
            // Who the refused credential claimed to be, apart from the
            // actor: nobody was authenticated.
            if let Some(claimed) = trace.claimed.clone() {
                clear("claimed", claimed);
            }
        } else if let Some(e) = err {
            clear("error", e.code().to_owned());
        }
        if let Some(route) = route {
            if let Some(name) = self.provider_names.get(route.provider) {
                clear("provider", name.clone());
            }
        }
        if let Some(n) = trace.redactions {
            clear("redactions", n.to_string());
        }
        self.audit.add_details(&mut event, note);
        if event.details.contains_key("locked_until") {
            self.metrics.lockout();
        }
        Some(event)
    }

    fn log_failure(&self, err: &GatewayError, request_id: &HeaderValue, trace: &Trace) {
        let rid = request_id.to_str().unwrap_or_default();
        match err.origin() {
            Origin::Upstream => {
                let kind = match err {
                    GatewayError::UpstreamTimeout(_) => UpstreamFailure::Timeout,
                    GatewayError::UpstreamConnect(_) => UpstreamFailure::Connect,
                    _ => UpstreamFailure::Protocol,
                };
                self.metrics.upstream_failure(trace.route, kind);
                tracing::warn!(request.id = rid, error = %err, "upstream call failed");
            }
            Origin::Internal => tracing::error!(request.id = rid, error = %err, "request failed"),
            Origin::Client => match err {
                GatewayError::Unauthenticated(_) => {
                    tracing::info!(request.id = rid, error = %err, "request refused")
                }
                _ => tracing::debug!(request.id = rid, error = %err, "request refused"),
            },
        }
    }
}

impl Handler for Gateway {
    async fn handle(&self, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        let started = Instant::now();
        let request_id = request_id::accept_or_generate(req.headers());
        let origin = req.headers().get(header::ORIGIN).cloned();
        let method = req.method().clone();
        // A reference-count bump; the path is only read if the access log is on.
        let uri = req.uri().clone();
        let mut trace = Trace::default();

        let outcome = self.run(req, peer, &request_id, &mut trace).await;
        if let Err(e) = &outcome {
            match e {
                GatewayError::PersonalDataRefused(types) => {
                    self.metrics.privacy_values(trace.route, types)
                }
                GatewayError::Unauthenticated(reason) => self.metrics.auth_failure(*reason),
                GatewayError::RateLimited(scope, _) => self.metrics.rate_limited(scope),
                _ => {}
            }
            self.log_failure(e, &request_id, &trace);
        }

        // 12b. Audit: the request's event is durable before its answer
        //    leaves. When it cannot be written, a fail-closed route
        //    answers 503 instead (the upstream's answer is dropped); a
        //    fail-open one serves it, and the writer's failure raises an
        //    alert.
        let status = match &outcome {
            Ok(r) => r.status(),
            Err(e) => e.status(),
        };
        let mut audit_failed = None;
        if let Some(event) = self.audit_event(
            &mut trace,
            outcome.as_ref().err(),
            status,
            peer,
            &request_id,
        ) {
            if let Err(e) = self.audit.record(event).await {
                let mode = trace
                    .route
                    .map_or(self.audit_failure, |i| self.router.route(i).audit);
                tracing::error!(
                    request.id = request_id.to_str().unwrap_or_default(),
                    error = %e,
                    fail_open = mode == AuditFailure::Open,
                    "the request's audit event could not be written"
                );
                if mode == AuditFailure::Closed {
                    audit_failed = Some(GatewayError::AuditUnavailable(e.to_string()));
                }
            }
        }
        let mut response = match (audit_failed, outcome) {
            (Some(e), _) | (None, Err(e)) => {
                into_response(&e, request_id.to_str().unwrap_or_default())
            }
            (None, Ok(r)) => r,
        };

        // 13. Harden the response, proxied or generated alike.
        let h = response.headers_mut();
        if let Some(n) = trace.redactions {
            h.insert(privacy::REDACTIONS_HEADER, HeaderValue::from(n));
        }
        if let Some(rate) = trace.rate {
            rate.write_headers(h);
        }
        protect::secure_headers(h, self.hsts.as_ref());
        // The admin API is same-origin only: no CORS grant ever covers it.
        if !trace.admin {
            self.cors.decorate(origin.as_ref(), h);
        } else {
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        }
        h.insert(request_id::HEADER, request_id.clone());

        // 14. Record: metrics and the access log, on success and failure alike.
        let latency = started.elapsed();
        let status = response.status().as_u16();
        self.metrics.record(trace.route, status, latency);
        tracing::event!(
            target: ACCESS_TARGET,
            tracing::Level::INFO,
            request.id = request_id.to_str().unwrap_or_default(),
            client.ip = %peer.ip(),
            http.method = %method,
            url.path = truncate(uri.path(), 256),
            route.name = match trace.route {
                Some(i) => self.router.route(i).name.as_str(),
                None if trace.admin => admin_api::ROUTE_NAME,
                None if trace.data => data_api::ROUTE_NAME,
                None => "-",
            },
            principal.id = trace.principal.as_deref().unwrap_or("-"),
            http.status = status,
            latency_ms = (latency.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
        );
        response
    }
}

/// `EMAIL_ADDRESS:2,PERSON:1`: how many values of each type, by name.
fn count_types(types: &[amanah_pii::EntityType]) -> String {
    let mut counts = std::collections::BTreeMap::new();
    for t in types {
        *counts.entry(t.as_str()).or_insert(0u32) += 1;
    }
    counts
        .iter()
        .map(|(t, n)| format!("{t}:{n}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// At most `max` bytes of `s`, cut on a character boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn check_header_limits(headers: &HeaderMap, limits: RequestLimits) -> Result<(), GatewayError> {
    if headers.len() > limits.max_headers {
        return Err(GatewayError::HeadersTooLarge);
    }
    // Name, ": ", value, CRLF: the size the head took on the wire in HTTP/1.1.
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    if bytes > limits.max_header_bytes {
        return Err(GatewayError::HeadersTooLarge);
    }
    Ok(())
}

fn declared_length(headers: &HeaderMap) -> Result<Option<u64>, GatewayError> {
    match headers.get(header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Some)
            .ok_or(GatewayError::BadRequest("invalid Content-Length")),
    }
}

/// Reads an upload's first frames until its sniffer has told the format,
/// the body ends, or a header window has passed, and returns a body that
/// replays them before the rest. A refusal found meanwhile is the answer.
async fn hold_upload_header(
    mut body: Body,
    check: &UploadCheck,
    tripped: &Tripped,
    limit: u64,
) -> Result<Body, GatewayError> {
    use http_body_util::BodyExt;
    let mut held = Vec::new();
    let mut bytes = 0usize;
    let mut ended = false;
    while !check.identified() && bytes <= amanah_media::HEADER_BUFFER {
        match body.frame().await {
            Some(Ok(frame)) => {
                bytes += frame.data_ref().map_or(0, |d| d.len());
                held.push(frame);
            }
            Some(Err(_)) => {
                return Err(match check.rejection() {
                    Some(r) => GatewayError::UploadRejected(r),
                    None if tripped.too_large() => GatewayError::PayloadTooLarge { limit },
                    None if tripped.idle() => GatewayError::RequestBodyTimeout,
                    None => GatewayError::BadRequest("the request body could not be read"),
                })
            }
            None => {
                ended = true;
                break;
            }
        }
    }
    Ok(PrefixedBody::new(held, (!ended).then_some(body)).boxed())
}

#[cfg(test)]
mod tests {
    use super::truncate;

    #[test]
    fn truncate_keeps_short_text_and_cuts_on_char_boundaries() {
        assert_eq!(truncate("/v1/models", 256), "/v1/models");
        assert_eq!(truncate("abcdef", 3), "abc");
        assert_eq!(truncate("aé", 2), "a");
    }
}
