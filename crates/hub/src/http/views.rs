//! What every page shares: the chrome (dev badge, asset version, flash message) and, inside the
//! dashboard, the shell (partner header, account switcher, menu).

use crate::http::assets;
use crate::http::extract::{ClientCtx, PartnerCtx};
use crate::state::AppState;
use askama::Template;

#[derive(Clone, Debug)]
pub struct Chrome {
    pub dev: bool,
    pub assets: &'static str,
    pub flash: Option<String>,
}

impl Chrome {
    pub fn new(state: &AppState, flash: Option<String>) -> Self {
        Self {
            dev: state.config.dev,
            assets: assets::version(),
            flash,
        }
    }

    /// For pages rendered without state at hand (router fallbacks, errors).
    pub fn plain() -> Self {
        Self {
            dev: false,
            assets: assets::version(),
            flash: None,
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub title: &'static str,
    pub message: String,
    pub details: Vec<String>,
    pub reference: Option<String>,
}

/// One entry of the left menu: (url slug, label).
pub struct MenuItem {
    pub slug: &'static str,
    pub label: &'static str,
}

pub const MENU: &[MenuItem] = &[
    MenuItem {
        slug: "accounts",
        label: "WhatsApp Accounts",
    },
    MenuItem {
        slug: "integration",
        label: "Integration",
    },
    MenuItem {
        slug: "profile",
        label: "Profile",
    },
    MenuItem {
        slug: "users",
        label: "Users",
    },
    MenuItem {
        slug: "api-keys",
        label: "API Keys",
    },
    MenuItem {
        slug: "partner-change",
        label: "Partner Change",
    },
    MenuItem {
        slug: "billing",
        label: "Billing",
    },
    MenuItem {
        slug: "support",
        label: "Support",
    },
];

pub struct SwitchTarget {
    pub name: String,
    pub role: &'static str,
    pub href: String,
    pub current: bool,
}

pub struct Shell {
    pub partner_id: String,
    pub partner_name: String,
    pub role_label: &'static str,
    pub is_owner: bool,
    pub user_name: String,
    pub user_email: String,
    pub initial: String,
    pub section: &'static str,
    pub menu: &'static [MenuItem],
    pub switcher: Vec<SwitchTarget>,
    pub unread: i64,
    /// Billing accounts whose messaging is paused: the banner on every page says so.
    pub paused_accounts: i64,
}

impl Shell {
    pub fn new(ctx: &PartnerCtx, section: &'static str) -> Self {
        // Switching keeps the section: every partner has the same pages.
        let mut switcher: Vec<SwitchTarget> = ctx
            .memberships
            .iter()
            .map(|m| SwitchTarget {
                name: m.partner.name.clone(),
                role: m.role.label(),
                href: format!("/partner/{}/{}", m.partner.id, section),
                current: m.partner.id == ctx.partner.id,
            })
            .collect();
        switcher.extend(client_targets(&ctx.client_accounts, None));
        Self {
            partner_id: ctx.partner.id.to_string(),
            partner_name: ctx.partner.name.clone(),
            role_label: ctx.role.label(),
            is_owner: ctx.role.is_owner(),
            user_name: ctx.user.name.clone(),
            user_email: ctx.user.email.to_string(),
            initial: ctx
                .user
                .name
                .chars()
                .next()
                .map(|c| c.to_uppercase().to_string())
                .unwrap_or_else(|| "?".into()),
            section,
            menu: MENU,
            switcher,
            unread: ctx.unread,
            paused_accounts: ctx.paused_accounts,
        }
    }
}

/// The Client Hub accounts of a person as account switcher entries.
pub fn client_targets(
    accounts: &[store::client_users::ClientAccount],
    current: Option<&domain::ClientId>,
) -> Vec<SwitchTarget> {
    accounts
        .iter()
        .map(|a| SwitchTarget {
            name: format!("{} · with {}", a.client_name, a.partner_name),
            role: "Client Hub",
            href: format!("/client/{}", a.client_id),
            current: current == Some(&a.client_id),
        })
        .collect()
}

/// The frame of Client Hub pages: the client, the partner it is with, the account switcher.
/// Deliberately not the partner shell: clients see no partner menu.
pub struct ClientShell {
    pub client_id: String,
    pub client_name: String,
    pub partner_id: String,
    pub partner_name: String,
    pub user_name: String,
    pub user_email: String,
    pub initial: String,
    pub switcher: Vec<SwitchTarget>,
    /// `numbers`, `migrate` or `partner-change`.
    pub section: &'static str,
}

impl ClientShell {
    pub fn new(ctx: &ClientCtx, brand_name: Option<&str>, section: &'static str) -> Self {
        let mut switcher: Vec<SwitchTarget> = ctx
            .memberships
            .iter()
            .map(|m| SwitchTarget {
                name: m.partner.name.clone(),
                role: m.role.label(),
                href: format!("/partner/{}/accounts", m.partner.id),
                current: false,
            })
            .collect();
        switcher.extend(client_targets(&ctx.accounts, Some(&ctx.client.id)));
        Self {
            client_id: ctx.client.id.to_string(),
            client_name: ctx.client.name.clone(),
            partner_id: ctx.partner.id.to_string(),
            partner_name: brand_name.unwrap_or(&ctx.partner.name).to_owned(),
            user_name: ctx.user.name.clone(),
            user_email: ctx.user.email.to_string(),
            initial: ctx
                .user
                .name
                .chars()
                .next()
                .map(|c| c.to_uppercase().to_string())
                .unwrap_or_else(|| "?".into()),
            switcher,
            section,
        }
    }
}

/// Inline form problems keyed by field name, for re-rendering a form with messages.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<domain::FieldError>);

impl FieldErrors {
    pub fn from(errors: Vec<domain::FieldError>) -> Self {
        Self(errors)
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}
