//! The data API: `/v1/records` and `/v1/subjects` on the traffic listener,
//! over [`RecordService`].
//!
//! Callers identify as on the proxied routes (API key or JWT) and need a
//! permission per endpoint (`records:write`, `records:read`,
//! `records:delete`, `subjects:erase`, ...). A record's data class is
//! checked like a route's: reading, deleting or writing a `child_data`
//! record needs a role cleared for `child_data`, and a listing shows only
//! the records the caller is cleared for; export and erasure need the
//! clearance for every class the subject has records in. Storing a record
//! unredacted (`"raw": true`, or content that cannot be redacted) needs
//! `records:write_raw`, which no predefined role but `admin` holds. The
//! pipeline identifies the caller and charges its rate-limit budgets
//! before [`DataApi::handle`].
//!
//! | method | path | permission |
//! |---|---|---|
//! | POST | `/v1/records` | `records:write` |
//! | GET | `/v1/records?subject=ID` | `records:read` |
//! | GET | `/v1/records/{id}` | `records:read` |
//! | DELETE | `/v1/records/{id}` | `records:delete` |
//! | PUT | `/v1/records/{id}/legal-hold` | `records:hold` |
//! | DELETE | `/v1/subjects/{id}` | `subjects:erase` |
//! | GET | `/v1/subjects/{id}/export` | `subjects:export` |
//! | GET | `/v1/subjects/{id}/consents` | `subjects:read` |
//! | POST | `/v1/subjects/{id}/consents` | `consents:write` |
//! | PUT | `/v1/subjects/{id}/regions` | `subjects:write` |
//! | DELETE | `/v1/tenants/{id}` | `tenants:erase` |
//! | GET, PUT | `/v1/tenants/{id}/regions` | `tenants:read`, `tenants:write` |

use std::sync::Arc;

use amanah_policy::{Principal, RequiredPermission, Requirement};
use amanah_store::{ConsentEvent, DeleteOutcome, RecordMeta, RecordStore};
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::access::AccessControl;
use crate::admin_api::{no_content, read_json_limited, reply, AdminError};
use crate::audit::AuditNote;
use crate::body::Body;
use crate::error::GatewayError;
use crate::records::{
    Erased, ErasureReceipt, NewRecord, OpenedRecord, RecordError, RecordService, SubjectExport,
};

/// The largest JSON body the data API reads (a record travels inside it).
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;
/// The route name data-API calls have in logs, metrics and key scopes.
pub const ROUTE_NAME: &str = "data_api";
/// The data class of a record that names none.
pub const DEFAULT_DATA_CLASS: &str = "general";
const DOCS: &str = "the data API section of the README";

/// Whether `path` belongs to the data API (and so to no route).
pub fn owns_path(path: &str) -> bool {
    ["/v1/records", "/v1/subjects", "/v1/tenants"]
        .iter()
        .any(|root| path == *root || path.strip_prefix(root).is_some_and(|r| r.starts_with('/')))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutRecord {
    subject: String,
    tenant: Option<String>,
    kind: String,
    data_class: Option<String>,
    region: Option<String>,
    purpose: Option<String>,
    content_type: Option<String>,
    /// Text content.
    content: Option<String>,
    /// Binary content, standard base64.
    content_base64: Option<String>,
    #[serde(default)]
    raw: bool,
    ttl_secs: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LegalHold {
    hold: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutConsent {
    purpose: String,
    granted: bool,
    evidence: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutRegions {
    /// Required: `null` removes the pin; an absent field is an error, so an
    /// empty body cannot unpin a subject by accident.
    #[serde(deserialize_with = "present")]
    regions: Option<Vec<String>>,
}

/// Deserializes a field that must be present, `null` allowed.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    Option::<Vec<String>>::deserialize(d)
}

#[derive(Debug, Serialize)]
struct MetaJson<'a> {
    id: &'a str,
    subject: &'a str,
    tenant: Option<&'a str>,
    kind: &'a str,
    data_class: &'a str,
    region: Option<&'a str>,
    purpose: Option<&'a str>,
    content_type: &'a str,
    redacted: bool,
    size: i64,
    created_at: i64,
    expires_at: Option<i64>,
    legal_hold: bool,
}

fn meta_json(m: &RecordMeta) -> MetaJson<'_> {
    MetaJson {
        id: &m.id,
        subject: &m.subject,
        tenant: m.tenant.as_deref(),
        kind: &m.kind,
        data_class: &m.data_class,
        region: m.region.as_deref(),
        purpose: m.purpose.as_deref(),
        content_type: &m.content_type,
        redacted: m.redacted,
        size: m.size,
        created_at: m.created_at,
        expires_at: m.expires_at,
        legal_hold: m.legal_hold,
    }
}

/// A record with its content: UTF-8 content as `content`, anything else
/// as `content_base64`.
pub fn record_json(r: &OpenedRecord) -> serde_json::Value {
    let mut v = meta_value(&r.meta);
    match std::str::from_utf8(&r.content) {
        Ok(text) => v["content"] = json!(text),
        Err(_) => v["content_base64"] = json!(amanah_crypto::base64::encode_standard(&r.content)),
    }
    v
}

/// A record's metadata as the API shows it.
pub fn meta_value(m: &RecordMeta) -> serde_json::Value {
    serde_json::to_value(meta_json(m)).unwrap_or_default()
}

/// The portable bundle of everything kept about a subject.
pub fn export_json(export: &SubjectExport, now: i64) -> serde_json::Value {
    let records: Vec<serde_json::Value> = export.records.iter().map(record_json).collect();
    let consents: Vec<serde_json::Value> = export.consents.iter().map(consent_json).collect();
    json!({
        "format": "amanah.subject-export.v1",
        "subject": export.subject,
        "exported_at": now,
        "records": records,
        "consents": consents,
        "regions": export.regions,
    })
}

/// What an erasure did, for the requester.
pub fn receipt_json(r: &ErasureReceipt) -> serde_json::Value {
    let (whose, id) = match &r.erased {
        Erased::Subject(id) => ("subject", id),
        Erased::Tenant(id) => ("tenant", id),
    };
    json!({
        whose: id,
        "erased_at": r.erased_at,
        "records_deleted": r.records_deleted,
        "records_held": r.records_held,
        "consents_deleted": r.consents_deleted,
        "key_destroyed": r.key_destroyed,
    })
}

fn consent_json(e: &ConsentEvent) -> serde_json::Value {
    json!({
        "purpose": e.purpose,
        "granted": e.granted,
        "at": e.at,
        "evidence": e.evidence,
        "recorded_by": e.recorded_by,
    })
}

pub struct DataApi {
    records: Arc<RecordService>,
    store: Arc<dyn RecordStore>,
    access: Arc<AccessControl>,
}

impl std::fmt::Debug for DataApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataApi").finish_non_exhaustive()
    }
}

/// Whose region pin an endpoint sets.
#[derive(Debug, Clone, Copy)]
enum Pinned {
    Subject,
    Tenant,
}

fn invalid(message: impl Into<std::borrow::Cow<'static, str>>) -> GatewayError {
    AdminError::Invalid(message.into()).into()
}

impl From<RecordError> for GatewayError {
    fn from(e: RecordError) -> Self {
        match e {
            RecordError::Invalid { .. }
            | RecordError::UnknownKind(_)
            | RecordError::NotRedactable => invalid(e.to_string()),
            RecordError::SubjectErased => AdminError::Conflict(e.to_string().into()).into(),
            RecordError::Store(s) => GatewayError::Store(s),
            RecordError::Keyring(k) => GatewayError::IdentityUnavailable(k.to_string()),
            RecordError::Undecryptable { .. } => {
                AdminError::Conflict("the record cannot be decrypted".into()).into()
            }
        }
    }
}

/// The audit action and resource of a data-API request. Subject ids are
/// personal data (often an email address): they go into the event only
/// as keyed hashes.
fn describe(method: &Method, segments: &[&str], note: &mut AuditNote) {
    let action = match (method, segments) {
        (&Method::POST, ["records"]) => "record.put",
        (&Method::GET, ["records"]) => "record.list",
        (&Method::GET, ["records", _]) => "record.read",
        (&Method::DELETE, ["records", _]) => "record.delete",
        (&Method::PUT, ["records", _, "legal-hold"]) => "record.hold",
        (&Method::DELETE, ["subjects", _]) => "subject.erase",
        (&Method::GET, ["subjects", _, "export"]) => "subject.export",
        (&Method::GET, ["subjects", _, "consents"]) => "consent.list",
        (&Method::POST, ["subjects", _, "consents"]) => "consent.record",
        (&Method::PUT, ["subjects", _, "regions"]) => "subject.regions",
        (&Method::DELETE, ["tenants", _]) => "tenant.erase",
        (&Method::PUT, ["tenants", _, "regions"]) => "tenant.regions",
        (&Method::GET, ["tenants", _, "regions"]) => "tenant.regions.read",
        _ => "data.request",
    };
    let resource = match segments {
        ["records", id, ..] => format!("record:{}", crate::pipeline::truncate(id, 64)),
        ["subjects", id, ..] => {
            note.sensitive("subject", *id);
            "subject".to_owned()
        }
        ["tenants", id, ..] => format!("tenant:{}", crate::pipeline::truncate(id, 64)),
        _ => "records".to_owned(),
    };
    note.set(action, resource);
}

/// A record's subject (hashed), class and kind, for its audit event.
fn describe_record(meta: &RecordMeta, note: &mut AuditNote) {
    note.sensitive("subject", meta.subject.as_str());
    note.detail("data_class", meta.data_class.as_str());
    note.detail("kind", meta.kind.as_str());
}

impl DataApi {
    pub fn new(
        records: Arc<RecordService>,
        store: Arc<dyn RecordStore>,
        access: Arc<AccessControl>,
    ) -> Self {
        Self {
            records,
            store,
            access,
        }
    }

    /// Answers one data-API request of an identified caller (the pipeline
    /// identified it and charged its budgets). `Ok` with an error status is
    /// never returned: errors are typed and mapped at the edge.
    pub async fn handle(
        &self,
        req: Request<Incoming>,
        principal: Principal,
        now: i64,
        note: &mut AuditNote,
    ) -> Result<Response<Body>, GatewayError> {
        let principal = &principal;
        let path = req.uri().path().trim_end_matches('/').to_owned();
        let segments: Vec<&str> = path.split('/').skip(2).collect();
        let method = req.method().clone();
        describe(&method, &segments, note);
        let answer = match (method.clone(), segments.as_slice()) {
            (Method::POST, ["records"]) => self.put(req, principal, now, note).await,
            (Method::GET, ["records"]) => self.list(&req, principal, now, note).await,
            (Method::GET, ["records", id]) => self.get(id, principal, now, note).await,
            (Method::DELETE, ["records", id]) => self.delete(id, principal, now, note).await,
            (Method::PUT, ["records", id, "legal-hold"]) => {
                let id = (*id).to_owned();
                self.hold(&id, req, principal, now).await
            }
            (Method::DELETE, ["subjects", id]) => self.erase(id, principal, now).await,
            (Method::GET, ["subjects", id, "export"]) => {
                self.export(id, &req, principal, now).await
            }
            (Method::GET, ["subjects", id, "consents"]) => self.consents(id, principal, now).await,
            (Method::POST, ["subjects", id, "consents"]) => {
                let id = (*id).to_owned();
                self.consent(&id, req, principal, now).await
            }
            (Method::PUT, ["subjects", id, "regions"]) => {
                let id = (*id).to_owned();
                self.set_pin(Pinned::Subject, &id, req, principal, now)
                    .await
            }
            (Method::DELETE, ["tenants", id]) => {
                self.require(principal, "tenants:erase", None, now).await?;
                let r = self.records.erase_tenant(id, now).await?;
                tracing::info!(
                    target: "amanah::records",
                    deleted = r.records_deleted.len(),
                    held = r.records_held.len(),
                    key_destroyed = r.key_destroyed,
                    "tenant erased"
                );
                Ok(reply(StatusCode::OK, &receipt_json(&r)))
            }
            (Method::PUT, ["tenants", id, "regions"]) => {
                let id = (*id).to_owned();
                self.set_pin(Pinned::Tenant, &id, req, principal, now).await
            }
            (Method::GET, ["tenants", id, "regions"]) => {
                self.require(principal, "tenants:read", None, now).await?;
                let regions = self.store.tenant_regions(id).await?;
                Ok(reply(
                    StatusCode::OK,
                    &json!({ "tenant": id, "regions": regions }),
                ))
            }
            (_, ["records"]) => Err(GatewayError::MethodNotAllowed(vec![
                Method::GET,
                Method::POST,
            ])),
            (_, ["records", _]) => Err(GatewayError::MethodNotAllowed(vec![
                Method::GET,
                Method::DELETE,
            ])),
            (_, ["records", _, "legal-hold"] | ["subjects", _, "regions"]) => {
                Err(GatewayError::MethodNotAllowed(vec![Method::PUT]))
            }
            (_, ["tenants", _]) => Err(GatewayError::MethodNotAllowed(vec![Method::DELETE])),
            (_, ["tenants", _, "regions"]) => Err(GatewayError::MethodNotAllowed(vec![
                Method::GET,
                Method::PUT,
            ])),
            (_, ["subjects", _]) => Err(GatewayError::MethodNotAllowed(vec![Method::DELETE])),
            (_, ["subjects", _, "export"]) => {
                Err(GatewayError::MethodNotAllowed(vec![Method::GET]))
            }
            (_, ["subjects", _, "consents"]) => Err(GatewayError::MethodNotAllowed(vec![
                Method::GET,
                Method::POST,
            ])),
            _ => Err(GatewayError::NotFound),
        };
        answer
    }

    /// The caller holds `permission`, and is cleared for `data_class` when
    /// one is given.
    async fn require(
        &self,
        principal: &Principal,
        permission: &'static str,
        data_class: Option<&str>,
        now: i64,
    ) -> Result<(), GatewayError> {
        let policy = self.access.policy().await?;
        let requirement = Requirement {
            route: ROUTE_NAME.to_owned(),
            permission: RequiredPermission::parse(permission)
                .map_err(|_| GatewayError::BadRequest("unknown permission"))?,
            data_class: data_class
                .filter(|c| *c != DEFAULT_DATA_CLASS)
                .map(str::to_owned),
        };
        policy.decide(principal, &requirement, now)?;
        Ok(())
    }

    /// Refuses (403) unless the caller holds `permission` for every data
    /// class among the subject's records: a subject-wide operation (export,
    /// erasure) is all or nothing, never silently partial.
    async fn require_for_subject(
        &self,
        principal: &Principal,
        permission: &'static str,
        subject: &str,
        now: i64,
    ) -> Result<(), GatewayError> {
        self.require(principal, permission, None, now).await?;
        let mut classes: Vec<String> = self
            .records
            .list(subject, now)
            .await?
            .into_iter()
            .map(|m| m.data_class)
            .collect();
        classes.sort_unstable();
        classes.dedup();
        for class in classes {
            self.require(principal, permission, Some(&class), now)
                .await?;
        }
        Ok(())
    }

    async fn cleared(&self, principal: &Principal, data_class: &str, now: i64) -> bool {
        self.require(principal, "records:read", Some(data_class), now)
            .await
            .is_ok()
    }

    async fn put(
        &self,
        req: Request<Incoming>,
        principal: &Principal,
        now: i64,
        note: &mut AuditNote,
    ) -> Result<Response<Body>, GatewayError> {
        self.require(principal, "records:write", None, now).await?;
        let body: PutRecord = read_json_limited(req, MAX_BODY_BYTES, DOCS).await?;
        let data_class = body
            .data_class
            .unwrap_or_else(|| DEFAULT_DATA_CLASS.to_owned());
        self.require(principal, "records:write", Some(&data_class), now)
            .await?;
        if body.raw {
            self.require(principal, "records:write_raw", None, now)
                .await?;
        }
        let (content, default_type) = match (body.content, body.content_base64) {
            (Some(text), None) => (text.into_bytes(), "text/plain; charset=utf-8"),
            (None, Some(b64)) => (
                amanah_crypto::base64::decode_standard_padded(b64.as_bytes())
                    .ok_or_else(|| invalid("content_base64 is not standard base64"))?,
                "application/octet-stream",
            ),
            _ => return Err(invalid("send exactly one of content and content_base64")),
        };
        let meta = self
            .records
            .put(
                NewRecord {
                    subject: body.subject,
                    tenant: body.tenant,
                    kind: body.kind,
                    data_class,
                    region: body.region,
                    purpose: body.purpose,
                    content_type: body.content_type.unwrap_or_else(|| default_type.to_owned()),
                    content,
                    raw: body.raw,
                    ttl_secs: body.ttl_secs,
                },
                now,
            )
            .await?;
        note.resource = Some(format!("record:{}", meta.id));
        describe_record(&meta, note);
        Ok(reply(StatusCode::CREATED, &meta_json(&meta)))
    }

    async fn list(
        &self,
        req: &Request<Incoming>,
        principal: &Principal,
        now: i64,
        note: &mut AuditNote,
    ) -> Result<Response<Body>, GatewayError> {
        self.require(principal, "records:read", None, now).await?;
        let subject = query_param(req, "subject")
            .ok_or_else(|| invalid("name the subject: /v1/records?subject=ID"))?;
        note.sensitive("subject", subject.as_str());
        let mut visible = Vec::new();
        for m in self.records.list(&subject, now).await? {
            if self.cleared(principal, &m.data_class, now).await {
                visible.push(m);
            }
        }
        let items: Vec<MetaJson<'_>> = visible.iter().map(meta_json).collect();
        Ok(reply(StatusCode::OK, &json!({ "records": items })))
    }

    /// The record's metadata after checking the caller may touch it with
    /// `permission`; unknown ids and uncleared classes both answer 404, so
    /// an uncleared caller cannot tell whether a record exists.
    async fn meta_for(
        &self,
        id: &str,
        principal: &Principal,
        permission: &'static str,
        now: i64,
    ) -> Result<RecordMeta, GatewayError> {
        self.require(principal, permission, None, now).await?;
        let meta = self
            .records
            .meta(id, now)
            .await?
            .ok_or(AdminError::NotFound("no such record"))?;
        if self
            .require(principal, permission, Some(&meta.data_class), now)
            .await
            .is_err()
        {
            return Err(AdminError::NotFound("no such record").into());
        }
        Ok(meta)
    }

    async fn get(
        &self,
        id: &str,
        principal: &Principal,
        now: i64,
        note: &mut AuditNote,
    ) -> Result<Response<Body>, GatewayError> {
        let meta = self.meta_for(id, principal, "records:read", now).await?;
        describe_record(&meta, note);
        let opened = self
            .records
            .get(id, now)
            .await?
            .ok_or(AdminError::NotFound("no such record"))?;
        Ok(reply(StatusCode::OK, &record_json(&opened)))
    }

    async fn delete(
        &self,
        id: &str,
        principal: &Principal,
        now: i64,
        note: &mut AuditNote,
    ) -> Result<Response<Body>, GatewayError> {
        let meta = self.meta_for(id, principal, "records:delete", now).await?;
        describe_record(&meta, note);
        match self.records.delete(id).await? {
            DeleteOutcome::Deleted => Ok(no_content()),
            DeleteOutcome::NotFound => Err(AdminError::NotFound("no such record").into()),
            DeleteOutcome::Held => {
                Err(AdminError::Conflict("the record is on legal hold".into()).into())
            }
        }
    }

    async fn hold(
        &self,
        id: &str,
        req: Request<Incoming>,
        principal: &Principal,
        now: i64,
    ) -> Result<Response<Body>, GatewayError> {
        self.meta_for(id, principal, "records:hold", now).await?;
        let body: LegalHold = read_json_limited(req, 4096, DOCS).await?;
        if !self.records.set_legal_hold(id, body.hold).await? {
            return Err(AdminError::NotFound("no such record").into());
        }
        Ok(reply(
            StatusCode::OK,
            &json!({ "id": id, "legal_hold": body.hold }),
        ))
    }

    async fn erase(
        &self,
        subject: &str,
        principal: &Principal,
        now: i64,
    ) -> Result<Response<Body>, GatewayError> {
        self.require_for_subject(principal, "subjects:erase", subject, now)
            .await?;
        let r = self.records.erase_subject(subject, now).await?;
        tracing::info!(
            target: "amanah::records",
            deleted = r.records_deleted.len(),
            held = r.records_held.len(),
            key_destroyed = r.key_destroyed,
            "subject erased"
        );
        Ok(reply(StatusCode::OK, &receipt_json(&r)))
    }

    async fn export(
        &self,
        subject: &str,
        req: &Request<Incoming>,
        principal: &Principal,
        now: i64,
    ) -> Result<Response<Body>, GatewayError> {
        self.require_for_subject(principal, "subjects:export", subject, now)
            .await?;
        if query_param(req, "format").is_some_and(|f| f != "json") {
            return Err(invalid("the only export format is json"));
        }
        let export = self.records.export(subject, now).await?;
        Ok(reply(StatusCode::OK, &export_json(&export, now)))
    }

    async fn consents(
        &self,
        subject: &str,
        principal: &Principal,
        now: i64,
    ) -> Result<Response<Body>, GatewayError> {
        self.require(principal, "subjects:read", None, now).await?;
        let events = self.store.consents(subject).await?;
        let items: Vec<serde_json::Value> = events.iter().map(consent_json).collect();
        Ok(reply(
            StatusCode::OK,
            &json!({ "subject": subject, "consents": items }),
        ))
    }

    async fn consent(
        &self,
        subject: &str,
        req: Request<Incoming>,
        principal: &Principal,
        now: i64,
    ) -> Result<Response<Body>, GatewayError> {
        self.require(principal, "consents:write", None, now).await?;
        let body: PutConsent = read_json_limited(req, 64 * 1024, DOCS).await?;
        crate::records::check_label("subject", subject)?;
        crate::records::check_label("purpose", &body.purpose)?;
        if body.evidence.trim().is_empty() || body.evidence.len() > 2000 {
            return Err(invalid(
                "evidence: say how consent was given or withdrawn (1 to 2000 bytes)",
            ));
        }
        let event = ConsentEvent {
            subject: subject.to_owned(),
            purpose: body.purpose,
            granted: body.granted,
            at: now,
            evidence: body.evidence,
            recorded_by: principal.id.clone(),
        };
        self.store.record_consent(&event).await?;
        Ok(reply(StatusCode::CREATED, &consent_json(&event)))
    }

    /// `PUT .../{id}/regions` for a subject or a tenant.
    async fn set_pin(
        &self,
        whose: Pinned,
        id: &str,
        req: Request<Incoming>,
        principal: &Principal,
        now: i64,
    ) -> Result<Response<Body>, GatewayError> {
        let (permission, label) = match whose {
            Pinned::Subject => ("subjects:write", "subject"),
            Pinned::Tenant => ("tenants:write", "tenant"),
        };
        self.require(principal, permission, None, now).await?;
        let body: PutRegions = read_json_limited(req, 64 * 1024, DOCS).await?;
        crate::records::check_label(label, id)?;
        if let Some(regions) = &body.regions {
            if regions.is_empty() {
                return Err(invalid(
                    "regions: name at least one, or send null to remove the pin",
                ));
            }
            for r in regions {
                crate::records::check_label("region", r)?;
            }
        }
        let regions = body.regions.as_deref();
        match whose {
            Pinned::Subject => self.store.set_subject_regions(id, regions).await?,
            Pinned::Tenant => self.store.set_tenant_regions(id, regions).await?,
        }
        Ok(reply(
            StatusCode::OK,
            &json!({ label: id, "regions": regions }),
        ))
    }
}

/// One query parameter, percent-decoded.
fn query_param(req: &Request<Incoming>, name: &str) -> Option<String> {
    req.uri().query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name)
            .then(|| crate::admin_api::percent_decode(v))
            .flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owns_only_its_two_roots() {
        for p in [
            "/v1/records",
            "/v1/records/",
            "/v1/records/rec_x",
            "/v1/subjects/s1/export",
        ] {
            assert!(owns_path(p), "{p}");
        }
        for p in [
            "/v1/chat/completions",
            "/v1/recordsx",
            "/v1",
            "/v1/subjectsy/1",
        ] {
            assert!(!owns_path(p), "{p}");
        }
    }
}
