//! The Integrated Onboarding screens a partner's clients see — sign-up, log-in, numbers,
//! sharing, the end page, and migration — as reusable templates inside one frame. A small view (`Brand`: the partner's brand name and logo) drives them,
//! and `Mode` says whether they are live forms or the Profile preview's inert copies, so the
//! preview shows exactly what the real pages (`/dashboard/app/{partner_id}`) will render.
//! The platform's own branding is part of the frame and cannot be switched off: no
//! white-labelling.

use crate::http::views::{Chrome, FieldErrors};
use askama::Template;
use askama_web::WebTemplate;

/// The partner as its clients see it on these screens.
#[derive(Clone, Debug)]
pub struct Brand {
    pub partner_id: String,
    /// The brand name, or the partner's name when it has none.
    pub brand_name: String,
    /// Where the logo image comes from: its public URL, or a `data:` URL in an unsaved preview.
    pub logo_src: Option<String>,
}

/// Live forms, or the preview's copies that cannot be sent.
#[derive(Clone, Debug)]
pub enum Mode {
    Live {
        /// Where the screen's form posts.
        action: String,
    },
    Preview(PreviewBar),
}

/// What the preview banner offers around the screen.
#[derive(Clone, Debug)]
pub struct PreviewBar {
    /// Back to the Profile tab.
    pub back_href: String,
    /// Links to the other screen; only for saved values (unsaved values live in one POST).
    pub onboarding_href: Option<String>,
    pub migration_href: Option<String>,
    /// The values shown are not saved yet.
    pub unsaved: bool,
}

impl Mode {
    pub fn preview(&self) -> Option<&PreviewBar> {
        match self {
            Mode::Preview(bar) => Some(bar),
            Mode::Live { .. } => None,
        }
    }

    pub fn is_preview(&self) -> bool {
        matches!(self, Mode::Preview(_))
    }

    /// The form's action; empty in a preview (the form also has no method and is disabled).
    pub fn action(&self) -> &str {
        match self {
            Mode::Live { action } => action,
            Mode::Preview(_) => "",
        }
    }
}

/// Which first screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Screen {
    /// Sign-up of a new client (with "Log in instead").
    Signup,
    /// Bringing a number that is live at another provider.
    Migration,
}

impl Screen {
    /// `onboarding` (the default) or `migration`.
    pub fn parse(raw: &str) -> Screen {
        match raw {
            "migration" => Screen::Migration,
            _ => Screen::Signup,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Screen::Signup => "onboarding",
            Screen::Migration => "migration",
        }
    }
}

/// What the sign-up form shows in its fields (prefilled from the query, or kept after an error).
#[derive(Clone, Debug, Default)]
pub struct SignupValues {
    pub name: String,
    pub email: String,
    pub company: String,
}

/// The first screen of Integrated Onboarding: a new client signs up.
#[derive(Template, WebTemplate)]
#[template(path = "onboarding/signup.html")]
pub struct SignupScreen {
    pub chrome: Chrome,
    pub brand: Brand,
    pub mode: Mode,
    /// Where "Log in instead" leads.
    pub login_href: String,
    pub values: SignupValues,
    pub errors: FieldErrors,
    /// A message above the form.
    pub notice: Option<String>,
    /// The plan the partner preselected (`plan_selection`), shown as is.
    pub plan: Option<String>,
}

/// An existing client logs in (the same check and throttles as `/login`).
#[derive(Template, WebTemplate)]
#[template(path = "onboarding/login.html")]
pub struct LoginScreen {
    pub chrome: Chrome,
    pub brand: Brand,
    pub mode: Mode,
    pub email: String,
    pub notice: Option<String>,
    pub error: Option<String>,
    /// Where "Create an account" leads; `None` where only existing clients fit (`?number=`).
    pub signup_href: Option<String>,
}

/// A logged-in person without a client of this partner names their company.
#[derive(Template, WebTemplate)]
#[template(path = "onboarding/company.html")]
pub struct CompanyScreen {
    pub chrome: Chrome,
    pub brand: Brand,
    pub mode: Mode,
    pub email: String,
    pub company: String,
    pub errors: FieldErrors,
    pub logout_action: String,
}

/// One of the client's numbers on the numbers screen.
#[derive(Clone, Debug)]
pub struct NumberRow {
    pub id: String,
    pub phone: String,
    pub name: String,
    pub status: &'static str,
    pub pill: &'static str,
    /// The provider is still sending the code.
    pub waiting: bool,
    /// The code form is shown.
    pub verify: bool,
    pub verify_action: String,
    pub error: Option<String>,
}

/// What the add-number form shows after an error.
#[derive(Clone, Debug, Default)]
pub struct NumberValues {
    pub phone: String,
    pub name: String,
    pub method: String,
}

/// The client's numbers: add (unless refused), verify, continue to sharing.
#[derive(Template, WebTemplate)]
#[template(path = "onboarding/numbers.html")]
pub struct NumbersScreen {
    pub chrome: Chrome,
    pub brand: Brand,
    pub mode: Mode,
    pub client_name: String,
    pub email: String,
    pub numbers: Vec<NumberRow>,
    pub may_add: bool,
    /// Why adding is refused, when it is.
    pub refused: String,
    pub message: Option<String>,
    pub add_values: NumberValues,
    pub add_errors: FieldErrors,
    pub continue_href: String,
    pub sandbox_hint: bool,
}

/// One number offered for sharing.
#[derive(Clone, Debug)]
pub struct ShareRow {
    pub id: String,
    pub phone: String,
    pub name: String,
    pub status: &'static str,
    pub checked: bool,
}

/// Which numbers the partner may use.
#[derive(Template, WebTemplate)]
#[template(path = "onboarding/share.html")]
pub struct ShareScreen {
    pub chrome: Chrome,
    pub brand: Brand,
    pub mode: Mode,
    pub numbers: Vec<ShareRow>,
    pub partner_payment: bool,
    pub error: Option<String>,
}

/// An end or a stop: all set, a refusal, a suspended partner.
#[derive(Template, WebTemplate)]
#[template(path = "onboarding/done.html")]
pub struct DoneScreen {
    pub chrome: Chrome,
    pub brand: Brand,
    pub mode: Mode,
    pub heading: String,
    pub paragraphs: Vec<String>,
    /// (href, label)
    pub link: Option<(String, String)>,
}

/// A page without a partner to show (an unknown partner id), in the public look.
#[derive(Template, WebTemplate)]
#[template(path = "onboarding/notice.html")]
pub struct NoticePage {
    pub chrome: Chrome,
    pub heading: String,
    pub message: String,
}

/// The first screen of a migration: the number that is live elsewhere, its display name, and a
/// code request. The live page (`http::migration`) and the Profile preview render this one type.
#[derive(Template, WebTemplate)]
#[template(path = "onboarding/migration.html")]
pub struct MigrationScreen {
    pub chrome: Chrome,
    pub brand: Brand,
    pub mode: Mode,
    pub form: MigrationForm,
}

/// What the migration form shows: the values sent (kept when refused) and the problems.
#[derive(Debug, Default)]
pub struct MigrationForm {
    pub phone_number: String,
    pub phone_name: String,
    pub voice: bool,
    pub errors: FieldErrors,
    /// A problem that belongs to no single field.
    pub error: Option<String>,
    /// Where "Back" leads on the live page (the Client Hub), if anywhere.
    pub back_href: Option<String>,
    /// Why this client cannot bring a number now (its limit, the partner's setting): said
    /// before anything is typed, and the form is disabled.
    pub blocked: Option<String>,
}

/// The second screen of a migration: waiting for the code, entering it, done.
#[derive(Template, WebTemplate)]
#[template(path = "onboarding/migration_code.html")]
pub struct MigrationCodeScreen {
    pub chrome: Chrome,
    pub brand: Brand,
    pub mode: Mode,
    pub phone: String,
    pub display_name: String,
    /// `migration_requested`: the code is on its way (the page reloads itself).
    pub requested: bool,
    /// `waiting_for_code`: the code form.
    pub waiting: bool,
    /// `running`: done.
    pub running: bool,
    /// Any other status (e.g. `error`), as a label.
    pub other_status: Option<String>,
    pub method: String,
    pub code: String,
    pub error: Option<String>,
    pub sandbox_hint: bool,
    pub attempts_left: i64,
    pub locked_until: Option<String>,
    /// Where the client goes afterwards (the Client Hub).
    pub done_href: String,
}

/// Render `screen` for `brand` in `mode`.
pub fn render(
    chrome: Chrome,
    brand: Brand,
    mode: Mode,
    screen: Screen,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match screen {
        Screen::Signup => SignupScreen {
            login_href: format!("/dashboard/app/{}?next=login", brand.partner_id),
            chrome,
            brand,
            mode,
            values: SignupValues::default(),
            errors: FieldErrors::default(),
            notice: None,
            plan: None,
        }
        .into_response(),
        Screen::Migration => MigrationScreen {
            chrome,
            brand,
            mode,
            form: MigrationForm::default(),
        }
        .into_response(),
    }
}
