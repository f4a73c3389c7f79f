//! The live Integrated Onboarding pages at `/dashboard/app/{partner_id}` (and `/permissions`),
//! public, for a partner's clients: sign up or log in, add and verify numbers or pick existing
//! ones, share them, and go back to the partner.
//!
//! Carrying the parameters: every step's URL carries the visit's parameters (`state`,
//! `redirect_url`, `number`, …) as a canonical, fully encoded query string
//! (`OnboardingParams::to_query`), and every form posts to its step's URL with that same query.
//! Nothing about the visit lives on the server, so several tabs or a reload never mix visits up,
//! and nothing in it is trusted: `redirect_url` is checked against the partner's Redirect URL
//! at the very end, `client_id` only picks among the clients the session may act for, and
//! `partner` (the payload) is stored only when the client is created. The first request may
//! carry the values unencoded; `OnboardingParams::parse` copes, and from then on they are ours.
//!
//! The session is the Hub's usual user cookie, so a client who signed up here is logged in to
//! the Client Hub too.

use crate::error::AppError;
use crate::http::extract::{ClientMeta, CurrentUser};
use crate::http::onboarding::{
    Brand, CompanyScreen, DoneScreen, LoginScreen, Mode, NoticePage, NumberRow, NumberValues,
    NumbersScreen, ShareRow, ShareScreen, SignupScreen, SignupValues,
};
use crate::http::routes::Routes;
use crate::http::session;
use crate::http::views::{Chrome, FieldErrors};
use crate::services::accounts::NumberRequest;
use crate::services::auth::LoginError;
use crate::services::onboarding::{
    self as flow, ClientVisit, PublicPartner, SignupInput, SignupOutcome, Visitor,
};
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use domain::onboarding::OnboardingParams;
use domain::{ChannelId, ChannelStatus, PartnerPermission};
use store::channels::ChannelView;

/// Integrated Onboarding, the pages a partner's clients sign up through.
pub fn router() -> Routes {
    Routes::new()
        .get("/dashboard/app/{partner_id}", start)
        .get("/dashboard/app/{partner_id}/permissions", start)
        .post("/dashboard/app/{partner_id}/signup", sign_up)
        .post("/dashboard/app/{partner_id}/login", log_in)
        .post("/dashboard/app/{partner_id}/logout", log_out)
        .post("/dashboard/app/{partner_id}/company", open_company)
        .get("/dashboard/app/{partner_id}/numbers", numbers)
        .post("/dashboard/app/{partner_id}/numbers", add_number)
        .post(
            "/dashboard/app/{partner_id}/numbers/{channel_id}/verify",
            verify,
        )
        .get("/dashboard/app/{partner_id}/share", share_form)
        .post("/dashboard/app/{partner_id}/share", share)
}

/// The visit's parameters, read tolerantly from the raw query string.
#[derive(Clone, Debug)]
pub struct Params(pub OnboardingParams);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Params(OnboardingParams::parse(
            parts.uri.query().unwrap_or(""),
        )))
    }
}

/// The logged-in person, if any (no redirect: these pages are public).
#[derive(Clone, Debug)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        CurrentUser::optional(parts, state)
            .await
            .map(MaybeUser)
            .map_err(IntoResponse::into_response)
    }
}

/// A URL-encoded body read as pairs, so repeated keys (the share checkboxes) all count.
#[derive(Clone, Debug, Default)]
pub struct Pairs(Vec<(String, String)>);

impl Pairs {
    fn from_body(body: &Bytes) -> Self {
        Pairs(
            url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    fn get(&self, key: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }

    fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

fn base(public: &PublicPartner) -> String {
    format!("/dashboard/app/{}", public.partner.id)
}

/// `path` with the visit's parameters.
fn step(public: &PublicPartner, path: &str, params: &OnboardingParams) -> String {
    format!("{}{path}{}", base(public), params.query_suffix())
}

fn brand(public: &PublicPartner) -> Brand {
    Brand {
        partner_id: public.partner.id.to_string(),
        brand_name: public.brand_name.clone(),
        logo_src: public.logo_src.clone(),
    }
}

fn live(action: String) -> Mode {
    Mode::Live { action }
}

/// The partner, or the page that replaces the flow: 404 for an unknown id, a clear stop for a
/// suspended partner.
async fn partner_or_page(state: &AppState, raw_id: &str) -> Result<PublicPartner, Response> {
    let public = match flow::public_partner(state, raw_id).await {
        Ok(p) => p,
        Err(AppError::NotFound) => {
            let page = NoticePage {
                chrome: Chrome::new(state, None),
                heading: "Onboarding page not found".into(),
                message: "This sign-up link does not lead to any partner. Check the link you were given, or ask the company that sent you here for a new one.".into(),
            };
            return Err((StatusCode::NOT_FOUND, page).into_response());
        }
        Err(err) => return Err(err.into_response()),
    };
    if public.is_suspended() {
        let name = public.brand_name.clone();
        let page = done(
            state,
            &public,
            format!("{name} is not connecting new numbers right now"),
            vec![format!(
                "Sign-ups and new connections through {name} are paused. Please contact {name} for help."
            )],
            None,
        );
        return Err((StatusCode::FORBIDDEN, page).into_response());
    }
    Ok(public)
}

fn done(
    state: &AppState,
    public: &PublicPartner,
    heading: String,
    paragraphs: Vec<String>,
    link: Option<(String, String)>,
) -> DoneScreen {
    DoneScreen {
        chrome: Chrome::new(state, None),
        brand: brand(public),
        mode: live(String::new()),
        heading,
        paragraphs,
        link,
    }
}

fn signup_screen(
    state: &AppState,
    public: &PublicPartner,
    params: &OnboardingParams,
    values: SignupValues,
    errors: FieldErrors,
) -> SignupScreen {
    let mut login = params.clone();
    login.next = Some("login".into());
    SignupScreen {
        chrome: Chrome::new(state, None),
        brand: brand(public),
        mode: live(step(public, "/signup", params)),
        login_href: step(public, "", &login),
        values,
        errors,
        notice: None,
        plan: params.plan_selection.clone(),
    }
}

fn login_screen(
    state: &AppState,
    public: &PublicPartner,
    params: &OnboardingParams,
    email: String,
) -> LoginScreen {
    let mut signup = params.clone();
    signup.next = None;
    let notice = params.requested_number().map(|n| {
        format!(
            "{} asks for access to your number {n}. Log in to decide.",
            public.brand_name
        )
    });
    LoginScreen {
        chrome: Chrome::new(state, None),
        brand: brand(public),
        mode: live(step(public, "/login", params)),
        email,
        notice,
        error: None,
        signup_href: params.number.is_none().then(|| step(public, "", &signup)),
    }
}

fn company_screen(
    state: &AppState,
    public: &PublicPartner,
    params: &OnboardingParams,
    email: String,
    company: String,
    errors: FieldErrors,
) -> CompanyScreen {
    CompanyScreen {
        chrome: Chrome::new(state, None),
        brand: brand(public),
        mode: live(step(public, "/company", params)),
        email,
        company,
        errors,
        logout_action: step(public, "/logout", params),
    }
}

fn user_and_session(user: MaybeUser) -> Option<(store::users::User, domain::TokenHash)> {
    user.0.map(|c| (c.user, c.session))
}

/// `GET /dashboard/app/{partner_id}` and `…/permissions`: the first screen for whoever comes.
pub async fn start(
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
    Params(params): Params,
    user: MaybeUser,
) -> Response {
    let public = match partner_or_page(&state, &partner_id).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let visitor = match flow::visitor(
        &state,
        &public,
        user_and_session(user),
        params.client_id.as_deref(),
    )
    .await
    {
        Ok(v) => v,
        Err(err) => return err.into_response(),
    };
    match visitor {
        Visitor::Anonymous if params.wants_login() || params.number.is_some() => login_screen(
            &state,
            &public,
            &params,
            params.email.clone().unwrap_or_default(),
        )
        .into_response(),
        Visitor::Anonymous => {
            let values = SignupValues {
                name: params.name.clone().unwrap_or_default(),
                email: params.email.clone().unwrap_or_default(),
                company: String::new(),
            };
            signup_screen(&state, &public, &params, values, FieldErrors::default()).into_response()
        }
        Visitor::NoClientHere(_) if params.number.is_some() => {
            refusal(&state, &public, flow::NOT_YOUR_NUMBER.into())
        }
        Visitor::NoClientHere(user) => company_screen(
            &state,
            &public,
            &params,
            user.email.to_string(),
            String::new(),
            FieldErrors::default(),
        )
        .into_response(),
        Visitor::Client(visit) => match params.requested_number() {
            Some(number) => permission_request(&state, &visit, &params, &number).await,
            None => {
                let mut next = params.clone();
                next.client_id = Some(visit.client.id.to_string());
                next.next = None;
                Redirect::to(&step(&public, "/numbers", &next)).into_response()
            }
        },
    }
}

/// A neutral stop that offers to log in as someone else.
fn refusal(state: &AppState, public: &PublicPartner, message: String) -> Response {
    let page = done(
        state,
        public,
        "We could not find this number".into(),
        vec![message],
        None,
    );
    (StatusCode::FORBIDDEN, page).into_response()
}

/// `?number=…` for a logged-in client: the share screen for that one number.
async fn permission_request(
    state: &AppState,
    visit: &ClientVisit,
    params: &OnboardingParams,
    number: &str,
) -> Response {
    match flow::requested_number(state, visit, number).await {
        Ok((visit, channel)) => {
            let mut carried = params.clone();
            carried.client_id = Some(visit.client.id.to_string());
            share_page(state, &visit, &carried, &[channel], None, StatusCode::OK)
        }
        Err(AppError::Forbidden(message)) => refusal(state, &visit.public, message),
        Err(err) => err.into_response(),
    }
}

/// `POST …/signup`.
pub async fn sign_up(
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
    Params(params): Params,
    meta: ClientMeta,
    jar: CookieJar,
    body: Bytes,
) -> Response {
    let public = match partner_or_page(&state, &partner_id).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let form = Pairs::from_body(&body);
    let input = SignupInput {
        name: form.get("name"),
        email: form.get("email"),
        password: form.get("password"),
        company: form.get("company"),
    };
    let values = SignupValues {
        name: input.name.trim().to_owned(),
        email: input.email.trim().to_owned(),
        company: input.company.trim().to_owned(),
    };
    match flow::sign_up(&state, &public, &input, params.partner.as_deref(), &meta).await {
        Ok(SignupOutcome::Created { login, client }) => {
            let cookie = session::session_cookie(
                &state.config,
                session::user_cookie(&state.config),
                login.token.expose(),
                state.config.session_ttl_ms,
            );
            let mut next = params.clone();
            next.client_id = Some(client.to_string());
            next.next = None;
            (
                jar.add(cookie),
                Redirect::to(&step(&public, "/numbers", &next)),
            )
                .into_response()
        }
        Ok(SignupOutcome::EmailTaken) => {
            // The same words whether the email is taken or merely unusable: log in, or use
            // another email.
            let mut page = login_screen(&state, &public, &params, values.email);
            page.notice = Some(
                "We could not create an account with this email. If you already have an account, log in below; otherwise sign up with another email.".into(),
            );
            page.into_response()
        }
        Err(AppError::Validation(errors)) => {
            let screen = signup_screen(&state, &public, &params, values, FieldErrors::from(errors));
            (StatusCode::BAD_REQUEST, screen).into_response()
        }
        Err(err) => err.into_response(),
    }
}

/// `POST …/login`: the same credential check and throttles as `/login`.
pub async fn log_in(
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
    Params(params): Params,
    meta: ClientMeta,
    jar: CookieJar,
    body: Bytes,
) -> Response {
    let public = match partner_or_page(&state, &partner_id).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let form = Pairs::from_body(&body);
    let email = form.get("email");
    let password = form.get("password");
    let mut page = login_screen(&state, &public, &params, email.trim().to_owned());
    if email.trim().is_empty() || password.is_empty() {
        page.error = Some("Enter your email and password.".into());
        return (StatusCode::BAD_REQUEST, page).into_response();
    }
    match flow::log_in(&state, &email, &password, &meta).await {
        Ok(login) => {
            let cookie = session::session_cookie(
                &state.config,
                session::user_cookie(&state.config),
                login.token.expose(),
                state.config.session_ttl_ms,
            );
            let mut next = params.clone();
            next.next = None;
            (jar.add(cookie), Redirect::to(&step(&public, "", &next))).into_response()
        }
        Err(LoginError::Invalid) => {
            page.error = Some("The email or password is not correct.".into());
            (StatusCode::UNAUTHORIZED, page).into_response()
        }
        Err(LoginError::Throttled(secs)) => {
            page.error = Some(format!("Too many failed attempts. Try again in {secs} s."));
            let mut response = (StatusCode::TOO_MANY_REQUESTS, page).into_response();
            crate::http::error::set_retry_after(&mut response, secs);
            response
        }
        Err(LoginError::Failed(err)) => err.into_response(),
    }
}

/// `POST …/company`: a logged-in person without a client here opens one.
pub async fn open_company(
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
    Params(params): Params,
    user: MaybeUser,
    meta: ClientMeta,
    body: Bytes,
) -> Response {
    let public = match partner_or_page(&state, &partner_id).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    let Some(current) = user.0 else {
        return Redirect::to(&step(&public, "", &params)).into_response();
    };
    let company = Pairs::from_body(&body).get("company");
    match flow::add_client_for_user(
        &state,
        &public,
        &current.user,
        &company,
        params.partner.as_deref(),
        &meta,
    )
    .await
    {
        Ok(client) => {
            let mut next = params.clone();
            next.client_id = Some(client.to_string());
            Redirect::to(&step(&public, "/numbers", &next)).into_response()
        }
        Err(AppError::Validation(errors)) => (
            StatusCode::BAD_REQUEST,
            company_screen(
                &state,
                &public,
                &params,
                current.user.email.to_string(),
                company.trim().to_owned(),
                FieldErrors::from(errors),
            ),
        )
            .into_response(),
        Err(err) => err.into_response(),
    }
}

/// `POST …/logout`: log in as someone else.
pub async fn log_out(
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
    Params(params): Params,
    user: MaybeUser,
    jar: CookieJar,
) -> Response {
    let public = match partner_or_page(&state, &partner_id).await {
        Ok(p) => p,
        Err(page) => return page,
    };
    if let Some(current) = user.0
        && let Err(err) = crate::services::auth::logout(&state, &current.session).await
    {
        return err.into_response();
    }
    let jar = jar.add(session::removal(
        &state.config,
        session::user_cookie(&state.config),
    ));
    let mut next = params;
    next.client_id = None;
    next.next = Some("login".into());
    (jar, Redirect::to(&step(&public, "", &next))).into_response()
}

/// The client visit behind a step, or the way back to the first screen.
async fn client_visit(
    state: &AppState,
    partner_id: &str,
    params: &OnboardingParams,
    user: MaybeUser,
) -> Result<ClientVisit, Response> {
    let public = partner_or_page(state, partner_id).await?;
    let visitor = flow::visitor(
        state,
        &public,
        user_and_session(user),
        params.client_id.as_deref(),
    )
    .await
    .map_err(IntoResponse::into_response)?;
    match visitor {
        Visitor::Client(visit) => Ok(*visit),
        _ => Err(Redirect::to(&step(&public, "", params)).into_response()),
    }
}

/// The carried parameters with the visit's client made explicit.
fn carried(visit: &ClientVisit, params: &OnboardingParams) -> OnboardingParams {
    let mut next = params.clone();
    next.client_id = Some(visit.client.id.to_string());
    next.next = None;
    next
}

fn status_pill(status: ChannelStatus) -> &'static str {
    match status {
        ChannelStatus::Running | ChannelStatus::Ready | ChannelStatus::Verified => "ok",
        ChannelStatus::Error | ChannelStatus::Cancelled => "bad",
        _ => "wait",
    }
}

struct NumbersView {
    message: Option<String>,
    add_values: NumberValues,
    add_errors: FieldErrors,
    /// An error shown on one number's code form.
    channel_error: Option<(ChannelId, String)>,
}

impl NumbersView {
    fn empty() -> Self {
        NumbersView {
            message: None,
            add_values: NumberValues::default(),
            add_errors: FieldErrors::default(),
            channel_error: None,
        }
    }
}

async fn numbers_page(
    state: &AppState,
    visit: &ClientVisit,
    params: &OnboardingParams,
    flash: Option<String>,
    view: NumbersView,
    status: StatusCode,
) -> Response {
    let numbers = match flow::numbers(state, visit).await {
        Ok(n) => n,
        Err(err) => return err.into_response(),
    };
    let public = &visit.public;
    let carried = carried(visit, params);
    let rows = numbers
        .iter()
        .map(|n| NumberRow {
            id: n.id.to_string(),
            phone: n.phone_number.clone(),
            name: n.phone_name.clone(),
            status: n.status.label(),
            pill: status_pill(n.status),
            waiting: n.status == ChannelStatus::Created,
            verify: n.status == ChannelStatus::PendingVerification,
            verify_action: step(public, &format!("/numbers/{}/verify", n.id), &carried),
            error: view
                .channel_error
                .as_ref()
                .filter(|(id, _)| id == &n.id)
                .map(|(_, e)| e.clone()),
        })
        .collect();
    let screen = NumbersScreen {
        chrome: Chrome::new(state, flash),
        brand: brand(public),
        mode: live(step(public, "/numbers", &carried)),
        client_name: visit.client.name.clone(),
        email: visit.user.email.to_string(),
        numbers: rows,
        may_add: visit.may_add_numbers(),
        refused: flow::add_refused_message(public),
        message: view.message,
        add_values: view.add_values,
        add_errors: view.add_errors,
        continue_href: step(public, "/share", &carried),
        sandbox_hint: state.config.dev && state.whatsapp.shows_codes(),
    };
    (status, screen).into_response()
}

/// `GET …/numbers`.
pub async fn numbers(
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
    Params(params): Params,
    user: MaybeUser,
    jar: CookieJar,
) -> Response {
    let visit = match client_visit(&state, &partner_id, &params, user).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let (jar, flash) = session::take_flash(jar, &state.config);
    let page = numbers_page(
        &state,
        &visit,
        &params,
        flash,
        NumbersView::empty(),
        StatusCode::OK,
    )
    .await;
    (jar, page).into_response()
}

/// `POST …/numbers`: add a number.
pub async fn add_number(
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
    Params(params): Params,
    user: MaybeUser,
    meta: ClientMeta,
    jar: CookieJar,
    body: Bytes,
) -> Response {
    let visit = match client_visit(&state, &partner_id, &params, user).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let form = Pairs::from_body(&body);
    let values = NumberValues {
        phone: form.get("phone_number").trim().to_owned(),
        name: form.get("phone_name").trim().to_owned(),
        method: form.get("verification_method"),
    };
    let mut view = NumbersView::empty();
    let request =
        match NumberRequest::parse(&values.phone, &values.name, Some(&values.method), None) {
            Ok(r) => r,
            Err(errors) => {
                view.add_values = values;
                view.add_errors = FieldErrors::from(errors);
                return numbers_page(&state, &visit, &params, None, view, StatusCode::BAD_REQUEST)
                    .await;
            }
        };
    let status = match flow::add_number(&state, &visit, &request, &meta).await {
        Ok(channel) => {
            let jar = session::set_flash(
                jar,
                &state.config,
                &format!(
                    "{} added. WhatsApp sends the verification code ({}).",
                    channel.phone_number,
                    request.method.label()
                ),
            );
            let target = step(&visit.public, "/numbers", &carried(&visit, &params));
            return (jar, Redirect::to(&target)).into_response();
        }
        Err(AppError::Forbidden(message)) => {
            view.message = Some(message);
            StatusCode::FORBIDDEN
        }
        Err(AppError::Conflict(_)) => {
            view.add_errors = FieldErrors::from(vec![domain::FieldError::new(
                "phone_number",
                "is already registered on WhatsApp through this platform",
            )]);
            StatusCode::CONFLICT
        }
        Err(AppError::Unprocessable(message)) => {
            view.message = Some(message);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        Err(AppError::Validation(errors)) => {
            view.add_errors = FieldErrors::from(errors);
            StatusCode::BAD_REQUEST
        }
        Err(err) => return err.into_response(),
    };
    view.add_values = values;
    numbers_page(&state, &visit, &params, None, view, status).await
}

/// `POST …/numbers/{channel_id}/verify`.
pub async fn verify(
    State(state): State<AppState>,
    Path((partner_id, channel_id)): Path<(String, String)>,
    Params(params): Params,
    user: MaybeUser,
    meta: ClientMeta,
    jar: CookieJar,
    body: Bytes,
) -> Response {
    let visit = match client_visit(&state, &partner_id, &params, user).await {
        Ok(v) => v,
        Err(page) => return page,
    };
    let Ok(channel) = ChannelId::parse(&channel_id) else {
        return AppError::NotFound.into_response();
    };
    let code = Pairs::from_body(&body).get("code");
    let (status, message) = match flow::verify_number(&state, &visit, &channel, &code, &meta).await
    {
        Ok(verified) => {
            let jar = session::set_flash(
                jar,
                &state.config,
                &format!("{} is verified.", verified.phone_number),
            );
            let target = step(&visit.public, "/numbers", &carried(&visit, &params));
            return (jar, Redirect::to(&target)).into_response();
        }
        Err(AppError::Validation(errors)) => (
            StatusCode::BAD_REQUEST,
            errors
                .first()
                .map(|e| format!("The code {}.", e.message))
                .unwrap_or_default(),
        ),
        Err(err @ AppError::RateLimited { .. }) => {
            (StatusCode::TOO_MANY_REQUESTS, err.public_message())
        }
        Err(AppError::Unprocessable(message)) => (StatusCode::UNPROCESSABLE_ENTITY, message),
        Err(err) => return err.into_response(),
    };
    let mut view = NumbersView::empty();
    view.channel_error = Some((channel, message));
    numbers_page(&state, &visit, &params, None, view, status).await
}

/// The client visit behind a share step and the numbers it is about: the requested one
/// (`?number=`), or all of the client's.
async fn offered(
    state: &AppState,
    partner_id: &str,
    params: &OnboardingParams,
    user: MaybeUser,
) -> Result<(ClientVisit, Vec<ChannelView>), Response> {
    let visit = client_visit(state, partner_id, params, user).await?;
    if let Some(number) = params.requested_number() {
        return match flow::requested_number(state, &visit, &number).await {
            Ok((visit, channel)) => Ok((visit, vec![channel])),
            Err(AppError::Forbidden(message)) => Err(refusal(state, &visit.public, message)),
            Err(err) => Err(err.into_response()),
        };
    }
    match flow::numbers(state, &visit).await {
        Ok(numbers) => Ok((visit, numbers)),
        Err(err) => Err(err.into_response()),
    }
}

/// The share screen, with a content security policy that lets its form end on the partner's
/// origin (browsers check `form-action` on the redirect that follows the POST).
fn share_page(
    state: &AppState,
    visit: &ClientVisit,
    params: &OnboardingParams,
    numbers: &[ChannelView],
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let public = &visit.public;
    let partner_payment = public.is_partner_payment();
    let rows = numbers
        .iter()
        .map(|n| ShareRow {
            id: n.id.to_string(),
            phone: n.phone_number.clone(),
            name: n.phone_name.clone(),
            status: n.status.label(),
            checked: partner_payment || n.partner_permission == PartnerPermission::Shared.as_str(),
        })
        .collect();
    let screen = ShareScreen {
        chrome: Chrome::new(state, None),
        brand: brand(public),
        mode: live(step(public, "/share", &carried(visit, params))),
        numbers: rows,
        partner_payment,
        error,
    };
    let mut response = (status, screen).into_response();
    let target = flow::redirect_target(state, public, params.redirect_url.as_deref())
        .map(|url| format!(" {}", url.origin().ascii_serialization()))
        .unwrap_or_default();
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'{target}; \
         frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, value);
    }
    response
}

/// `GET …/share`.
pub async fn share_form(
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
    Params(params): Params,
    user: MaybeUser,
    jar: CookieJar,
) -> Response {
    let (visit, numbers) = match offered(&state, &partner_id, &params, user).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    if numbers.is_empty() {
        let jar = session::set_flash(jar, &state.config, "Add a number first.");
        let target = step(&visit.public, "/numbers", &carried(&visit, &params));
        return (jar, Redirect::to(&target)).into_response();
    }
    share_page(&state, &visit, &params, &numbers, None, StatusCode::OK)
}

/// `POST …/share`: update the permissions at once, then back to the partner.
pub async fn share(
    State(state): State<AppState>,
    Path(partner_id): Path<String>,
    Params(params): Params,
    user: MaybeUser,
    meta: ClientMeta,
    body: Bytes,
) -> Response {
    let (visit, numbers) = match offered(&state, &partner_id, &params, user).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let chosen = Pairs::from_body(&body).all("channels");
    let outcome = match flow::share(&state, &visit, &numbers, &chosen, &meta).await {
        Ok(outcome) => outcome,
        Err(AppError::Validation(errors)) => {
            let message = errors
                .first()
                .map(|e| format!("Please {}.", e.message))
                .unwrap_or_default();
            return share_page(
                &state,
                &visit,
                &params,
                &numbers,
                Some(message),
                StatusCode::BAD_REQUEST,
            );
        }
        Err(err) => return err.into_response(),
    };
    let public = &visit.public;
    match flow::redirect_target(&state, public, params.redirect_url.as_deref()) {
        Some(base) => Redirect::to(&flow::finish_url(
            &base,
            &visit.client.id,
            &outcome,
            params.state.as_deref(),
        ))
        .into_response(),
        None => {
            let name = &public.brand_name;
            let shared = if outcome.channels.is_empty() {
                format!("You shared no numbers with {name}.")
            } else {
                format!(
                    "You shared {} number{} with {name}.",
                    outcome.channels.len(),
                    if outcome.channels.len() == 1 { "" } else { "s" }
                )
            };
            done(
                &state,
                public,
                "You're all set".into(),
                vec![
                    shared,
                    format!(
                        "{name} has not told us where to send you next, so you can close this window now. If {name} asked you to come back to its site, go there or ask {name} how to continue."
                    ),
                    format!("Your client ID: {}", visit.client.id),
                ],
                None,
            )
            .into_response()
        }
    }
}
