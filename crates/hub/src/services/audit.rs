//! Who did what: a thin layer over `store::audit` with the actor spelled once.

use crate::state::AppState;
use domain::PartnerId;
use store::audit::AuditEntry;

/// Where a request comes from, for throttling and the audit log (read from the request by the
/// HTTP layer's extractor).
#[derive(Clone, Debug)]
pub struct ClientMeta {
    pub ip: String,
    pub user_agent: String,
}

/// The person or process behind a change.
#[derive(Clone, Debug)]
pub enum Actor {
    User { id: String, ip: String },
    Staff { id: String, ip: String },
    ApiKey { id: String, ip: String },
    System,
}

impl Actor {
    fn parts(&self) -> (&'static str, &str, &str) {
        match self {
            Actor::User { id, ip } => ("user", id, ip),
            Actor::Staff { id, ip } => ("staff", id, ip),
            Actor::ApiKey { id, ip } => ("api_key", id, ip),
            Actor::System => ("system", "partnerhub", "local"),
        }
    }

    pub fn id(&self) -> Option<&str> {
        match self {
            Actor::User { id, .. } | Actor::Staff { id, .. } | Actor::ApiKey { id, .. } => Some(id),
            Actor::System => None,
        }
    }
}

pub async fn record<'e>(
    ex: impl sqlx::Executor<'e, Database = sqlx::Any>,
    state: &AppState,
    actor: &Actor,
    partner: Option<&PartnerId>,
    action: &'static str,
    target: &str,
    detail: &str,
) -> Result<(), store::StoreError> {
    let (actor_kind, actor_id, ip) = actor.parts();
    store::audit::record(
        ex,
        &AuditEntry {
            partner_id: partner,
            actor_kind,
            actor_id,
            action,
            target,
            detail,
            ip,
        },
        state.now_ms(),
    )
    .await
}
