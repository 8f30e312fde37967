//! The OpenAPI document against the code, and the pure helpers of the admin
//! API: routing, the session cookie, authorization and escalation.

use std::collections::BTreeSet;
use std::time::Duration;

use amanah_policy::{Denied, Grant, PrincipalKind, RoleDef};
use serde_json::Value;

use super::*;
use crate::keys::KeyInfo;
use crate::ratelimit::RateDecision;
use crate::users::{SessionInfo, UserInfo, UserStatus};

const NOW: i64 = 1_700_000_000;

/// HTTP methods an OpenAPI path item may hold.
const HTTP_METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn doc() -> Value {
    serde_json::from_str(OPENAPI).expect("admin_api/openapi.json is not valid JSON")
}

/// Every operation of the document: (METHOD, path, operation).
fn operations(doc: &Value) -> Vec<(String, String, Value)> {
    let paths = doc["paths"].as_object().expect("`paths` is an object");
    let mut out = Vec::new();
    for (path, item) in paths {
        let item = item.as_object().expect("a path item is an object");
        for (key, op) in item {
            if HTTP_METHODS.contains(&key.as_str()) {
                out.push((key.to_ascii_uppercase(), path.clone(), op.clone()));
            }
        }
    }
    out
}

fn operation(doc: &Value, method: &Method, path: &str) -> Value {
    let full = format!("{BASE}{path}");
    doc["paths"][&full][method.as_str().to_ascii_lowercase()].clone()
}

/// Follows `$ref`s (local JSON pointers) until a schema without one.
fn resolve<'a>(doc: &'a Value, mut value: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(target) = value.get("$ref").and_then(Value::as_str) else {
            return value;
        };
        let pointer = target
            .strip_prefix('#')
            .unwrap_or_else(|| panic!("non-local $ref {target}"));
        value = doc
            .pointer(pointer)
            .unwrap_or_else(|| panic!("$ref {target} resolves to nothing"));
    }
    panic!("$ref chain too long at {value}");
}

fn schema_types(schema: &Value) -> Vec<&str> {
    match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

// --- the document ---

#[test]
fn openapi_document_is_json_3_1() {
    let doc = doc();
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["info"]["title"], "Amanah admin API");
    assert_eq!(doc["info"]["version"], "1");
    assert!(
        OPENAPI.starts_with("{\n  \"openapi\": \"3.1.0\","),
        "openapi.json should be pretty-printed with a 2-space indent"
    );
}

#[test]
fn openapi_operations_are_exactly_the_endpoints() {
    let doc = doc();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _)| (m, p))
        .collect();
    let served: BTreeSet<(String, String)> = ENDPOINTS
        .iter()
        .map(|ep| (ep.method.as_str().to_owned(), format!("{BASE}{}", ep.path)))
        .collect();
    assert_eq!(
        served.len(),
        ENDPOINTS.len(),
        "ENDPOINTS lists an endpoint twice"
    );
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && unserved.is_empty(),
        "openapi.json and ENDPOINTS differ\n  in ENDPOINTS, not documented: {undocumented:?}\n  documented, not in ENDPOINTS: {unserved:?}"
    );
    for (path, item) in doc["paths"].as_object().unwrap() {
        for key in item.as_object().unwrap().keys() {
            assert!(
                HTTP_METHODS.contains(&key.as_str()) || key == "parameters",
                "{path}: unexpected key `{key}` in the path item"
            );
        }
    }
}

#[test]
fn openapi_operation_ids_are_unique_and_every_operation_is_described() {
    let doc = doc();
    let mut ids = BTreeSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"]
            .as_str()
            .unwrap_or_else(|| panic!("{method} {path}: no operationId"));
        assert!(ids.insert(id.to_owned()), "operationId {id} used twice");
        for field in ["summary", "description"] {
            assert!(
                op[field].as_str().is_some_and(|s| !s.is_empty()),
                "{method} {path}: no {field}"
            );
        }
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|code| code.starts_with('2')),
            "{method} {path}: no success response"
        );
    }
}

#[test]
fn openapi_documents_who_may_call_each_endpoint() {
    let doc = doc();
    for ep in ENDPOINTS {
        let op = operation(&doc, &ep.method, ep.path);
        let what = format!("{} {BASE}{}", ep.method, ep.path);
        let description = op["description"].as_str().unwrap_or_default();
        let security = op["security"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: no `security` array"));
        match ep.access {
            Access::Public => assert!(
                security.is_empty(),
                "{what} is public and must declare `security: []`"
            ),
            Access::Session => {
                let mut expected = json!({ "session": [] });
                if ep.method != Method::GET {
                    expected["csrf"] = json!([]);
                }
                assert_eq!(
                    security,
                    &vec![expected],
                    "{what} takes the session cookie only"
                );
                assert!(
                    description.contains("Session only"),
                    "{what}: the description should say it is session-only"
                );
            }
            Access::Permission(p) => {
                assert!(
                    description.contains(ADMIN_ACCESS) && description.contains(p),
                    "{what}: the description must name {ADMIN_ACCESS} and {p}: {description}"
                );
                let schemes: BTreeSet<&str> = security
                    .iter()
                    .flat_map(|req| req.as_object().unwrap().keys())
                    .map(String::as_str)
                    .collect();
                let mut want: BTreeSet<&str> = ["session", "bearer", "apiKey"].into();
                if ep.method != Method::GET {
                    want.insert("csrf");
                }
                assert_eq!(schemes, want, "{what}: security schemes");
                for req in security {
                    let req = req.as_object().unwrap();
                    if let Some(csrf) = req.get("csrf") {
                        assert!(
                            req.contains_key("session"),
                            "{what}: csrf goes with the session"
                        );
                        assert_eq!(csrf, &json!([]));
                    }
                    for scheme in ["session", "bearer", "apiKey"] {
                        if let Some(scopes) = req.get(scheme) {
                            assert_eq!(
                                scopes,
                                &json!([ADMIN_ACCESS, p]),
                                "{what}: {scheme} must list the permissions needed"
                            );
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn openapi_security_schemes_are_declared() {
    let doc = doc();
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["session"]["type"], "apiKey");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["session"]["name"], SESSION_COOKIE);
    assert_eq!(schemes["csrf"]["in"], "header");
    assert!(schemes["csrf"]["name"]
        .as_str()
        .is_some_and(|n| n.eq_ignore_ascii_case(CSRF_HEADER)));
    assert_eq!(schemes["bearer"]["type"], "http");
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["apiKey"]["in"], "header");
    assert_eq!(schemes["apiKey"]["name"], "X-API-Key");
    for (method, path, op) in operations(&doc) {
        for req in op["security"].as_array().unwrap() {
            for scheme in req.as_object().unwrap().keys() {
                assert!(
                    schemes.get(scheme).is_some(),
                    "{method} {path}: unknown security scheme {scheme}"
                );
            }
        }
    }
}

#[test]
fn openapi_request_bodies_forbid_unknown_fields() {
    let doc = doc();
    for (method, path, op) in operations(&doc) {
        let Some(body) = op.get("requestBody") else {
            continue;
        };
        let schema = resolve(&doc, &body["content"]["application/json"]["schema"]);
        assert_eq!(
            schema["additionalProperties"],
            Value::Bool(false),
            "{method} {path}: the request body schema must set additionalProperties: false (the structs deny unknown fields)"
        );
    }
}

#[test]
fn openapi_refs_resolve() {
    fn walk(doc: &Value, value: &Value, at: &str, broken: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, v) in map {
                    if key == "$ref" {
                        let target = v.as_str().unwrap_or_default();
                        let ok = target.starts_with("#/components/")
                            && doc.pointer(&target[1..]).is_some();
                        if !ok {
                            broken.push(format!("{at}: {target}"));
                        }
                    } else {
                        walk(doc, v, &format!("{at}/{key}"), broken);
                    }
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(doc, v, &format!("{at}/{i}"), broken);
                }
            }
            _ => {}
        }
    }
    let doc = doc();
    let mut broken = Vec::new();
    walk(&doc, &doc, "#", &mut broken);
    assert!(
        broken.is_empty(),
        "unresolved $refs:\n{}",
        broken.join("\n")
    );
}

#[test]
fn openapi_path_parameters_match_the_templates() {
    let doc = doc();
    for ep in ENDPOINTS {
        let op = operation(&doc, &ep.method, ep.path);
        let what = format!("{} {BASE}{}", ep.method, ep.path);
        let captures: Vec<&str> = ep
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let params: Vec<&Value> = op["parameters"]
            .as_array()
            .map(|ps| ps.iter().map(|p| resolve(&doc, p)).collect())
            .unwrap_or_default();
        let in_path: Vec<&str> = params
            .iter()
            .filter(|p| p["in"] == "path")
            .map(|p| {
                assert_eq!(p["required"], true, "{what}: path parameters are required");
                p["name"].as_str().unwrap()
            })
            .collect();
        assert_eq!(in_path, captures, "{what}: path parameters");
        let in_query: Vec<&str> = params
            .iter()
            .filter(|p| p["in"] == "query")
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let expected: &[&str] = if ep.method == Method::GET && ep.path == "/grants" {
            &["principal"]
        } else {
            &[]
        };
        assert_eq!(in_query, expected, "{what}: query parameters");
    }
}

#[test]
fn openapi_error_responses_use_the_shared_error_schema() {
    let doc = doc();
    for (method, path, op) in operations(&doc) {
        for (status, response) in op["responses"].as_object().unwrap() {
            if !(status.starts_with('4') || status.starts_with('5')) {
                continue;
            }
            let target = response["$ref"].as_str().unwrap_or_else(|| {
                panic!("{method} {path} {status}: use a shared response from components")
            });
            assert!(target.starts_with("#/components/responses/"), "{target}");
            let shared = resolve(&doc, response);
            assert_eq!(
                shared["content"]["application/json"]["schema"]["$ref"],
                "#/components/schemas/Error",
                "{target}"
            );
        }
    }
}

#[test]
fn openapi_error_codes_cover_the_admin_api() {
    let doc = doc();
    let codes: BTreeSet<&str> = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let quota = crate::ratelimit::Quota {
        limit: 5,
        period: Duration::from_secs(60),
    };
    let errors: Vec<GatewayError> = vec![
        AdminError::Invalid("x".into()).into(),
        AdminError::NotFound("x").into(),
        AdminError::Conflict("x".into()).into(),
        AdminError::WeakPassword("x".into()).into(),
        AdminError::MfaRequired.into(),
        AdminError::MfaEnrollmentRequired.into(),
        AdminError::Csrf.into(),
        AdminError::Escalation("x".into()).into(),
        GatewayError::BadRequest("x"),
        GatewayError::Unauthenticated(AuthFailure::Missing),
        GatewayError::Forbidden(Denied::OutOfScope {
            principal: "key:x".into(),
            route: ROUTE_NAME.into(),
        }),
        GatewayError::NotFound,
        GatewayError::MethodNotAllowed(vec![Method::GET]),
        GatewayError::PayloadTooLarge {
            limit: MAX_BODY_BYTES as u64,
        },
        GatewayError::RequestBodyTimeout,
        GatewayError::RateLimited(
            "auth_failures",
            RateDecision {
                allowed: false,
                quota,
                remaining: 0,
                reset: Duration::from_secs(60),
                retry_after: Duration::from_secs(12),
            },
        ),
        GatewayError::IdentityUnavailable("x".into()),
    ];
    for e in &errors {
        assert!(
            codes.contains(e.code()),
            "error code {} ({e}) is not in ErrorCode",
            e.code()
        );
    }
    // Each shared response names the codes it stands for.
    let responses = doc["components"]["responses"].as_object().unwrap();
    for e in &errors {
        let described = responses.values().any(|r| {
            r["description"]
                .as_str()
                .is_some_and(|d| d.contains(&format!("`{}`", e.code())))
        });
        assert!(described, "no shared response describes `{}`", e.code());
    }
}

// --- request bodies against the structs ---

type Parse = fn(&Value) -> Result<(), String>;

fn parses<T: DeserializeOwned>(value: &Value) -> Result<(), String> {
    serde_json::from_value::<T>(value.clone())
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// Which struct reads the body of each endpoint that has one.
fn body_structs() -> Vec<(Method, &'static str, &'static str, Parse)> {
    vec![
        (
            Method::POST,
            "/session",
            "LoginRequest",
            parses::<LoginBody>,
        ),
        (Method::POST, "/setup", "SetupRequest", parses::<SetupBody>),
        (
            Method::POST,
            "/mfa/totp",
            "TotpEnrollRequest",
            parses::<EnrollBody>,
        ),
        (
            Method::POST,
            "/mfa/totp/confirm",
            "TotpConfirmRequest",
            parses::<ConfirmBody>,
        ),
        (
            Method::POST,
            "/mfa/recovery-codes",
            "RecoveryCodesRequest",
            parses::<RecoveryCodesBody>,
        ),
        (
            Method::POST,
            "/password",
            "PasswordChangeRequest",
            parses::<PasswordBody>,
        ),
        (
            Method::POST,
            "/keys",
            "CreateKeyRequest",
            parses::<CreateKeyBody>,
        ),
        (
            Method::POST,
            "/keys/{id}/rotate",
            "RotateKeyRequest",
            parses::<RotateBody>,
        ),
        (
            Method::POST,
            "/users",
            "CreateUserRequest",
            parses::<CreateUserBody>,
        ),
        (
            Method::PUT,
            "/users/{username}/roles",
            "UserRolesRequest",
            parses::<RolesBody>,
        ),
        (
            Method::PUT,
            "/locks/{username}",
            "LockRequest",
            parses::<LockBody>,
        ),
        (
            Method::PUT,
            "/roles/{name}",
            "RoleRequest",
            parses::<RoleBody>,
        ),
        (Method::POST, "/grants", "GrantRequest", parses::<GrantBody>),
    ]
}

/// A value of the schema's first non-null type, and one of a wrong type.
fn sample(schema: &Value) -> (Value, Value) {
    let ty = schema_types(schema)
        .into_iter()
        .find(|t| *t != "null")
        .unwrap_or_else(|| panic!("no type in {schema}"));
    match ty {
        "string" => (json!("x"), json!(5)),
        "integer" => (json!(1), json!("x")),
        "boolean" => (json!(true), json!("x")),
        "array" => (json!(["x"]), json!("x")),
        other => panic!("no sample for type {other}"),
    }
}

#[test]
fn openapi_request_bodies_mirror_the_rust_structs() {
    let doc = doc();
    let table = body_structs();
    let with_body: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .filter(|(_, _, op)| op.get("requestBody").is_some())
        .map(|(m, p, _)| (m, p))
        .collect();
    let read: BTreeSet<(String, String)> = table
        .iter()
        .map(|(m, p, _, _)| (m.as_str().to_owned(), format!("{BASE}{p}")))
        .collect();
    assert_eq!(
        with_body, read,
        "operations with a requestBody differ from the endpoints that read one"
    );

    for (method, path, name, parse) in table {
        let what = format!("{method} {BASE}{path} ({name})");
        let body = &operation(&doc, &method, path)["requestBody"];
        let schema_ref = &body["content"]["application/json"]["schema"];
        assert_eq!(
            schema_ref["$ref"],
            format!("#/components/schemas/{name}"),
            "{what}"
        );
        let schema = resolve(&doc, schema_ref);
        let props = schema["properties"].as_object().unwrap();
        let required: BTreeSet<&str> = schema["required"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        // An empty body reads as `{}`: it is optional exactly when no field is required.
        assert_eq!(
            body["required"],
            Value::Bool(!required.is_empty()),
            "{what}: requestBody.required"
        );
        let full: serde_json::Map<String, Value> = props
            .iter()
            .map(|(k, s)| (k.clone(), sample(s).0))
            .collect();
        parse(&Value::Object(full.clone()))
            .unwrap_or_else(|e| panic!("{what}: every documented field: {e}"));
        let mut unknown = full.clone();
        unknown.insert("not_a_field".into(), json!("x"));
        assert!(
            parse(&Value::Object(unknown)).is_err(),
            "{what}: unknown fields must be refused"
        );
        for (field, field_schema) in props {
            let mut without = full.clone();
            without.remove(field);
            let outcome = parse(&Value::Object(without));
            assert_eq!(
                outcome.is_ok(),
                !required.contains(field.as_str()),
                "{what}: `{field}` is {} in the schema, but without it: {outcome:?}",
                if required.contains(field.as_str()) {
                    "required"
                } else {
                    "optional"
                }
            );
            let mut null = full.clone();
            null.insert(field.clone(), Value::Null);
            let outcome = parse(&Value::Object(null));
            assert_eq!(
                outcome.is_ok(),
                schema_types(field_schema).contains(&"null"),
                "{what}: `{field}` nullability in the schema vs the struct: {outcome:?}"
            );
            let mut wrong = full.clone();
            wrong.insert(field.clone(), sample(field_schema).1);
            assert!(
                parse(&Value::Object(wrong)).is_err(),
                "{what}: `{field}` accepts a type the schema does not name"
            );
        }
    }
}

// --- response schemas against what the handlers serialize ---

/// A small JSON Schema check: `$ref`, `type`, `enum`, `required`,
/// `properties` (every key sent must be documented) and `items`.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    let types = schema_types(schema);
    if !types.is_empty() {
        let fits = types.iter().any(|t| match *t {
            "null" => value.is_null(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "string" => value.is_string(),
            "array" => value.is_array(),
            "object" => value.is_object(),
            _ => false,
        });
        if !fits {
            errors.push(format!("{at}: {value} is not of type {types:?}"));
            return;
        }
    }
    if let Some(allowed) = schema["enum"].as_array() {
        if !allowed.contains(value) {
            errors.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
    }
    if let Some(map) = value.as_object() {
        for key in schema["required"].as_array().into_iter().flatten() {
            let key = key.as_str().unwrap_or_default();
            if !map.contains_key(key) {
                errors.push(format!("{at}: required `{key}` missing"));
            }
        }
        let props = schema["properties"].as_object();
        for (key, v) in map {
            match props.and_then(|p| p.get(key)) {
                Some(s) => check(doc, s, v, &format!("{at}.{key}"), errors),
                None if props.is_some() => errors.push(format!("{at}: `{key}` is not documented")),
                None => {}
            }
        }
    }
    if let (Some(items), Some(schema)) = (value.as_array(), schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            check(doc, schema, v, &format!("{at}[{i}]"), errors);
        }
    }
}

fn assert_fits(doc: &Value, schema_name: &str, value: &Value) {
    let mut errors = Vec::new();
    let schema = json!({ "$ref": format!("#/components/schemas/{schema_name}") });
    check(doc, &schema, value, schema_name, &mut errors);
    assert!(
        errors.is_empty(),
        "{value} does not fit {schema_name}:\n{}",
        errors.join("\n")
    );
}

fn user(status: UserStatus, recovery_codes_left: Option<u32>) -> UserInfo {
    UserInfo {
        id: "0123456789abcdef0123456789abcdef".into(),
        username: "alice@example.org".into(),
        roles: vec!["admin".into()],
        status,
        mfa_enabled: recovery_codes_left.is_some(),
        mfa_required: true,
        locked_until: (status == UserStatus::Locked).then_some(NOW + 60),
        created_at: NOW - 100,
        updated_at: NOW,
        disabled_at: (status == UserStatus::Disabled).then_some(NOW - 1),
        recovery_codes_left,
    }
}

fn key(scoped: bool) -> KeyInfo {
    KeyInfo {
        id: "k0123456789".into(),
        name: "ci".into(),
        roles: vec!["contributor".into()],
        masked: "amk_k0123456789_…abcd".into(),
        created_at: NOW - 100,
        expires_at: NOW + 100,
        revoked_at: scoped.then_some(NOW),
        last_used_at: scoped.then_some(NOW - 5),
        last_used_ip: scoped.then(|| "192.0.2.7".into()),
        scopes: scoped.then(|| vec!["chat".into()]),
        service: scoped.then(|| "billing".into()),
        instance: scoped.then(|| "eu-1".into()),
        replaced_by: scoped.then(|| "k9876543210".into()),
        status: if scoped { "revoked" } else { "active" },
    }
}

#[test]
fn openapi_response_schemas_fit_what_the_handlers_send() {
    let doc = doc();
    let session = SessionInfo {
        created_at: NOW,
        last_seen_at: NOW,
        expires_at: NOW + 3600,
        idle_expires_at: NOW + 600,
    };
    for status in [
        UserStatus::PendingSetup,
        UserStatus::Active,
        UserStatus::Locked,
        UserStatus::Disabled,
    ] {
        for codes in [None, Some(7)] {
            let u = serde_json::to_value(user(status, codes)).unwrap();
            assert_fits(&doc, "User", &u);
        }
    }
    assert_fits(&doc, "Session", &serde_json::to_value(&session).unwrap());
    let signed_in = json!({
        "user": user(UserStatus::Active, None),
        "session": session,
        "csrf_token": "ab12",
    });
    assert_fits(&doc, "SignedIn", &signed_in);
    for scoped in [false, true] {
        assert_fits(&doc, "Key", &serde_json::to_value(key(scoped)).unwrap());
    }
    for status in [
        amanah_store::KeyStatus::Active,
        amanah_store::KeyStatus::Grace,
        amanah_store::KeyStatus::Expired,
        amanah_store::KeyStatus::Revoked,
    ] {
        assert_fits(&doc, "KeyStatus", &json!(status.as_str()));
    }
    assert_fits(
        &doc,
        "CreatedKey",
        &json!({ "key": key(false), "secret": "amk_k0123456789_secret" }),
    );
    assert_fits(
        &doc,
        "RotatedKey",
        &json!({
            "key": key(false),
            "secret": "amk_k9876543210_secret",
            "replaces": "k0123456789",
            "old_key_expires_at": NOW + 60,
            "revoked_successor": None::<String>,
        }),
    );
    for grant in [
        GrantRecord {
            id: "g_01".into(),
            principal: "user:0123".into(),
            role: "viewer".into(),
            not_before: None,
            not_after: None,
            created_at: NOW,
            created_by: "key:k1".into(),
        },
        GrantRecord {
            id: "g_02".into(),
            principal: "key:k2".into(),
            role: "admin".into(),
            not_before: Some(NOW),
            not_after: Some(NOW + 3600),
            created_at: NOW,
            created_by: "user:0123".into(),
        },
    ] {
        assert_fits(&doc, "Grant", &grant_json(&grant));
    }
    let body = crate::error::error_body("escalation_refused", "no", "rid-1");
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert_fits(&doc, "Error", &error);
}

// --- routing ---

#[test]
fn match_path_routes_to_endpoints() {
    let m = match_path(&Method::GET, "/keys/abc").unwrap();
    assert_eq!(m.endpoint.path, "/keys/{id}");
    assert_eq!(m.endpoint.method, Method::GET);
    assert_eq!(m.params, vec!["abc"]);

    let m = match_path(&Method::POST, "/keys/abc/rotate").unwrap();
    assert_eq!(m.endpoint.path, "/keys/{id}/rotate");
    assert_eq!(m.params, vec!["abc"]);

    let m = match_path(&Method::PUT, "/users/alice/roles").unwrap();
    assert_eq!(m.endpoint.path, "/users/{username}/roles");
    assert_eq!(m.params, vec!["alice"]);

    let m = match_path(&Method::GET, "/keys").unwrap();
    assert_eq!(m.endpoint.path, "/keys");
    assert!(m.params.is_empty());
}

#[test]
fn match_path_reaches_every_endpoint() {
    for ep in ENDPOINTS {
        let concrete: String = ep
            .path
            .split('/')
            .map(|s| if s.starts_with('{') { "p1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let m = match_path(&ep.method, &concrete)
            .unwrap_or_else(|e| panic!("{} {concrete}: {e}", ep.method));
        assert_eq!((&m.endpoint.method, m.endpoint.path), (&ep.method, ep.path));
        assert!(m.params.iter().all(|p| *p == "p1"));
    }
}

#[test]
fn match_path_refuses_wrong_methods_and_unknown_paths() {
    match match_path(&Method::PUT, "/keys") {
        Err(GatewayError::MethodNotAllowed(allowed)) => {
            let allowed: BTreeSet<&str> = allowed.iter().map(Method::as_str).collect();
            assert_eq!(allowed, BTreeSet::from(["GET", "POST"]));
        }
        other => panic!("PUT /keys: {other:?}"),
    }
    match match_path(&Method::PATCH, "/session") {
        Err(GatewayError::MethodNotAllowed(allowed)) => assert_eq!(allowed.len(), 3),
        other => panic!("PATCH /session: {other:?}"),
    }
    for (method, path) in [
        (Method::GET, "/nope"),
        (Method::GET, "/keys/"),
        (Method::DELETE, "/keys/"),
        (Method::POST, "/keys//rotate"),
        (Method::GET, "/keys/abc/extra"),
        (Method::GET, "/"),
        (Method::GET, ""),
    ] {
        assert!(
            matches!(match_path(&method, path), Err(GatewayError::NotFound)),
            "{method} {path:?} should not match"
        );
    }
}

#[test]
fn owns_path_claims_admin_only() {
    for path in [
        "/admin",
        "/admin/",
        "/admin/v1",
        "/admin/v1/x",
        "/admin/console/",
    ] {
        assert!(owns_path(path), "{path}");
    }
    for path in [
        "/administrator",
        "/v1/admin",
        "/",
        "/adminx/v1",
        "/api/admin/v1",
    ] {
        assert!(!owns_path(path), "{path}");
    }
}

// --- the session cookie ---

fn cookies(values: &[&str]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for v in values {
        headers.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
    }
    headers
}

#[test]
fn session_cookie_is_found_among_others() {
    let h = cookies(&["theme=dark; amanah_session=ams_token1; lang=ar"]);
    assert_eq!(session_cookie(&h), Some("ams_token1"));
    let h = cookies(&["theme=dark;amanah_session=ams_token2"]);
    assert_eq!(session_cookie(&h), Some("ams_token2"));
}

#[test]
fn session_cookie_is_found_across_cookie_headers() {
    let h = cookies(&["theme=dark; lang=ar", "amanah_session=ams_token3"]);
    assert_eq!(session_cookie(&h), Some("ams_token3"));
}

#[test]
fn session_cookie_ignores_lookalike_names() {
    assert_eq!(session_cookie(&cookies(&["xamanah_session=evil"])), None);
    assert_eq!(
        session_cookie(&cookies(&["amanah_session_x=evil; xamanah_session=evil"])),
        None
    );
    assert_eq!(
        session_cookie(&cookies(&["xamanah_session=evil; amanah_session=good"])),
        Some("good")
    );
    assert_eq!(session_cookie(&HeaderMap::new()), None);
}

// --- authorization and escalation ---

fn key_principal(role: &str) -> Principal {
    Principal::new(format!("key:{role}"), PrincipalKind::ApiKey).with_grant(Grant::permanent(role))
}

fn roles(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn missing_permission(result: Result<(), GatewayError>) -> String {
    match result {
        Err(GatewayError::Forbidden(Denied::MissingPermission { permission, .. })) => {
            permission.as_str().to_owned()
        }
        other => panic!("expected a missing permission, got {other:?}"),
    }
}

#[test]
fn may_confer_allows_what_the_actor_holds() {
    let policy = Policy::standard();
    let contributor = key_principal("contributor");
    let wanted = permissions_of_roles(&policy, &roles(&["contributor"])).unwrap();
    may_confer(&policy, &contributor, &wanted, NOW).unwrap();
    may_confer(&policy, &contributor, &[], NOW).unwrap();
}

#[test]
fn may_confer_refuses_escalation() {
    let policy = Policy::standard();
    let contributor = key_principal("contributor");
    let wanted = permissions_of_roles(&policy, &roles(&["admin"])).unwrap();
    let err = may_confer(&policy, &contributor, &wanted, NOW).unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert_eq!(err.code(), "escalation_refused");
    match &err {
        GatewayError::Admin(AdminError::Escalation(message)) => {
            assert!(message.contains("*:*"), "{message}");
        }
        other => panic!("expected an escalation refusal, got {other:?}"),
    }

    // Only what is missing is named.
    let wanted = permissions_of_roles(&policy, &roles(&["supervisor"])).unwrap();
    let err = may_confer(&policy, &contributor, &wanted, NOW).unwrap_err();
    let message = err.client_message();
    assert!(message.contains("records:delete"), "{message}");
    assert!(!message.contains("records:write"), "{message}");
}

#[test]
fn may_confer_lets_an_admin_confer_anything() {
    let policy = Policy::standard();
    let admin = key_principal("admin");
    for role in policy.roles() {
        let wanted = permissions_of_roles(&policy, &[role.name().to_owned()]).unwrap();
        may_confer(&policy, &admin, &wanted, NOW).unwrap();
    }
    let odd = [Permission::parse("anything:at-all").unwrap()];
    may_confer(&policy, &admin, &odd, NOW).unwrap();
}

#[test]
fn may_confer_ignores_expired_grants() {
    let policy = Policy::standard();
    let lapsed = Principal::new("user:u1", PrincipalKind::User).with_grant(Grant::between(
        "admin",
        NOW - 100,
        NOW - 1,
    ));
    let wanted = permissions_of_roles(&policy, &roles(&["viewer"])).unwrap();
    assert!(may_confer(&policy, &lapsed, &wanted, NOW).is_err());
}

#[test]
fn permissions_of_roles_refuses_unknown_roles() {
    let policy = Policy::standard();
    let err = permissions_of_roles(&policy, &roles(&["viewer", "no-such-role"])).unwrap_err();
    assert_eq!(err.code(), "invalid_request");
    assert!(err.client_message().contains("no-such-role"));
}

#[test]
fn authorize_admits_the_admin_role_everywhere() {
    let policy = Policy::standard();
    let admin = key_principal("admin");
    authorize(&policy, &admin, "keys:write", NOW).unwrap();
    for ep in ENDPOINTS {
        if let Access::Permission(p) = ep.access {
            authorize(&policy, &admin, p, NOW).unwrap();
        }
    }
}

#[test]
fn authorize_requires_admin_access() {
    let policy = Policy::standard();
    // `*:read` covers keys:read, but nothing grants admin:access.
    let analyst = key_principal("analyst");
    let missing = missing_permission(authorize(&policy, &analyst, "keys:read", NOW));
    assert_eq!(missing, ADMIN_ACCESS);
}

#[test]
fn authorize_requires_the_endpoint_permission() {
    let policy = Policy::builder()
        .role(
            RoleDef::new("key-reader")
                .permission(Permission::parse(ADMIN_ACCESS).unwrap())
                .permission(Permission::parse("keys:read").unwrap()),
        )
        .build()
        .unwrap();
    let reader = key_principal("key-reader");
    authorize(&policy, &reader, "keys:read", NOW).unwrap();
    let missing = missing_permission(authorize(&policy, &reader, "keys:write", NOW));
    assert_eq!(missing, "keys:write");
    let err = authorize(&policy, &reader, "users:read", NOW).unwrap_err();
    assert_eq!(err.status(), StatusCode::FORBIDDEN);
    assert_eq!(err.code(), "forbidden");
}

#[test]
fn authorize_refuses_scoped_keys() {
    let policy = Policy::standard();
    let scoped = key_principal("admin").with_scopes(["chat"]);
    match authorize(&policy, &scoped, "keys:read", NOW) {
        Err(GatewayError::Forbidden(Denied::OutOfScope { route, .. })) => {
            assert_eq!(route, ROUTE_NAME);
        }
        other => panic!("a scoped key must not open the admin API: {other:?}"),
    }
    // Not even with an empty scope list.
    let unscoped_nothing = key_principal("admin").with_scopes(Vec::<String>::new());
    assert!(authorize(&policy, &unscoped_nothing, "keys:read", NOW).is_err());
}

#[test]
fn authorize_ignores_expired_grants() {
    let policy = Policy::standard();
    let lapsed = Principal::new("user:u1", PrincipalKind::User).with_grant(Grant::between(
        "admin",
        NOW - 100,
        NOW,
    ));
    assert!(authorize(&policy, &lapsed, "keys:read", NOW).is_err());
    authorize(&policy, &lapsed, "keys:read", NOW - 1).unwrap();
}

#[test]
fn percent_decode_reads_query_values() {
    assert_eq!(percent_decode("key%3Aab12").as_deref(), Some("key:ab12"));
    assert_eq!(percent_decode("user:x+y").as_deref(), Some("user:x y"));
    assert_eq!(percent_decode("%e2%82%ac").as_deref(), Some("€"));
    for bad in ["%", "%4", "%zz", "%ff"] {
        assert_eq!(percent_decode(bad), None, "{bad}");
    }
}
