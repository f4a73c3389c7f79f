//! Login, logout, password reset and invitation pages.

use crate::error::AppError;
use crate::http::extract::{ClientMeta, CurrentUser, Form};
use crate::http::routes::Routes;
use crate::http::session::{self, safe_next};
use crate::http::views::{Chrome, FieldErrors};
use crate::services::auth::{self, LoginError};
use crate::services::users;
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{FromRequestParts, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::{NewPassword, PersonName};

/// Signing in and out, password resets and invitations (public pages).
pub fn router() -> Routes {
    Routes::new()
        .get("/", home)
        .get("/login", login_form)
        .post("/login", login_submit)
        .post("/logout", logout)
        .get("/forgot-password", forgot_form)
        .post("/forgot-password", forgot_submit)
        .get("/reset-password/{token}", reset_form)
        .post("/reset-password/{token}", reset_submit)
        .get("/invite/{token}", invite_form)
        .post("/invite/{token}", invite_submit)
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/login.html")]
pub struct LoginPage {
    pub chrome: Chrome,
    pub heading: &'static str,
    pub action: &'static str,
    pub show_forgot: bool,
    pub email: String,
    pub next: String,
    pub error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/message.html")]
pub struct MessagePage {
    pub chrome: Chrome,
    pub heading: &'static str,
    pub message: String,
    pub link_href: &'static str,
    pub link_label: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/forgot.html")]
struct ForgotPage {
    chrome: Chrome,
    email: String,
    error: Option<String>,
    sent: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/set_password.html")]
struct SetPasswordPage {
    chrome: Chrome,
    heading: String,
    intro: Option<String>,
    action: String,
    ask_name: bool,
    name: String,
    email: Option<String>,
    submit: &'static str,
    errors: FieldErrors,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/join.html")]
struct JoinPage {
    chrome: Chrome,
    partner_name: String,
    role: &'static str,
    email: String,
    action: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct LoginForm {
    pub email: String,
    pub password: String,
    pub next: String,
}

/// `/`: the first partner's dashboard for a logged-in user (the Client Hub for people who are
/// only client users), the login form otherwise.
pub async fn home(State(state): State<AppState>, request: Request) -> Result<Response, AppError> {
    let (mut parts, _) = request.into_parts();
    let Some(current) = CurrentUser::optional(&mut parts, &state).await? else {
        return Ok(Redirect::to("/login").into_response());
    };
    let memberships = store::partners::of_user(state.db.pool(), &current.user.id).await?;
    // Partner work comes first for people who have both; the switcher leads to the Client Hub.
    if memberships.is_empty()
        && !store::client_users::of_user(state.db.pool(), &current.user.id)
            .await?
            .is_empty()
    {
        return Ok(Redirect::to("/client").into_response());
    }
    match memberships.first() {
        Some(first) => Ok(Redirect::to(&format!("/partner/{}/accounts", first.partner.id)).into_response()),
        None => Ok(MessagePage {
            chrome: Chrome::new(&state, None),
            heading: "No partner account yet",
            message: format!(
                "You are logged in as {}, but no partner has added you as a user. Ask an Owner of your company's partner account to invite you.",
                current.user.email
            ),
            link_href: "/login",
            link_label: "Back to login",
        }
        .into_response()),
    }
}

pub async fn login_form(
    State(state): State<AppState>,
    Query(query): Query<NextQuery>,
    jar: CookieJar,
    request: Request,
) -> Result<Response, AppError> {
    let (mut parts, _) = request.into_parts();
    if CurrentUser::from_request_parts(&mut parts, &state)
        .await
        .is_ok()
    {
        let target = safe_next(query.next.as_deref()).unwrap_or_else(|| "/".into());
        return Ok(Redirect::to(&target).into_response());
    }
    let (jar, flash) = session::take_flash(jar, &state.config);
    let page = LoginPage {
        chrome: Chrome::new(&state, flash),
        heading: "Log in to Partner Hub",
        action: "/login",
        show_forgot: true,
        email: String::new(),
        next: safe_next(query.next.as_deref()).unwrap_or_default(),
        error: None,
    };
    Ok((jar, page).into_response())
}

/// Render a failed login as the form again, with the status and words that fit the failure.
pub fn login_failure(page: LoginPage, err: LoginError) -> Response {
    let (status, message, retry) = match err {
        LoginError::Invalid => (
            StatusCode::UNAUTHORIZED,
            "The email or password is not correct.".to_owned(),
            None,
        ),
        LoginError::Throttled(secs) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many failed attempts. Try again in {secs} s."),
            Some(secs),
        ),
        LoginError::Failed(err) => return err.into_response(),
    };
    let mut response = (
        status,
        LoginPage {
            error: Some(message),
            ..page
        },
    )
        .into_response();
    if let Some(secs) = retry {
        crate::http::error::set_retry_after(&mut response, secs);
    }
    response
}

pub async fn login_submit(
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let page = LoginPage {
        chrome: Chrome::new(&state, None),
        heading: "Log in to Partner Hub",
        action: "/login",
        show_forgot: true,
        email: form.email.trim().to_owned(),
        next: safe_next(Some(&form.next)).unwrap_or_default(),
        error: None,
    };
    if form.email.trim().is_empty() || form.password.is_empty() {
        let error = Some("Enter your email and password.".to_owned());
        return (StatusCode::BAD_REQUEST, LoginPage { error, ..page }).into_response();
    }
    match auth::login_user(&state, &form.email, &form.password, &meta).await {
        Ok(login) => {
            let cookie = session::session_cookie(
                &state.config,
                session::user_cookie(&state.config),
                login.token.expose(),
                state.config.session_ttl_ms,
            );
            let target = safe_next(Some(&form.next)).unwrap_or_else(|| "/".into());
            (jar.add(cookie), Redirect::to(&target)).into_response()
        }
        Err(err) => login_failure(page, err),
    }
}

pub async fn logout(State(state): State<AppState>, jar: CookieJar) -> Result<Response, AppError> {
    if let Some(cookie) = jar.get(session::user_cookie(&state.config)) {
        auth::logout(&state, &domain::TokenHash::of(cookie.value())).await?;
    }
    let jar = jar.add(session::removal(
        &state.config,
        session::user_cookie(&state.config),
    ));
    let jar = session::set_flash(jar, &state.config, "You have logged out.");
    Ok((jar, Redirect::to("/login")).into_response())
}

pub async fn forgot_form(State(state): State<AppState>) -> impl IntoResponse {
    ForgotPage {
        chrome: Chrome::new(&state, None),
        email: String::new(),
        error: None,
        sent: false,
    }
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct EmailForm {
    email: String,
}

pub async fn forgot_submit(
    State(state): State<AppState>,
    Form(form): Form<EmailForm>,
) -> Result<Response, AppError> {
    if let Err(err) = domain::Email::parse(&form.email) {
        let page = ForgotPage {
            chrome: Chrome::new(&state, None),
            email: form.email.trim().to_owned(),
            error: Some(format!("Email {}.", err.message)),
            sent: false,
        };
        return Ok((StatusCode::BAD_REQUEST, page).into_response());
    }
    auth::request_password_reset(&state, &form.email).await?;
    Ok(ForgotPage {
        chrome: Chrome::new(&state, None),
        email: String::new(),
        error: None,
        sent: true,
    }
    .into_response())
}

fn link_expired(
    state: &AppState,
    what: &'static str,
    message: &str,
    href: &'static str,
    label: &'static str,
) -> Response {
    let page = MessagePage {
        chrome: Chrome::new(state, None),
        heading: what,
        message: message.to_owned(),
        link_href: href,
        link_label: label,
    };
    (StatusCode::GONE, page).into_response()
}

fn reset_page(state: &AppState, token: &str, errors: FieldErrors) -> SetPasswordPage {
    SetPasswordPage {
        chrome: Chrome::new(state, None),
        heading: "Choose a new password".into(),
        intro: None,
        action: format!("/reset-password/{token}"),
        ask_name: false,
        name: String::new(),
        email: None,
        submit: "Save new password",
        errors,
    }
}

const RESET_GONE: &str =
    "This password reset link has expired or was already used. Ask for a new one.";

pub async fn reset_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    if !auth::reset_link_is_live(&state, &token).await? {
        return Ok(link_expired(
            &state,
            "Link expired",
            RESET_GONE,
            "/forgot-password",
            "Send me a new link",
        ));
    }
    Ok(reset_page(&state, &token, FieldErrors::default()).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    name: String,
    password: String,
    password_confirm: String,
}

pub async fn reset_submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    meta: ClientMeta,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let password = match NewPassword::parse(&form.password, &form.password_confirm) {
        Ok(p) => p,
        Err(err) => {
            return Ok((
                StatusCode::BAD_REQUEST,
                reset_page(&state, &token, FieldErrors::from(vec![err])),
            )
                .into_response());
        }
    };
    if !auth::reset_password(&state, &token, &password, &meta).await? {
        return Ok(link_expired(
            &state,
            "Link expired",
            RESET_GONE,
            "/forgot-password",
            "Send me a new link",
        ));
    }
    let jar = session::set_flash(
        jar,
        &state.config,
        "Your password has been changed. Log in with the new password.",
    );
    Ok((jar, Redirect::to("/login")).into_response())
}

const INVITATION_GONE: &str = "This invitation has expired, was cancelled, or was already used. Ask an Owner of the partner to send you a new one.";

pub async fn invite_form(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let Some(open) = users::open(&state, &token).await? else {
        return Ok(link_expired(
            &state,
            "Invitation not valid",
            INVITATION_GONE,
            "/login",
            "Go to login",
        ));
    };
    let inv = open.invitation;
    let action = format!("/invite/{token}");
    if open.has_account {
        return Ok(JoinPage {
            chrome: Chrome::new(&state, None),
            partner_name: inv.partner_name,
            role: inv.role.label(),
            email: inv.email.to_string(),
            action,
        }
        .into_response());
    }
    Ok(invite_page(
        &state,
        &inv,
        action,
        inv.name.clone(),
        FieldErrors::default(),
    )
    .into_response())
}

fn invite_page(
    state: &AppState,
    inv: &store::invitations::Invitation,
    action: String,
    name: String,
    errors: FieldErrors,
) -> SetPasswordPage {
    SetPasswordPage {
        chrome: Chrome::new(state, None),
        heading: format!("Join {}", inv.partner_name),
        intro: Some(format!(
            "You have been invited to {} as {}. Choose your name and a password to finish setting up your account.",
            inv.partner_name,
            inv.role.label()
        )),
        action,
        ask_name: true,
        name,
        email: Some(inv.email.to_string()),
        submit: "Create account and join",
        errors,
    }
}

pub async fn invite_submit(
    State(state): State<AppState>,
    Path(token): Path<String>,
    meta: ClientMeta,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let Some(open) = users::open(&state, &token).await? else {
        return Ok(link_expired(
            &state,
            "Invitation not valid",
            INVITATION_GONE,
            "/login",
            "Go to login",
        ));
    };
    let partner_name = open.invitation.partner_name.clone();
    if open.has_account {
        let Some((_, partner)) = users::accept(&state, &token, None, None, &meta.ip).await? else {
            return Ok(link_expired(
                &state,
                "Invitation not valid",
                INVITATION_GONE,
                "/login",
                "Go to login",
            ));
        };
        let jar = session::set_flash(
            jar,
            &state.config,
            &format!("You joined {partner_name}. Log in to continue."),
        );
        return Ok((
            jar,
            Redirect::to(&format!("/login?next=/partner/{partner}/accounts")),
        )
            .into_response());
    }
    let name = PersonName::parse(&form.name);
    let password = NewPassword::parse(&form.password, &form.password_confirm);
    let (name, password) = match (name, password) {
        (Ok(n), Ok(p)) => (n, p),
        (n, p) => {
            let errors = FieldErrors::from([n.err(), p.err()].into_iter().flatten().collect());
            let page = invite_page(
                &state,
                &open.invitation,
                format!("/invite/{token}"),
                form.name.trim().to_owned(),
                errors,
            );
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    let Some((user, partner)) =
        users::accept(&state, &token, Some(&name), Some(&password), &meta.ip).await?
    else {
        return Ok(link_expired(
            &state,
            "Invitation not valid",
            INVITATION_GONE,
            "/login",
            "Go to login",
        ));
    };
    let login = auth::open_user_session(&state, &user, &meta).await?;
    let cookie = session::session_cookie(
        &state.config,
        session::user_cookie(&state.config),
        login.token.expose(),
        state.config.session_ttl_ms,
    );
    let jar = session::set_flash(
        jar.add(cookie),
        &state.config,
        &format!("Welcome to {partner_name}!"),
    );
    Ok((jar, Redirect::to(&format!("/partner/{partner}/accounts"))).into_response())
}
