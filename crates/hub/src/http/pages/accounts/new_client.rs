//! The form that creates a client.

use super::*;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct ClientForm {
    name: String,
    organisation: String,
    email: String,
    country: String,
    partner_payload: String,
    max_channels: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/client_form.html")]
pub(super) struct ClientFormPage {
    chrome: Chrome,
    shell: Shell,
    accounts_href: String,
    form: ClientForm,
    errors: FieldErrors,
    alert: Option<String>,
    default_max: i64,
}

pub(super) fn client_form_page(
    state: &AppState,
    ctx: &PartnerCtx,
    form: ClientForm,
    errors: FieldErrors,
    alert: Option<String>,
) -> ClientFormPage {
    ClientFormPage {
        chrome: Chrome::new(state, None),
        shell: Shell::new(ctx, "accounts"),
        accounts_href: accounts_path(&ctx.partner),
        form,
        errors,
        alert,
        default_max: accounts::DEFAULT_MAX_CHANNELS,
    }
}

pub async fn new_client(ctx: PartnerCtx, State(state): State<AppState>) -> Response {
    client_form_page(
        &state,
        &ctx,
        ClientForm::default(),
        FieldErrors::default(),
        None,
    )
    .into_response()
}

pub(super) fn non_empty(value: &str) -> Option<String> {
    Some(value.trim().to_owned()).filter(|v| !v.is_empty())
}

pub(super) fn parse_client_form(form: &ClientForm) -> Result<ClientRequest, Vec<FieldError>> {
    // A malformed count is reported together with every other problem of the form.
    let (max_channels, max_error) = match form.max_channels.trim() {
        "" => (None, None),
        raw => match raw.parse::<i64>() {
            Ok(n) => (Some(n), None),
            Err(_) => (
                None,
                Some(FieldError::new(
                    "max_channels",
                    "must be a whole number between 1 and 10000",
                )),
            ),
        },
    };
    let parsed = ClientRequest::parse(
        &form.name,
        non_empty(&form.organisation),
        max_channels,
        non_empty(&form.partner_payload),
        ContactInfo {
            email: non_empty(&form.email),
            country: non_empty(&form.country),
            ..ContactInfo::default()
        },
        ContactUser::default(),
        MetaInfo::default(),
    );
    match (parsed, max_error) {
        (Ok(request), None) => Ok(request),
        (Ok(_), Some(error)) => Err(vec![error]),
        (Err(mut errors), Some(error)) => {
            errors.push(error);
            Err(errors)
        }
        (Err(errors), None) => Err(errors),
    }
}

pub async fn create_client(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<ClientForm>,
) -> Result<Response, AppError> {
    let created = match parse_client_form(&form) {
        Ok(request) => accounts::create_client(&state, &ctx.partner, &request, &ctx.actor()).await,
        Err(errors) => Err(AppError::Validation(errors)),
    };
    match created {
        Ok(client) => Ok(redirect_with_flash(
            &state,
            jar,
            &format!(
                "{}/numbers/new?client={}",
                accounts_path(&ctx.partner),
                client.id
            ),
            &format!("Client {} created. Now add its first number.", client.name),
        )),
        Err(AppError::Validation(errors)) => {
            let page = client_form_page(&state, &ctx, form, FieldErrors::from(errors), None);
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(err) => {
            let (status, message) = inline_message(err, "The client")?;
            let page = client_form_page(&state, &ctx, form, FieldErrors::default(), Some(message));
            Ok((status, page).into_response())
        }
    }
}
