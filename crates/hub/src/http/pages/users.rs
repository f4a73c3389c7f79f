//! The Users tab: members and invitations; Owners add users and manage invitations.

use crate::clock::format_ms;
use crate::error::AppError;
use crate::http::extract::{Form, Ids, PartnerCtx, RequireOwner};
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, FieldErrors, Shell};
use crate::services::users::{self, NewUser};
use crate::state::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::{InvitationId, PartnerId};

/// The Users tab: team members and invitations.
pub fn router() -> Routes {
    Routes::new()
        .get("/partner/{partner_id}/users", list)
        .post("/partner/{partner_id}/users", invite)
        .post(
            "/partner/{partner_id}/users/invitations/{invitation_id}/resend",
            resend,
        )
        .post(
            "/partner/{partner_id}/users/invitations/{invitation_id}/cancel",
            cancel,
        )
}

struct MemberRow {
    name: String,
    email: String,
    role: &'static str,
    last_login: String,
}

struct InvitationRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    sent: String,
    expired: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/users.html")]
struct UsersPage {
    chrome: Chrome,
    shell: Shell,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    errors: FieldErrors,
    form_name: String,
    form_email: String,
    form_role: String,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AddUserForm {
    name: String,
    email: String,
    role: String,
}

async fn page(
    state: &AppState,
    ctx: &PartnerCtx,
    flash: Option<String>,
    form: AddUserForm,
    errors: FieldErrors,
) -> Result<UsersPage, AppError> {
    let list = users::list(state, &ctx.partner.id).await?;
    let now = state.now_ms();
    Ok(UsersPage {
        chrome: Chrome::new(state, flash),
        shell: Shell::new(ctx, "users"),
        members: list
            .members
            .into_iter()
            .map(|m| MemberRow {
                name: m.name,
                email: m.email.to_string(),
                role: m.role.label(),
                last_login: m.last_login_ms.map_or_else(|| "Never".into(), format_ms),
            })
            .collect(),
        invitations: list
            .invitations
            .into_iter()
            .map(|i| InvitationRow {
                expired: !i.is_pending(now),
                id: i.id.to_string(),
                name: i.name,
                email: i.email.to_string(),
                role: i.role.label(),
                sent: format_ms(i.created_ms),
            })
            .collect(),
        errors,
        form_name: form.name.trim().to_owned(),
        form_email: form.email.trim().to_owned(),
        form_role: form.role,
    })
}

pub async fn list(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let page = page(
        &state,
        &ctx,
        flash,
        AddUserForm::default(),
        FieldErrors::default(),
    )
    .await?;
    Ok((jar, page).into_response())
}

pub async fn invite(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<AddUserForm>,
) -> Result<Response, AppError> {
    let outcome = match NewUser::parse(&form.name, &form.email, &form.role) {
        Ok(new_user) => users::invite(
            &state,
            &ctx.partner.id,
            &ctx.partner.name,
            &new_user,
            &ctx.actor(),
        )
        .await
        .map(|_| new_user.email),
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match outcome {
        Ok(email) => {
            let jar =
                session::set_flash(jar, &state.config, &format!("Invitation sent to {email}."));
            Ok((
                jar,
                Redirect::to(&format!("/partner/{}/users", ctx.partner.id)),
            )
                .into_response())
        }
        Err(AppError::Validation(errors)) => {
            let page = page(&state, &ctx, None, form, FieldErrors::from(errors)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(other) => Err(other),
    }
}

pub async fn resend(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    jar: CookieJar,
    Ids((_, id)): Ids<(PartnerId, InvitationId)>,
) -> Result<Response, AppError> {
    let invitation = users::resend(&state, &ctx.partner.id, &id, &ctx.actor()).await?;
    let jar = session::set_flash(
        jar,
        &state.config,
        &format!(
            "Invitation sent again to {}. The previous link no longer works.",
            invitation.email
        ),
    );
    Ok((
        jar,
        Redirect::to(&format!("/partner/{}/users", ctx.partner.id)),
    )
        .into_response())
}

pub async fn cancel(
    RequireOwner(ctx): RequireOwner,
    State(state): State<AppState>,
    jar: CookieJar,
    Ids((_, id)): Ids<(PartnerId, InvitationId)>,
) -> Result<Response, AppError> {
    let invitation = users::cancel(&state, &ctx.partner.id, &id, &ctx.actor()).await?;
    let jar = session::set_flash(
        jar,
        &state.config,
        &format!("Invitation for {} cancelled.", invitation.email),
    );
    Ok((
        jar,
        Redirect::to(&format!("/partner/{}/users", ctx.partner.id)),
    )
        .into_response())
}
