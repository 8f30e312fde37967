//! Rules about data subjects on proxied routes: consent and residency.
//!
//! A request names its data subject in [`SUBJECT_HEADER`] and may name its
//! tenant in [`TENANT_HEADER`]. A route with
//! `consent_purpose` refuses (403 `consent_required`) a request whose
//! subject is unnamed or has not granted that purpose (the latest event of
//! the consent register decides). A subject or tenant pinned to regions is never
//! sent through a route outside them (the route's `region`, else its
//! provider's), nor through one whose region is not declared (403
//! `residency_refused`, and a warning in the log). The header
//! never reaches the provider.
//!
//! The caller names the subject: these rules keep an honest integration
//! from sending a subject's data where it must not go, and from using a
//! purpose without consent. They do not stop a caller that lies about
//! whom a request concerns; that caller's key is the control.

use std::sync::Arc;

use amanah_store::RecordStore;
use http::{HeaderMap, HeaderName};

use crate::config::Config;
use crate::error::GatewayError;

/// Names the data subject a request is about.
pub const SUBJECT_HEADER: HeaderName = HeaderName::from_static("x-amanah-subject");
/// Names the tenant (customer organization) a request is made for.
pub const TENANT_HEADER: HeaderName = HeaderName::from_static("x-amanah-tenant");

struct RouteRules {
    name: String,
    consent_purpose: Option<String>,
    /// The route's region, else its provider's.
    region: Option<String>,
}

pub struct SubjectGate {
    store: Arc<dyn RecordStore>,
    routes: Vec<RouteRules>,
}

impl std::fmt::Debug for SubjectGate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectGate").finish_non_exhaustive()
    }
}

impl SubjectGate {
    pub fn new(config: &Config, store: Arc<dyn RecordStore>) -> Self {
        let routes = config
            .routes
            .iter()
            .map(|r| RouteRules {
                name: r.name.clone(),
                consent_purpose: r.consent_purpose.clone(),
                region: r
                    .region
                    .clone()
                    .or_else(|| config.providers[r.provider].region.clone()),
            })
            .collect();
        Self { store, routes }
    }

    /// Consent and residency for a request on route `route` (the
    /// forwarder drops both headers, see `proxy`).
    pub async fn check(&self, route: usize, headers: &HeaderMap) -> Result<(), GatewayError> {
        let rules = &self.routes[route];
        let subject = named(headers, &SUBJECT_HEADER, Named::Subject)?;
        let tenant = named(headers, &TENANT_HEADER, Named::Tenant)?;
        if let Some(purpose) = &rules.consent_purpose {
            let Some(subject) = &subject else {
                return Err(GatewayError::ConsentRequired);
            };
            if !self.store.has_consent(subject, purpose).await? {
                return Err(GatewayError::ConsentRequired);
            }
        }
        let pins = [
            (
                "subject",
                match &subject {
                    Some(s) => self.store.subject_regions(s).await?,
                    None => None,
                },
            ),
            (
                "tenant",
                match &tenant {
                    Some(t) => self.store.tenant_regions(t).await?,
                    None => None,
                },
            ),
        ];
        for (whose, pinned) in pins {
            let Some(allowed) = pinned else { continue };
            if !rules.region.as_ref().is_some_and(|r| allowed.contains(r)) {
                tracing::warn!(
                    target: "amanah::residency",
                    route = %rules.name,
                    pinned = whose,
                    region = rules.region.as_deref().unwrap_or("undeclared"),
                    allowed = %allowed.join(","),
                    "request refused: pinned to other regions"
                );
                return Err(GatewayError::ResidencyRefused);
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy)]
enum Named {
    Subject,
    Tenant,
}

/// The id a request names in `header`, checked; two values are refused
/// (which one the rules apply to would be a guess).
fn named(
    headers: &HeaderMap,
    header: &HeaderName,
    what: Named,
) -> Result<Option<String>, GatewayError> {
    let bad = || {
        GatewayError::BadRequest(match what {
            Named::Subject => {
                "X-Amanah-Subject must be one value of 1 to 200 letters, digits and - _ . : @"
            }
            Named::Tenant => {
                "X-Amanah-Tenant must be one value of 1 to 200 letters, digits and - _ . : @"
            }
        })
    };
    let mut values = headers.get_all(header).iter();
    let Some(first) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(bad());
    }
    let value = first.to_str().map_err(|_| bad())?.to_owned();
    crate::records::check_label("id", &value).map_err(|_| bad())?;
    Ok(Some(value))
}
