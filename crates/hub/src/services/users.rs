//! A partner's users: inviting (by email, with a single-use link valid for 7 days), resending and
//! cancelling invitations, and accepting them. Deleting users is a staff task on a support ticket.

use crate::error::AppError;
use crate::passwords;
use crate::services::audit::{self, Actor};
use crate::services::mail;
use crate::state::AppState;
use domain::{
    Email, FieldError, InvitationId, NewPassword, PartnerId, PersonName, Role, SecretToken,
    TokenHash, UserId,
};
use store::invitations::{Invitation, NewInvitation};
use store::partners::Member;

pub const INVITATION_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// A validated "Add user" request.
#[derive(Debug)]
pub struct NewUser {
    pub name: PersonName,
    pub email: Email,
    pub role: Role,
}

impl NewUser {
    /// Parse the form, collecting every problem at once so the page can show them all.
    pub fn parse(name: &str, email: &str, role: &str) -> Result<Self, Vec<FieldError>> {
        let name = PersonName::parse(name);
        let email = Email::parse(email);
        let role = Role::parse(role);
        match (name, email, role) {
            (Ok(name), Ok(email), Ok(role)) => Ok(Self { name, email, role }),
            (name, email, role) => Err([name.err(), email.err(), role.err()]
                .into_iter()
                .flatten()
                .collect()),
        }
    }
}

/// The Users tab: members and pending invitations.
#[derive(Debug)]
pub struct UserList {
    pub members: Vec<Member>,
    pub invitations: Vec<Invitation>,
}

pub async fn list(state: &AppState, partner: &PartnerId) -> Result<UserList, AppError> {
    Ok(UserList {
        members: store::partners::members(state.db.pool(), partner).await?,
        invitations: store::invitations::pending(state.db.pool(), partner).await?,
    })
}

fn invitation_mail(partner_name: &str, name: &str, role: Role, link: &str) -> (String, String) {
    (
        format!("You are invited to {partner_name} on Partner Hub"),
        format!(
            "Hello {name},\n\nyou have been invited to join {partner_name} on Partner Hub as {role}.\n\n\
             Accept the invitation and set your password here (the link works once, for 7 days):\n{link}\n\n\
             If you did not expect this invitation, you can ignore this message.\n",
            role = role.label(),
        ),
    )
}

/// Invite someone; returns the invitation link (also mailed).
pub async fn invite(
    state: &AppState,
    partner: &PartnerId,
    partner_name: &str,
    new_user: &NewUser,
    actor: &Actor,
) -> Result<String, AppError> {
    if store::partners::has_member_email(state.db.pool(), partner, &new_user.email).await? {
        return Err(AppError::Validation(vec![FieldError::new(
            "email",
            "already belongs to a user of this partner",
        )]));
    }
    let now = state.now_ms();
    let pending = store::invitations::pending(state.db.pool(), partner).await?;
    if pending.iter().any(|i| i.email == new_user.email) {
        return Err(AppError::Validation(vec![FieldError::new(
            "email",
            "already has a pending invitation; use Resend in the list below",
        )]));
    }
    let token = SecretToken::generate();
    let id = InvitationId::generate();
    let link = state.config.link(&format!("/invite/{}", token.expose()));
    let (subject, body) =
        invitation_mail(partner_name, new_user.name.as_str(), new_user.role, &link);
    let mut tx = state.db.begin_write().await?;
    store::invitations::create(
        &mut *tx,
        partner,
        &NewInvitation {
            id: &id,
            token_hash: &token.hash(),
            email: &new_user.email,
            name: new_user.name.as_str(),
            role: new_user.role,
            invited_by: actor.id(),
            expires_ms: now + INVITATION_TTL_MS,
        },
        now,
    )
    .await?;
    mail::queue(&mut tx, state, new_user.email.as_str(), &subject, &body).await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "invitation.create",
        id.as_str(),
        new_user.email.as_str(),
    )
    .await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    Ok(link)
}

/// Send a pending invitation again with a fresh link (the old link stops working).
pub async fn resend(
    state: &AppState,
    partner: &PartnerId,
    id: &InvitationId,
    actor: &Actor,
) -> Result<Invitation, AppError> {
    let invitation = store::invitations::get(state.db.pool(), partner, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if invitation.state != "pending" {
        return Err(AppError::Unprocessable(
            "This invitation was already accepted or cancelled.".into(),
        ));
    }
    let token = SecretToken::generate();
    let now = state.now_ms();
    let link = state.config.link(&format!("/invite/{}", token.expose()));
    let (subject, body) = invitation_mail(
        &invitation.partner_name,
        &invitation.name,
        invitation.role,
        &link,
    );
    let mut tx = state.db.begin_write().await?;
    if !store::invitations::renew(
        &mut *tx,
        partner,
        id,
        &token.hash(),
        now + INVITATION_TTL_MS,
        now,
    )
    .await?
    {
        return Err(AppError::Unprocessable(
            "This invitation was already accepted or cancelled.".into(),
        ));
    }
    mail::queue(&mut tx, state, invitation.email.as_str(), &subject, &body).await?;
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "invitation.resend",
        id.as_str(),
        invitation.email.as_str(),
    )
    .await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    Ok(invitation)
}

pub async fn cancel(
    state: &AppState,
    partner: &PartnerId,
    id: &InvitationId,
    actor: &Actor,
) -> Result<Invitation, AppError> {
    let invitation = store::invitations::get(state.db.pool(), partner, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut tx = state.db.begin_write().await?;
    if !store::invitations::close(&mut *tx, partner, id, "cancelled", state.now_ms()).await? {
        return Err(AppError::Unprocessable(
            "This invitation was already accepted or cancelled.".into(),
        ));
    }
    audit::record(
        &mut *tx,
        state,
        actor,
        Some(partner),
        "invitation.cancel",
        id.as_str(),
        invitation.email.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(invitation)
}

/// What an invitation link shows: the invitation, and whether its email already has a password
/// (then accepting only adds the membership; the person logs in as usual).
#[derive(Debug)]
pub struct OpenInvitation {
    pub invitation: Invitation,
    pub has_account: bool,
}

pub async fn open(state: &AppState, token: &str) -> Result<Option<OpenInvitation>, AppError> {
    let Some(invitation) =
        store::invitations::by_token(state.db.pool(), &TokenHash::of(token)).await?
    else {
        return Ok(None);
    };
    if !invitation.is_pending(state.now_ms()) {
        return Ok(None);
    }
    let has_account = store::users::by_email(state.db.pool(), &invitation.email)
        .await?
        .is_some_and(|u| u.has_password);
    Ok(Some(OpenInvitation {
        invitation,
        has_account,
    }))
}

/// Accept an invitation. A new person sets name and password; someone who already has a password
/// just joins. Returns the user id and the partner joined; `None` when the link is no longer valid.
pub async fn accept(
    state: &AppState,
    token: &str,
    name: Option<&PersonName>,
    password: Option<&NewPassword>,
    ip: &str,
) -> Result<Option<(UserId, PartnerId)>, AppError> {
    let Some(open) = open(state, token).await? else {
        return Ok(None);
    };
    let invitation = open.invitation;
    let hash = match (open.has_account, password) {
        (false, Some(password)) => Some(passwords::hash(password.expose()).await?),
        (false, None) => {
            return Err(AppError::Validation(vec![FieldError::new(
                "password",
                "is required",
            )]));
        }
        (true, _) => None,
    };
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    if !store::invitations::close(
        &mut *tx,
        &invitation.partner_id,
        &invitation.id,
        "accepted",
        now,
    )
    .await?
    {
        return Ok(None);
    }
    let display_name = name.map_or(invitation.name.as_str(), PersonName::as_str);
    let user = store::users::ensure(&mut tx, &invitation.email, display_name, now).await?;
    if let Some(hash) = &hash {
        store::users::set_password(&mut *tx, &user.id, hash).await?;
        store::users::set_name(&mut *tx, &user.id, display_name).await?;
    }
    store::partners::add_member(
        &mut *tx,
        &invitation.partner_id,
        &user.id,
        invitation.role,
        now,
    )
    .await?;
    let actor = Actor::User {
        id: user.id.to_string(),
        ip: ip.to_owned(),
    };
    audit::record(
        &mut *tx,
        state,
        &actor,
        Some(&invitation.partner_id),
        "invitation.accept",
        invitation.id.as_str(),
        invitation.email.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(Some((user.id, invitation.partner_id)))
}
