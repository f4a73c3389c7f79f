//! Logging in and out, for partner users and staff, and resetting forgotten passwords. Failures
//! never say whether an email exists: unknown account and wrong password read the same, take the
//! same time, and count against the same throttles.

use crate::error::AppError;
use crate::passwords;
use crate::services::audit::ClientMeta;
use crate::services::{audit, mail};
use crate::state::AppState;
use domain::{Email, NewPassword, SecretToken, TokenHash, UserId};
use store::sessions::{NewSession, SessionKind};

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("too many attempts; retry in {0} s")]
    Throttled(u64),
    #[error("invalid email or password")]
    Invalid,
    #[error(transparent)]
    Failed(#[from] AppError),
}

impl From<store::StoreError> for LoginError {
    fn from(err: store::StoreError) -> Self {
        LoginError::Failed(err.into())
    }
}

/// A session just opened: the token goes into the cookie and nowhere else.
#[derive(Debug)]
pub struct Login {
    pub token: SecretToken,
    pub subject_id: String,
}

/// What the login throttles count one attempt against. Every attempt is counted as a failure
/// the moment it passes the throttles (under their locks) and taken back if the password was
/// right: a burst of parallel attempts gets no more tries than the same attempts one by one.
struct Attempt {
    kind: SessionKind,
    account: String,
    account_and_ip: String,
    ip: String,
    address: String,
    /// When it was counted.
    at: i64,
}

impl Attempt {
    fn new(state: &AppState, kind: SessionKind, email: &str, meta: &ClientMeta) -> Self {
        let account = format!("{}:{}", kind.as_str(), email.trim().to_lowercase());
        let network = domain::client_address::network_key(&meta.ip);
        Self {
            kind,
            account_and_ip: format!("{account} {network}"),
            account,
            ip: format!("{}:{network}", kind.as_str()),
            address: meta.ip.clone(),
            at: state.now_ms(),
        }
    }

    /// Limits that only this address can run into: its failures on this account (a lock), and
    /// its failures on all accounts together. Counts the attempt when both allow it.
    fn reserve_address(&self, state: &AppState) -> Result<(), LoginError> {
        let t = &state.login_throttle;
        let (Ok(mut pair), Ok(mut ip)) = (t.per_account_and_ip.lock(), t.per_ip.lock()) else {
            return Err(LoginError::Failed(AppError::Internal(anyhow::anyhow!(
                "login throttle poisoned"
            ))));
        };
        let waits = [
            pair.check(&self.account_and_ip, self.at).err(),
            ip.check(&self.ip, self.at).err(),
        ];
        if let Some(seconds) = waits.iter().flatten().map(|w| w.seconds).max() {
            return Err(LoginError::Throttled(seconds));
        }
        pair.record_failure(&self.account_and_ip, self.at);
        ip.record_failure(&self.ip, self.at);
        Ok(())
    }

    /// The account's failures from every address slow it down, and never for an address its
    /// person has signed in from before: otherwise anyone could keep the owner out. Counts the
    /// attempt when it may go on.
    async fn reserve_account(
        &self,
        state: &AppState,
        subject: Option<&str>,
    ) -> Result<(), LoginError> {
        let slowed = {
            let Ok(mut g) = state.login_throttle.per_account.lock() else {
                return Err(LoginError::Failed(AppError::Internal(anyhow::anyhow!(
                    "login throttle poisoned"
                ))));
            };
            match g.check(&self.account, self.at) {
                Ok(()) => {
                    g.record_failure(&self.account, self.at);
                    None
                }
                Err(wait) => Some(wait),
            }
        };
        let Some(wait) = slowed else {
            return Ok(());
        };
        if let Some(subject) = subject
            && store::sessions::is_known_address(state.db.pool(), self.kind, subject, &self.address)
                .await?
        {
            if let Ok(mut g) = state.login_throttle.per_account.lock() {
                g.record_failure(&self.account, self.at);
            }
            return Ok(());
        }
        self.release_address(state);
        Err(LoginError::Throttled(wait.seconds))
    }

    /// Take back what `reserve_address` counted (the attempt never got to the password).
    fn release_address(&self, state: &AppState) {
        let t = &state.login_throttle;
        if let Ok(mut g) = t.per_account_and_ip.lock() {
            g.forget(&self.account_and_ip, self.at);
        }
        if let Ok(mut g) = t.per_ip.lock() {
            g.forget(&self.ip, self.at);
        }
    }

    /// The password was right: the attempt is no failure, and this address's earlier failures
    /// on the account are forgotten. Strangers' failures elsewhere keep slowing the account
    /// down until they age out: one sign-in must not reopen it to them.
    fn record_success(&self, state: &AppState) {
        self.address_success(state);
        if let Ok(mut g) = state.login_throttle.per_account.lock() {
            g.forget(&self.account, self.at);
        }
    }

    /// `record_success` for an attempt that `reserve_address` alone counted (a signed-in
    /// person confirming their password), so nothing is taken back from the account's count.
    fn address_success(&self, state: &AppState) {
        let t = &state.login_throttle;
        if let Ok(mut g) = t.per_account_and_ip.lock() {
            g.clear(&self.account_and_ip);
        }
        if let Ok(mut g) = t.per_ip.lock() {
            g.forget(&self.ip, self.at);
        }
    }
}

async fn open_session(
    state: &AppState,
    kind: SessionKind,
    subject_id: &str,
    meta: &ClientMeta,
) -> Result<Login, store::StoreError> {
    let token = SecretToken::generate();
    let ttl = match kind {
        SessionKind::User => state.config.session_ttl_ms,
        SessionKind::Staff => state.config.staff_session_ttl_ms,
    };
    let now = state.now_ms();
    {
        let mut tx = state.db.begin_write().await?;
        store::sessions::create(
            &mut *tx,
            &NewSession {
                token_hash: &token.hash(),
                kind,
                subject_id,
                expires_ms: now + ttl,
                ip: &meta.ip,
                user_agent: &meta.user_agent,
            },
            now,
        )
        .await?;
        store::sessions::remember_address(&mut *tx, kind, subject_id, &meta.ip, now).await?;
        tx.commit().await?;
    }
    Ok(Login {
        token,
        subject_id: subject_id.to_owned(),
    })
}

/// Open a session for a user who just proved who they are another way (accepted an invitation).
pub async fn open_user_session(
    state: &AppState,
    user: &UserId,
    meta: &ClientMeta,
) -> Result<Login, AppError> {
    Ok(open_session(state, SessionKind::User, user.as_str(), meta).await?)
}

/// Check a partner user's email and password, counting failures against the throttles.
pub async fn check_user(
    state: &AppState,
    email: &str,
    password: &str,
    meta: &ClientMeta,
) -> Result<store::users::User, LoginError> {
    let attempt = Attempt::new(state, SessionKind::User, email, meta);
    attempt.reserve_address(state)?;
    let credentials = match Email::parse(email) {
        Ok(email) => store::users::credentials_by_email(state.db.pool(), &email).await?,
        Err(_) => None,
    };
    attempt
        .reserve_account(state, credentials.as_ref().map(|c| c.user.id.as_str()))
        .await?;
    let stored = credentials
        .as_ref()
        .and_then(|c| c.password_hash.as_deref());
    let ok = passwords::verify(password, stored).await;
    let Some(credentials) = credentials.filter(|_| ok) else {
        return Err(LoginError::Invalid);
    };
    attempt.record_success(state);
    Ok(credentials.user)
}

/// Check a partner user's email and password and open a session.
pub async fn login_user(
    state: &AppState,
    email: &str,
    password: &str,
    meta: &ClientMeta,
) -> Result<Login, LoginError> {
    let user = check_user(state, email, password, meta).await?;
    let login = open_session(state, SessionKind::User, user.id.as_str(), meta).await?;
    {
        let mut tx = state.db.begin_write().await?;
        store::users::record_login(&mut *tx, &user.id, state.now_ms()).await?;
        tx.commit().await?;
    }
    let actor = audit::Actor::User {
        id: user.id.to_string(),
        ip: meta.ip.clone(),
    };
    audit::record(
        state.db.pool(),
        state,
        &actor,
        None,
        "user.login",
        user.id.as_str(),
        "",
    )
    .await?;
    Ok(login)
}

/// Check a staff member's email and password and open a staff session.
pub async fn login_staff(
    state: &AppState,
    email: &str,
    password: &str,
    meta: &ClientMeta,
) -> Result<Login, LoginError> {
    let attempt = Attempt::new(state, SessionKind::Staff, email, meta);
    attempt.reserve_address(state)?;
    let found = match Email::parse(email) {
        Ok(email) => store::staff::credentials_by_email(state.db.pool(), &email).await?,
        Err(_) => None,
    };
    attempt
        .reserve_account(state, found.as_ref().map(|(staff, _)| staff.id.as_str()))
        .await?;
    let ok = passwords::verify(password, found.as_ref().map(|(_, hash)| hash.as_str())).await;
    let Some((staff, _)) = found.filter(|_| ok) else {
        return Err(LoginError::Invalid);
    };
    attempt.record_success(state);
    let login = open_session(state, SessionKind::Staff, staff.id.as_str(), meta).await?;
    {
        let mut tx = state.db.begin_write().await?;
        store::staff::record_login(&mut *tx, &staff.id, state.now_ms()).await?;
        tx.commit().await?;
    }
    let actor = audit::Actor::Staff {
        id: staff.id.to_string(),
        ip: meta.ip.clone(),
    };
    audit::record(
        state.db.pool(),
        state,
        &actor,
        None,
        "staff.login",
        staff.id.as_str(),
        "",
    )
    .await?;
    Ok(login)
}

pub async fn logout(state: &AppState, session: &TokenHash) -> Result<(), AppError> {
    {
        let mut tx = state.db.begin_write().await?;
        store::sessions::delete(&mut *tx, session).await?;
        tx.commit().await?;
    }
    Ok(())
}

const RESET_TTL_MS: i64 = 60 * 60 * 1000;

/// Send a reset link if the email belongs to a user. Says nothing either way: the caller shows
/// the same neutral message whatever happened.
pub async fn request_password_reset(state: &AppState, email: &str) -> Result<(), AppError> {
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    let Some(user) = store::users::by_email(state.db.pool(), &email).await? else {
        return Ok(());
    };
    let token = SecretToken::generate();
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    store::password_resets::create(
        &mut *tx,
        SessionKind::User,
        user.id.as_str(),
        &token.hash(),
        now,
        now + RESET_TTL_MS,
    )
    .await?;
    let link = state
        .config
        .link(&format!("/reset-password/{}", token.expose()));
    let body = format!(
        "Hello {name},\n\nsomeone (hopefully you) asked to reset the password of your Partner Hub \
         account {email}.\n\nChoose a new password here (the link works once, for one hour):\n{link}\n\n\
         If you did not ask for this, ignore this message: your password stays as it is.\n",
        name = user.name,
    );
    mail::queue(
        &mut tx,
        state,
        email.as_str(),
        "Reset your Partner Hub password",
        &body,
    )
    .await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    Ok(())
}

/// Is the reset link still usable? (Only to decide which page to show.)
pub async fn reset_link_is_live(state: &AppState, token: &str) -> Result<bool, AppError> {
    Ok(store::password_resets::is_live(
        state.db.pool(),
        SessionKind::User,
        &TokenHash::of(token),
        state.now_ms(),
    )
    .await?)
}

/// Set a new password through a reset link. Every open session of the user ends.
pub async fn reset_password(
    state: &AppState,
    token: &str,
    password: &NewPassword,
    meta: &ClientMeta,
) -> Result<bool, AppError> {
    let hash = passwords::hash(password.expose()).await?;
    let mut tx = state.db.begin_write().await?;
    let Some(subject) = store::password_resets::redeem(
        &mut *tx,
        SessionKind::User,
        &TokenHash::of(token),
        state.now_ms(),
    )
    .await?
    else {
        return Ok(false);
    };
    let user_id = UserId::parse(&subject)
        .map_err(|_| AppError::Internal(anyhow::anyhow!("reset token for a malformed user id")))?;
    store::users::set_password(&mut *tx, &user_id, &hash).await?;
    store::sessions::delete_all_of(&mut *tx, SessionKind::User, user_id.as_str()).await?;
    let actor = audit::Actor::User {
        id: user_id.to_string(),
        ip: meta.ip.clone(),
    };
    audit::record(
        &mut *tx,
        state,
        &actor,
        None,
        "user.password_reset",
        user_id.as_str(),
        "",
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// A signed-in person changes their password: the current one is asked (and counts against
/// the sign-in throttles, so this form is no way around them), the new one follows the sign-up
/// rules, every other session of theirs ends, and a mail tells them it happened.
pub async fn change_password(
    state: &AppState,
    user: &store::users::User,
    session: &TokenHash,
    current: &str,
    new: &NewPassword,
    meta: &ClientMeta,
) -> Result<u64, LoginError> {
    let attempt = Attempt::new(state, SessionKind::User, user.email.as_str(), meta);
    attempt.reserve_address(state)?;
    let stored = store::users::credentials_by_email(state.db.pool(), &user.email)
        .await?
        .and_then(|c| c.password_hash);
    if !passwords::verify(current, stored.as_deref()).await {
        return Err(LoginError::Invalid);
    }
    attempt.address_success(state);
    let hash = passwords::hash(new.expose())
        .await
        .map_err(|e| LoginError::Failed(e.into()))?;
    let now = state.now_ms();
    let mut tx = state.db.begin_write().await?;
    store::users::set_password(&mut *tx, &user.id, &hash).await?;
    let ended =
        store::sessions::delete_others_of(&mut *tx, SessionKind::User, user.id.as_str(), session)
            .await?;
    let actor = audit::Actor::User {
        id: user.id.to_string(),
        ip: meta.ip.clone(),
    };
    audit::record(
        &mut *tx,
        state,
        &actor,
        None,
        "user.password_change",
        user.id.as_str(),
        &format!("{ended} other sessions ended"),
    )
    .await?;
    let when = time::OffsetDateTime::from_unix_timestamp(now / 1000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc2822)
                .ok()
        })
        .unwrap_or_default();
    let reset = state.config.link("/forgot-password");
    let body = format!(
        "Hello {name},\n\nthe password of your Partner Hub account {email} was changed on {when} \
         from the address {ip}. Every other session of yours was signed out.\n\n\
         If this was not you, reset your password now at {reset} and tell your Owner.\n",
        name = user.name,
        email = user.email,
        ip = meta.ip,
    );
    mail::queue(
        &mut tx,
        state,
        user.email.as_str(),
        "Your Partner Hub password was changed",
        &body,
    )
    .await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_one();
    Ok(ended)
}

/// Create or update a staff account from the command line.
pub async fn upsert_staff(
    state: &AppState,
    email: &Email,
    name: &str,
    password: &NewPassword,
) -> Result<(), AppError> {
    let hash = passwords::hash(password.expose()).await?;
    {
        let mut tx = state.db.begin_write().await?;
        store::staff::upsert(&mut *tx, email, name, &hash, state.now_ms()).await?;
        tx.commit().await?;
    }
    let Some((staff, _)) = store::staff::credentials_by_email(state.db.pool(), email).await? else {
        return Err(AppError::Internal(anyhow::anyhow!(
            "staff account vanished after upsert"
        )));
    };
    audit::record(
        state.db.pool(),
        state,
        &audit::Actor::System,
        None,
        "staff.upsert",
        staff.id.as_str(),
        email.as_str(),
    )
    .await?;
    Ok(())
}
