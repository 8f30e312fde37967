//! Rules about data subjects on proxied routes: consent and residency.
//!
//! A request names its data subject in [`SUBJECT_HEADER`]. A route with
//! `consent_purpose` refuses (403 `consent_required`) a request whose
//! subject is unnamed or has not granted that purpose (the latest event of
//! the consent register decides). A subject pinned to regions is never
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
    /// forwarder drops the header, see `proxy`).
    pub async fn check(&self, route: usize, headers: &HeaderMap) -> Result<(), GatewayError> {
        let rules = &self.routes[route];
        // Two subjects in one request: which one the rules apply to would
        // be a guess.
        if headers.get_all(SUBJECT_HEADER).iter().nth(1).is_some() {
            return Err(bad_subject());
        }
        let subject = match headers.get(SUBJECT_HEADER) {
            None => None,
            Some(v) => {
                let s = v.to_str().map_err(|_| bad_subject())?.to_owned();
                crate::records::check_label("subject", &s).map_err(|_| bad_subject())?;
                Some(s)
            }
        };
        if let Some(purpose) = &rules.consent_purpose {
            let Some(subject) = &subject else {
                return Err(GatewayError::ConsentRequired);
            };
            if !self.store.has_consent(subject, purpose).await? {
                return Err(GatewayError::ConsentRequired);
            }
        }
        if let Some(subject) = &subject {
            if let Some(allowed) = self.store.subject_regions(subject).await? {
                let ok = rules.region.as_ref().is_some_and(|r| allowed.contains(r));
                if !ok {
                    tracing::warn!(
                        target: "amanah::residency",
                        route = %rules.name,
                        region = rules.region.as_deref().unwrap_or("undeclared"),
                        allowed = %allowed.join(","),
                        "request refused: the subject is pinned to other regions"
                    );
                    return Err(GatewayError::ResidencyRefused);
                }
            }
        }
        Ok(())
    }
}

fn bad_subject() -> GatewayError {
    GatewayError::BadRequest("X-Amanah-Subject must be 1 to 200 of letters, digits and - _ . : @")
}
