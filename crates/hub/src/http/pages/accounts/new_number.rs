//! The form that adds a number to a client.

use super::*;

#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct NumberForm {
    client: String,
    phone_number: String,
    phone_name: String,
    verification_method: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "partner/number_form.html")]
pub(super) struct NumberFormPage {
    chrome: Chrome,
    shell: Shell,
    accounts_href: String,
    clients: Vec<Choice>,
    form: NumberForm,
    voice: bool,
    errors: FieldErrors,
    alert: Option<String>,
}

pub(super) async fn number_form_page(
    state: &AppState,
    ctx: &PartnerCtx,
    flash: Option<String>,
    form: NumberForm,
    errors: FieldErrors,
    alert: Option<String>,
) -> Result<NumberFormPage, AppError> {
    let selected = ClientId::parse(form.client.trim()).ok();
    Ok(NumberFormPage {
        chrome: Chrome::new(state, flash),
        shell: Shell::new(ctx, "accounts"),
        accounts_href: accounts_path(&ctx.partner),
        clients: client_choices(state, &ctx.partner, selected.as_ref()).await?,
        voice: form.verification_method == VerificationMethod::Voice.as_str(),
        form,
        errors,
        alert,
    })
}

pub async fn new_number(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    RawQuery(raw): RawQuery,
    jar: CookieJar,
) -> Result<Response, AppError> {
    let (jar, flash) = session::take_flash(jar, &state.config);
    let client = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "client")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    let form = NumberForm {
        client,
        ..NumberForm::default()
    };
    let page = number_form_page(&state, &ctx, flash, form, FieldErrors::default(), None).await?;
    Ok((jar, page).into_response())
}

pub async fn add_number(
    ctx: PartnerCtx,
    State(state): State<AppState>,
    jar: CookieJar,
    Form(form): Form<NumberForm>,
) -> Result<Response, AppError> {
    let parsed = NumberRequest::parse(
        &form.phone_number,
        &form.phone_name,
        Some(&form.verification_method),
        None,
    );
    let client = ClientId::parse(form.client.trim());
    let added = match (parsed, client) {
        (Ok(request), Ok(client)) => {
            accounts::add_number(&state, &ctx.partner, &client, &request, &ctx.actor()).await
        }
        (parsed, client) => {
            let mut errors = parsed.err().unwrap_or_default();
            if client.is_err() {
                errors.insert(0, FieldError::new("client", "is required: choose a client"));
            }
            Err(AppError::Validation(errors))
        }
    };
    let (status, errors, alert) = match added {
        Ok(channel) => {
            return Ok(redirect_with_flash(
                &state,
                jar,
                &number_path(&ctx.partner, &channel.id),
                &format!(
                    "Number added. The verification code is on its way to {} by {}; enter it here when it arrives.",
                    display_number(&channel.phone_number),
                    VerificationMethod::parse(&channel.verification_method)
                        .map_or("SMS", |m| m.label())
                ),
            ));
        }
        Err(AppError::Validation(errors)) => (StatusCode::BAD_REQUEST, errors, None),
        // A client id from another partner (or a deleted client) names nothing here.
        Err(AppError::NotFound) => (
            StatusCode::NOT_FOUND,
            vec![FieldError::new("client", "is not one of your clients")],
            None,
        ),
        Err(AppError::Conflict(_)) => (
            StatusCode::CONFLICT,
            vec![FieldError::new(
                "phone_number",
                "is already registered on the platform; each number can be live only once",
            )],
            None,
        ),
        Err(err) => {
            let (status, message) = inline_message(err, "The number")?;
            (status, Vec::new(), Some(message))
        }
    };
    let page = number_form_page(&state, &ctx, None, form, FieldErrors::from(errors), alert).await?;
    Ok((status, page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn views_round_trip_through_the_url() {
        let view = View::parse(Some(
            "q=acme+gmbh&status=running&client=AbCdEfCL&hosting=cloud_api&permission=shared&sort=name&page=3",
        ));
        assert!(!view.ignored);
        assert_eq!(view.q, "acme gmbh");
        assert_eq!(view.status, Some(ChannelStatus::Running));
        assert_eq!(view.sort, SortChoice::DisplayName);
        assert_eq!(view.page, 3);
        let again = View::parse(Some(&view.query_string()));
        assert_eq!(again.query_string(), view.query_string());
        assert_eq!(View::parse(None).query_string(), "");
    }

    #[test]
    fn links_with_unknown_values_say_so() {
        for raw in [
            "status=nope",
            "page=0",
            "page=x",
            "sort=price",
            "client=x'--",
        ] {
            let view = View::parse(Some(raw));
            assert!(view.ignored, "{raw}");
            assert_eq!(view.query_string(), "", "{raw}");
        }
        let view = View::parse(Some("utm_source=mail&status=&q=++"));
        assert!(!view.ignored && !view.is_filtered());
    }

    #[test]
    fn every_view_is_a_valid_list_query() {
        for sort in SortChoice::ALL {
            let view = View {
                sort,
                status: Some(ChannelStatus::Error),
                ..View::default()
            };
            assert!(view.list_query(PAGE_SIZE, 0).is_ok(), "{sort:?}");
        }
    }

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("+4915123456789"), "'+4915123456789");
        assert_eq!(neutralise("-x"), "'-x");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("Acme"), "Acme");
        assert_eq!(neutralise(""), "");
    }
}
