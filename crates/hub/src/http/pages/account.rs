//! The signed-in person's own account: changing their password (from the user menu).

use crate::error::AppError;
use crate::http::extract::{ClientMeta, CurrentUser, Form};
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, FieldErrors};
use crate::services::auth::{self, LoginError};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::{FieldError, NewPassword};

const PATH: &str = "/account/password";

pub fn router() -> Routes {
    Routes::new().get(PATH, form).post(PATH, submit)
}

#[derive(Template, WebTemplate)]
#[template(path = "auth/change_password.html")]
struct ChangePasswordPage {
    chrome: Chrome,
    email: String,
    errors: FieldErrors,
}

fn page(
    state: &AppState,
    user: &CurrentUser,
    flash: Option<String>,
    errors: FieldErrors,
) -> ChangePasswordPage {
    ChangePasswordPage {
        chrome: Chrome::new(state, flash),
        email: user.user.email.to_string(),
        errors,
    }
}

async fn form(
    user: CurrentUser,
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    Ok((jar, page(&state, &user, flash, FieldErrors::default())).into_response())
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct PasswordChange {
    current_password: String,
    password: String,
    password_confirm: String,
}

async fn submit(
    user: CurrentUser,
    State(state): State<AppState>,
    meta: ClientMeta,
    jar: CookieJar,
    Form(form): Form<PasswordChange>,
) -> Result<Response, AppError> {
    let refuse = |status: StatusCode, error: FieldError| {
        (
            status,
            page(&state, &user, None, FieldErrors::from(vec![error])),
        )
            .into_response()
    };
    if form.current_password.is_empty() {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            FieldError::new("current_password", "is required"),
        ));
    }
    let new = match NewPassword::parse(&form.password, &form.password_confirm) {
        Ok(new) => new,
        Err(err) => return Ok(refuse(StatusCode::BAD_REQUEST, err)),
    };
    if form.password == form.current_password {
        return Ok(refuse(
            StatusCode::BAD_REQUEST,
            FieldError::new("password", "must differ from your current password"),
        ));
    }
    match auth::change_password(
        &state,
        &user.user,
        &user.session,
        &form.current_password,
        &new,
        &meta,
    )
    .await
    {
        Ok(ended) => {
            let message = match ended {
                0 => "Your password has been changed.".to_owned(),
                1 => "Your password has been changed, and your other session was signed out."
                    .to_owned(),
                n => format!(
                    "Your password has been changed, and your {n} other sessions were signed out."
                ),
            };
            let jar = session::set_flash(jar, &state.config, &message);
            Ok((jar, Redirect::to(PATH)).into_response())
        }
        Err(LoginError::Invalid) => Ok(refuse(
            StatusCode::BAD_REQUEST,
            FieldError::new("current_password", "is wrong"),
        )),
        Err(LoginError::Throttled(seconds)) => Ok(refuse(
            StatusCode::TOO_MANY_REQUESTS,
            FieldError::new(
                "current_password",
                format!("was wrong too many times. Try again in {seconds} s"),
            ),
        )),
        Err(LoginError::Failed(err)) => Err(err),
    }
}
