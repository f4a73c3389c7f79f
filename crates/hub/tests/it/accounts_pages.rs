//! The WhatsApp Accounts and API Keys pages as a partner's staff use them: create a client and
//! add a number through the forms, verify it, take it to running, channel keys shown once,
//! cancellation, the list's filters/search/sort/pages in the URL, the streamed CSV export, Owner
//! and Member on the API Keys tab, and tenancy for every new route.

use crate::support::app::{Backend, Options, PartnerId, TestApp, for_each_backend, path_of};
use domain::{ChannelId, ChannelStatus, ClientId};
use hub::services::accounts::{self, ClientRequest, NumberRequest};
use hub::services::audit::Actor;
use store::clients::{ContactInfo, ContactUser, MetaInfo};
use store::partners::Partner;

struct Seed {
    demo: PartnerId,
    other: PartnerId,
}

async fn seeded(app: &TestApp) -> Seed {
    let demo = app
        .partner_named("Demo Partner")
        .with_owner("owner@demo.test", "Olivia Owner")
        .with_member("member@demo.test", "Max Member")
        .build()
        .await
        .id;
    let other = app
        .partner_named("Other Partner")
        .with_owner("owner@other.test", "Oscar Other")
        .build()
        .await
        .id;
    Seed { demo, other }
}

async fn partner(app: &TestApp, id: &PartnerId) -> Partner {
    store::partners::get(app.state.db.pool(), id)
        .await
        .unwrap()
        .unwrap()
}

/// A client made through the service, allowed `max` numbers.
async fn client(
    app: &TestApp,
    partner: &Partner,
    name: &str,
    organisation: Option<&str>,
    max: i64,
) -> ClientId {
    let request = ClientRequest::parse(
        name,
        organisation.map(str::to_owned),
        Some(max),
        None,
        ContactInfo {
            email: Some(format!(
                "{}@client.test",
                name.to_lowercase().replace(' ', ".")
            )),
            ..ContactInfo::default()
        },
        ContactUser::default(),
        MetaInfo::default(),
    )
    .unwrap();
    accounts::create_client(&app.state, partner, &request, &Actor::System)
        .await
        .unwrap()
        .id
}

async fn number(
    app: &TestApp,
    partner: &Partner,
    client: &ClientId,
    phone: &str,
    name: &str,
) -> ChannelId {
    let request = NumberRequest::parse(phone, name, Some("sms"), None).unwrap();
    accounts::add_number(&app.state, partner, client, &request, &Actor::System)
        .await
        .unwrap()
        .id
}

/// Run jobs until none is due: the sandbox walks numbers as far as they can go alone.
async fn settle(app: &TestApp) {
    for _ in 0..10 {
        if app.run_due_jobs().await == 0 {
            return;
        }
    }
}

async fn verify_by_service(app: &TestApp, partner: &Partner, channel: &ChannelId) {
    let view = accounts::channel(&app.state, partner, channel)
        .await
        .unwrap();
    accounts::verify_number(
        &app.state,
        partner,
        &view.client_id,
        channel,
        "000000",
        &Actor::System,
    )
    .await
    .unwrap();
}

async fn status_of(app: &TestApp, partner: &Partner, channel: &ChannelId) -> ChannelStatus {
    accounts::channel(&app.state, partner, channel)
        .await
        .unwrap()
        .status
}

async fn get(client: &reqwest::Client, url: &str) -> (u16, String) {
    let res = client.get(url).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(client: &reqwest::Client, url: &str, form: &[(&str, &str)]) -> reqwest::Response {
    client.post(url).form(form).send().await.unwrap()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// The secret shown in the one-time key box.
fn shown_key(html: &str) -> String {
    let start = html.find("id=\"new-key\">").expect("a new key box") + "id=\"new-key\">".len();
    html[start..].split('<').next().unwrap().trim().to_owned()
}

/// Number of rows in the accounts table.
fn rows(html: &str) -> usize {
    html.matches("<a class=\"number\"").count()
}

#[tokio::test]
async fn a_member_creates_a_client_adds_verifies_and_manages_a_number() {
    for_each_backend(|app| async move {
        let Seed { demo, .. } = seeded(&app).await;
        let max = app.login("member@demo.test").await;
        let accounts = app.link(&format!("/partner/{demo}/accounts"));

        let (status, html) = get(&max, &accounts).await;
        assert_eq!(status, 200);
        assert!(html.contains("No WhatsApp numbers yet"), "empty state");
        assert!(html.contains("Create client") && html.contains("Add number"));

        // Create a client: a mistake keeps what was typed, then it works.
        let new_client = format!("{accounts}/clients/new");
        let (status, html) = get(&max, &new_client).await;
        assert_eq!(status, 200);
        assert!(html.contains("Partner payload") && html.contains("Max numbers"));
        let res = post(
            &max,
            &new_client,
            &[
                ("name", " "),
                ("email", "not-an-email"),
                ("country", "DE"),
                ("max_channels", "0"),
            ],
        )
        .await;
        assert_eq!(res.status(), 400);
        let html = res.text().await.unwrap();
        assert!(html.contains("Name is required."), "{html}");
        assert!(
            html.contains("Max numbers must be a whole number")
                || html.contains("Max numbers must be between")
        );
        assert!(html.contains("value=\"not-an-email\"") && html.contains("value=\"DE\""));
        let res = post(
            &max,
            &new_client,
            &[
                ("name", "Acme Shop"),
                ("organisation", "Acme Shop GmbH"),
                ("email", "ops@acme.test"),
                ("country", "DE"),
                ("partner_payload", "crm-7"),
                ("max_channels", "3"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        let to_add = location(&res);
        assert!(
            to_add.starts_with(&format!("/partner/{demo}/accounts/numbers/new?client=")),
            "{to_add}"
        );
        let client_id = to_add.rsplit('=').next().unwrap().to_owned();
        let (status, html) = get(&max, &app.link(&to_add)).await;
        assert_eq!(status, 200);
        assert!(html.contains("Client Acme Shop created. Now add its first number."));
        assert!(html.contains(&format!(
            "<option value=\"{client_id}\" selected>Acme Shop</option>"
        )));

        // Add a number: a bad phone keeps the display name, then the number is added.
        let add = format!("{accounts}/numbers/new");
        let res = post(
            &max,
            &add,
            &[
                ("client", &client_id),
                ("phone_number", "0151 234"),
                ("phone_name", "Acme Support"),
                ("verification_method", "voice"),
            ],
        )
        .await;
        assert_eq!(res.status(), 400);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("Phone number must be an international number"),
            "{html}"
        );
        assert!(
            html.contains("value=\"Acme Support\"") && html.contains("value=\"voice\" checked")
        );
        let res = post(
            &max,
            &add,
            &[
                ("client", &client_id),
                ("phone_number", "+49 1512 3456789"),
                ("phone_name", "Acme Support"),
                ("verification_method", "sms"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        let details = location(&res);
        let channel = ChannelId::parse(details.rsplit('/').next().unwrap()).unwrap();
        assert_eq!(details, format!("/partner/{demo}/accounts/{channel}"));
        let details = app.link(&details);
        let (_, html) = get(&max, &details).await;
        assert!(
            html.contains("Number added. The verification code is on its way"),
            "{html}"
        );
        assert!(html.contains("+49 1512 3456789") && html.contains("Acme Shop GmbH"));
        assert!(html.contains("ops@acme.test") && html.contains("crm-7"));

        // The same number again is refused inline.
        let res = post(
            &max,
            &add,
            &[
                ("client", &client_id),
                ("phone_number", "+4915123456789"),
                ("phone_name", "Again"),
            ],
        )
        .await;
        assert_eq!(res.status(), 409);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("is already registered on the platform")
                && html.contains("value=\"Again\"")
        );

        // The sandbox sends the code; a wrong one is refused inline, the right one accepted.
        let demo_partner = partner(&app, &demo).await;
        settle(&app).await;
        assert_eq!(
            status_of(&app, &demo_partner, &channel).await,
            ChannelStatus::PendingVerification
        );
        let (_, html) = get(&max, &details).await;
        assert!(
            html.contains("Enter the verification code")
                && html.contains("Enter verification code")
        );
        assert!(
            !html.contains("Sandbox code"),
            "codes are shown only in development mode"
        );
        let res = post(&max, &format!("{details}/verify"), &[("code", "123456")]).await;
        assert_eq!(res.status(), 400);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("This code is not the code sent to the number (4 of 5 attempts left)."),
            "{html}"
        );
        assert!(html.contains("value=\"123456\""), "the typed code stays");
        let res = post(&max, &format!("{details}/verify"), &[("code", "12")]).await;
        assert_eq!(res.status(), 400);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("must be the 6-digit code")
        );
        let res = post(&max, &format!("{details}/verify"), &[("code", "000000")]).await;
        assert_eq!(res.status(), 303);
        let (_, html) = get(&max, &details).await;
        assert!(html.contains("Code accepted."));
        settle(&app).await;
        assert_eq!(
            status_of(&app, &demo_partner, &channel).await,
            ChannelStatus::Running
        );
        let (_, html) = get(&max, &details).await;
        assert!(html.contains("Generate API key") && html.contains("Cancel number"));
        assert!(!html.contains("Enter the verification code"));
        assert!(html.contains("verification code accepted"), "the timeline");
        // A code for a running number is an inline message too.
        let res = post(&max, &format!("{details}/verify"), &[("code", "000000")]).await;
        assert_eq!(res.status(), 422);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("accepted only while it is pending_verification")
        );

        // A channel key is shown once, then only its prefix.
        let res = post(&max, &format!("{details}/api-keys"), &[]).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        let html = res.text().await.unwrap();
        assert!(html.contains("Store it now; it will not be shown again."));
        let key = shown_key(&html);
        assert!(key.len() >= 20, "{key}");
        let keys = hub::services::api_keys::channel_keys(&app.state, &demo_partner, &channel)
            .await
            .unwrap();
        assert_eq!(keys.len(), 1);
        assert!(key.starts_with(&keys[0].prefix));
        let (_, html) = get(&max, &details).await;
        assert!(!html.contains(&key), "the key is never shown again");
        assert!(!html.contains("id=\"new-key\""));
        assert!(html.contains(&format!("{}…", keys[0].prefix)));
        // Another key within 30 s is refused inline, and the page still works.
        let res = post(&max, &format!("{details}/api-keys"), &[]).await;
        assert_eq!(res.status(), 429);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("Too many attempts. Try again in") && html.contains("Revoke all keys")
        );
        assert!(!html.contains("id=\"new-key\""));
        let res = post(&max, &format!("{details}/api-keys/revoke"), &[]).await;
        assert_eq!(res.status(), 303);
        let (_, html) = get(&max, &details).await;
        assert!(html.contains("The API key was revoked.") && html.contains("No active API key."));

        // Cancel, then withdraw; withdrawing twice is an inline message.
        let res = post(&max, &format!("{details}/cancel"), &[]).await;
        assert_eq!(res.status(), 303);
        let (_, html) = get(&max, &details).await;
        assert!(html.contains("Cancellation requested.") && html.contains("Withdraw cancellation"));
        assert_eq!(
            status_of(&app, &demo_partner, &channel).await,
            ChannelStatus::PendingDeletion
        );
        let res = post(&max, &format!("{details}/withdraw-cancellation"), &[]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            status_of(&app, &demo_partner, &channel).await,
            ChannelStatus::Running
        );
        let res = post(&max, &format!("{details}/withdraw-cancellation"), &[]).await;
        assert_eq!(res.status(), 422);
        let html = res.text().await.unwrap();
        assert!(html.contains("There is no pending cancellation to withdraw"));

        // The list shows the number running.
        let (_, html) = get(&max, &accounts).await;
        assert_eq!(rows(&html), 1);
        assert!(html.contains("+49 1512 3456789") && html.contains("Running"));
        assert!(html.contains("Showing 1–1 of 1"));
    })
    .await;
}

#[tokio::test]
async fn development_mode_shows_the_sandbox_code() {
    let app = TestApp::start(
        Backend::Sqlite,
        Options {
            dev: true,
            ..Options::default()
        },
    )
    .await;
    let Seed { demo, .. } = seeded(&app).await;
    let demo_partner = partner(&app, &demo).await;
    let acme = client(&app, &demo_partner, "Acme", None, 10).await;
    let channel = number(&app, &demo_partner, &acme, "+4915123456789", "Acme").await;
    settle(&app).await;
    let olivia = app.login("owner@demo.test").await;
    let (status, html) = get(
        &olivia,
        &app.link(&format!("/partner/{demo}/accounts/{channel}")),
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("Sandbox code: <code>000000</code>"), "{html}");
    app.finish().await;
}

#[tokio::test]
async fn the_list_keeps_filters_search_sort_and_page_in_the_url() {
    for_each_backend(|app| async move {
        let Seed { demo, .. } = seeded(&app).await;
        let p = partner(&app, &demo).await;
        let acme = client(&app, &p, "Acme", None, 50).await;
        let globex = client(&app, &p, "Globex", None, 50).await;
        let mut globex_numbers = Vec::new();
        for i in 0..30 {
            let phone = format!("+4915123456{i:03}");
            if i % 3 == 0 {
                globex_numbers
                    .push(number(&app, &p, &globex, &phone, &format!("Globex {i:02}")).await);
            } else {
                number(&app, &p, &acme, &phone, &format!("Acme {i:02}")).await;
            }
            // Distinct creation times, so "newest first" is well defined.
            app.clock.advance_ms(1000);
        }
        settle(&app).await;
        for channel in &globex_numbers[..4] {
            verify_by_service(&app, &p, channel).await;
        }
        settle(&app).await;

        let olivia = app.login("owner@demo.test").await;
        let accounts = app.link(&format!("/partner/{demo}/accounts"));
        let (_, html) = get(&olivia, &accounts).await;
        assert_eq!(rows(&html), 25);
        assert!(html.contains("Showing 1–25 of 30"), "{html}");
        assert!(html.contains(&format!("href=\"/partner/{demo}/accounts?page=2\"")));
        assert!(
            html.find("Acme 29").unwrap() < html.find("Acme 28").unwrap(),
            "newest first"
        );
        assert!(html.contains("Enter verification code"));
        // Chips count the statuses and link to the filtered view.
        assert!(html.contains(&format!("href=\"/partner/{demo}/accounts?status=running\"")));
        assert!(
            html.contains("Running <span class=\"count\">4</span>"),
            "{html}"
        );
        assert!(html.contains("Pending verification <span class=\"count\">26</span>"));
        assert!(html.contains("All <span class=\"count\">30</span>"));

        let (_, html) = get(&olivia, &format!("{accounts}?page=2")).await;
        assert_eq!(rows(&html), 5);
        assert!(html.contains("Showing 26–30 of 30"));
        assert!(html.contains(&format!("href=\"/partner/{demo}/accounts\" rel=\"prev\"")));
        assert!(!html.contains("rel=\"next\""));

        let (_, html) = get(&olivia, &format!("{accounts}?status=running")).await;
        assert_eq!(rows(&html), 4);
        assert!(html.contains("Showing 1–4 of 4"));
        assert!(html.contains("<option value=\"running\" selected>"));
        assert!(html.contains("accounts/export.csv?status=running\""));

        let (_, html) = get(&olivia, &format!("{accounts}?q=GLOBEX")).await;
        assert_eq!(rows(&html), 10);
        assert!(html.contains("value=\"GLOBEX\""));
        let (_, html) = get(&olivia, &format!("{accounts}?q=%2B4915123456007")).await;
        assert_eq!(rows(&html), 1, "search by number");
        let (_, html) = get(
            &olivia,
            &format!("{accounts}?client={globex}&status=pending_verification"),
        )
        .await;
        assert_eq!(rows(&html), 6);
        assert!(html.contains(&format!(
            "<option value=\"{globex}\" selected>Globex</option>"
        )));
        // Chips keep the other filters and replace only the status.
        assert!(
            html.contains(&format!(
                "href=\"/partner/{demo}/accounts?status=running&#38;client={globex}\""
            )),
            "{html}"
        );

        let (_, html) = get(
            &olivia,
            &format!("{accounts}?sort=number&hosting=cloud_api"),
        )
        .await;
        assert_eq!(rows(&html), 25);
        let first = html.find("+49 1512 3456000").unwrap();
        assert!(
            first < html.find("+49 1512 3456001").unwrap(),
            "sorted by number"
        );
        assert!(
            html.contains(&format!(
                "href=\"/partner/{demo}/accounts?hosting=cloud_api&#38;sort=number&#38;page=2\""
            )),
            "{html}"
        );
        let (_, html) = get(&olivia, &format!("{accounts}?sort=number&page=2")).await;
        assert!(html.contains("+49 1512 3456029") && !html.contains("+49 1512 3456000"));

        let (status, html) = get(&olivia, &format!("{accounts}?permission=missing")).await;
        assert_eq!(status, 200);
        assert_eq!(rows(&html), 0);
        assert!(html.contains("No numbers match these filters") && html.contains("Clear filters"));
        assert!(!html.contains("No WhatsApp numbers yet"));

        let (status, html) = get(&olivia, &format!("{accounts}?status=bogus&page=-3")).await;
        assert_eq!(status, 200);
        assert!(html.contains("was not understood") && html.contains("Showing 1–25 of 30"));
        let (_, html) = get(&olivia, &format!("{accounts}?page=9")).await;
        assert!(html.contains("No numbers on this page") && html.contains("Go to the first page"));
    })
    .await;
}

async fn seed_many(app: &TestApp, p: &Partner, client: &ClientId, first: ChannelId, count: usize) {
    let template = accounts::channel(&app.state, p, &first).await.unwrap();
    let mut tx = app.state.db.begin_write().await.unwrap();
    for i in 0..count {
        let id = ChannelId::generate();
        let phone = format!("+4917612{i:05}");
        let new = store::channels::NewChannel {
            id: &id,
            client_id: client,
            waba_id: &template.waba_id,
            phone_number: &phone,
            phone_name: "Bulk",
            verification_method: "sms",
            status: ChannelStatus::Created,
            account_mode: "live",
            hosting_type: "cloud_api",
            data_storage_region: None,
            partner_permission: "shared",
            quality_rating: "UNKNOWN",
            is_migrated: false,
            search_text: "bulk",
        };
        let created = store::channels::create(&mut tx, &p.id, &new, "bulk", 1_000 + i as i64)
            .await
            .unwrap();
        assert!(created);
    }
    tx.commit().await.unwrap();
}

fn parse_csv(body: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(body.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[tokio::test]
async fn the_csv_export_streams_the_filtered_view_with_safe_cells() {
    for_each_backend(|app| async move {
        let Seed { demo, other } = seeded(&app).await;
        let p = partner(&app, &demo).await;
        let evil = client(&app, &p, "Evil", Some("=HYPERLINK(\"http://x\")"), 10).await;
        let plain = client(&app, &p, "Plain Shop", None, 10).await;
        let formula = number(&app, &p, &evil, "+4915123456700", "@SUM(A1)").await;
        let running = number(&app, &p, &plain, "+4915123456701", "Plain").await;
        settle(&app).await;
        verify_by_service(&app, &p, &running).await;
        settle(&app).await;
        let o = partner(&app, &other).await;
        let theirs = client(&app, &o, "Theirs", None, 10).await;
        number(&app, &o, &theirs, "+4915123456702", "Theirs").await;

        let max = app.login("member@demo.test").await;
        let export = app.link(&format!("/partner/{demo}/accounts/export.csv"));
        let res = max.get(&export).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
        assert_eq!(
            res.headers()["content-disposition"],
            format!("attachment; filename=\"whatsapp-accounts-{demo}-2026-11-25.csv\"").as_str()
        );
        let table = parse_csv(&res.text().await.unwrap());
        assert_eq!(
            table[0],
            [
                "Company legal name",
                "Number",
                "Display name",
                "Contact email",
                "Channel status",
                "Message on behalf status",
                "Business verification status",
                "Number registration status",
                "Created"
            ]
        );
        assert_eq!(table.len(), 3, "{table:?}");
        let evil_row = table.iter().find(|r| r[3] == "evil@client.test").unwrap();
        assert_eq!(evil_row[0], "'=HYPERLINK(\"http://x\")");
        assert_eq!(evil_row[1], "'+4915123456700");
        assert_eq!(evil_row[2], "'@SUM(A1)");
        assert_eq!(evil_row[4], "pending_verification");
        assert_eq!(evil_row[6], "verified");
        assert_eq!(evil_row[7], "pending");
        assert!(evil_row[8].starts_with("2026-11-25T"));
        let plain_row = table
            .iter()
            .find(|r| r[3] == "plain.shop@client.test")
            .unwrap();
        assert_eq!(
            plain_row[0], "Plain Shop",
            "no organisation: the client name"
        );
        assert_eq!(plain_row[4], "running");
        assert_eq!(plain_row[7], "registered");
        assert!(
            !table.iter().any(|r| r[0] == "Theirs"),
            "only this partner's numbers"
        );
        let _ = formula;

        // Filters are honoured, also a client of another partner (nothing but the header).
        let (_, body) = get(&max, &format!("{export}?status=running")).await;
        let table = parse_csv(&body);
        assert_eq!(table.len(), 2);
        assert_eq!(table[1][3], "plain.shop@client.test");
        let (_, body) = get(&max, &format!("{export}?q=evil")).await;
        assert_eq!(parse_csv(&body).len(), 2);
        let (status, body) = get(&max, &format!("{export}?client={theirs}")).await;
        assert_eq!(status, 200);
        assert_eq!(parse_csv(&body).len(), 1, "{body}");

        // Beyond one batch of 1000 the rest streams in further chunks, every row once.
        seed_many(&app, &p, &plain, running, 1205).await;
        let res = max.get(&export).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let table = parse_csv(&res.text().await.unwrap());
        assert_eq!(table.len(), 1 + 2 + 1205);
        let mut numbers: Vec<&str> = table[1..].iter().map(|r| r[1].as_str()).collect();
        numbers.sort_unstable();
        numbers.dedup();
        assert_eq!(numbers.len(), 1207, "no row twice");
        let (_, body) = get(&max, &format!("{export}?status=created&sort=number")).await;
        let table = parse_csv(&body);
        assert_eq!(table.len(), 1 + 1205);
        assert_eq!(table[1][1], "'+491761200000");
        assert_eq!(table[1205][1], "'+491761201204");
    })
    .await;
}

#[tokio::test]
async fn owners_manage_partner_api_keys_and_members_read_them() {
    for_each_backend(|app| async move {
        let Seed { demo, .. } = seeded(&app).await;
        let olivia = app.login("owner@demo.test").await;
        let max = app.login("member@demo.test").await;
        let tab = app.link(&format!("/partner/{demo}/api-keys"));

        let (status, html) = get(&olivia, &tab).await;
        assert_eq!(status, 200);
        assert!(html.contains("No partner API keys yet") && html.contains("Create API key"));
        assert!(
            html.contains(&format!(
                "curl -H &#34;X-API-Key: …&#34; {}/api/v2/partners/{demo}/channels",
                app.url
            )) || html.contains(&format!("/api/v2/partners/{demo}/channels"))
        );

        let res = post(&olivia, &tab, &[("name", "  ")]).await;
        assert_eq!(res.status(), 400);
        assert!(res.text().await.unwrap().contains("Name is required"));
        let res = post(&olivia, &tab, &[("name", "CRM sync")]).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.unwrap();
        assert!(html.contains("Store it now; it will not be shown again."));
        let key = shown_key(&html);
        let api = app.api(&key);
        let res = api
            .get(app.link(&format!("/api/v2/partners/{demo}/channels")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "the new key works");

        let (_, html) = get(&olivia, &tab).await;
        assert!(html.contains("CRM sync") && !html.contains(&key));
        assert!(html.contains(&format!("{}…", &key[..8])));
        assert!(html.contains("Revoke"));

        // A Member reads the list, cannot create or revoke.
        let (status, html) = get(&max, &tab).await;
        assert_eq!(status, 200);
        assert!(html.contains("CRM sync") && html.contains("Only Owners can create or revoke"));
        assert!(!html.contains("id=\"create-key\"") && !html.contains("/revoke\""));
        let res = post(&max, &tab, &[("name", "Sneaky")]).await;
        assert_eq!(res.status(), 403);
        let keys = hub::services::api_keys::partner_keys(&app.state, &demo)
            .await
            .unwrap();
        assert_eq!(keys.len(), 1);
        let revoke = format!("{tab}/{}/revoke", keys[0].id);
        let res = post(&max, &revoke, &[]).await;
        assert_eq!(res.status(), 403);

        let res = post(&olivia, &revoke, &[]).await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            path_of(&app.link(&location(&res))),
            format!("/partner/{demo}/api-keys")
        );
        let (_, html) = get(&olivia, &tab).await;
        assert!(html.contains("was revoked") && html.contains("No partner API keys yet"));
        let res = api
            .get(app.link(&format!("/api/v2/partners/{demo}/channels")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "a revoked key stops working");
        let res = post(&olivia, &revoke, &[]).await;
        assert_eq!(res.status(), 404, "revoking twice");
    })
    .await;
}

#[tokio::test]
async fn another_partner_reaches_none_of_the_account_pages() {
    for_each_backend(|app| async move {
        let Seed { demo, other } = seeded(&app).await;
        let p = partner(&app, &demo).await;
        let acme = client(&app, &p, "Acme Secret", None, 10).await;
        let channel = number(&app, &p, &acme, "+4915123456789", "Secret Support").await;
        settle(&app).await;
        verify_by_service(&app, &p, &channel).await;
        settle(&app).await;
        hub::services::api_keys::create_channel_key(&app.state, &p, &channel, &Actor::System)
            .await
            .unwrap();
        let partner_key = hub::services::api_keys::create_partner_key(
            &app.state,
            &demo,
            "Demo key",
            &Actor::System,
        )
        .await
        .unwrap()
        .key
        .id;

        let oscar = app.login("owner@other.test").await;
        let leaks = |html: &str| {
            html.contains("Demo Partner")
                || html.contains("Acme Secret")
                || html.contains("Secret Support")
                || html.contains("3456789")
                || html.contains("Demo key")
        };
        let mut gets = Vec::new();
        for partner in [&demo, &other] {
            gets.push(format!("/partner/{partner}/accounts/{channel}"));
        }
        gets.extend([
            format!("/partner/{demo}/accounts"),
            format!("/partner/{demo}/accounts?client={acme}"),
            format!("/partner/{demo}/accounts/export.csv"),
            format!("/partner/{demo}/accounts/clients/new"),
            format!("/partner/{demo}/accounts/numbers/new?client={acme}"),
            format!("/partner/{demo}/api-keys"),
        ]);
        for path in &gets {
            let (status, html) = get(&oscar, &app.link(path)).await;
            assert_eq!(status, 404, "GET {path}");
            assert!(!leaks(&html), "GET {path} leaks");
        }
        let phone_form = [
            ("client", acme.as_str()),
            ("phone_number", "+4915123456780"),
            ("phone_name", "Mallory"),
        ];
        let mut posts: Vec<(String, Vec<(&str, &str)>)> = vec![
            (
                format!("/partner/{demo}/accounts/clients/new"),
                vec![("name", "Mallory Inc")],
            ),
            (
                format!("/partner/{demo}/accounts/numbers/new"),
                phone_form.to_vec(),
            ),
            // Through Oscar's own partner with Demo's client.
            (
                format!("/partner/{other}/accounts/numbers/new"),
                phone_form.to_vec(),
            ),
            (
                format!("/partner/{demo}/api-keys"),
                vec![("name", "Mallory")],
            ),
            (
                format!("/partner/{demo}/api-keys/{partner_key}/revoke"),
                vec![],
            ),
            (
                format!("/partner/{other}/api-keys/{partner_key}/revoke"),
                vec![],
            ),
        ];
        for partner in [&demo, &other] {
            for action in [
                "verify",
                "api-keys",
                "api-keys/revoke",
                "cancel",
                "withdraw-cancellation",
            ] {
                posts.push((
                    format!("/partner/{partner}/accounts/{channel}/{action}"),
                    vec![("code", "000000")],
                ));
            }
        }
        for (path, form) in &posts {
            let res = post(&oscar, &app.link(path), form).await;
            assert_eq!(res.status(), 404, "POST {path}");
            assert!(!leaks(&res.text().await.unwrap()), "POST {path} leaks");
        }

        // Oscar's own views filtered by Demo's client show nothing of Demo.
        let (status, html) = get(
            &oscar,
            &app.link(&format!("/partner/{other}/accounts?client={acme}")),
        )
        .await;
        assert_eq!(status, 200);
        assert!(!leaks(&html));
        let (status, body) = get(
            &oscar,
            &app.link(&format!(
                "/partner/{other}/accounts/export.csv?client={acme}"
            )),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(parse_csv(&body).len(), 1, "only the header: {body}");
        let (_, body) = get(
            &oscar,
            &app.link(&format!("/partner/{other}/accounts/export.csv")),
        )
        .await;
        assert_eq!(parse_csv(&body).len(), 1);
        let (_, html) = get(
            &oscar,
            &app.link(&format!(
                "/partner/{other}/accounts/numbers/new?client={acme}"
            )),
        )
        .await;
        assert!(!leaks(&html));

        // Demo's number, keys and clients are untouched.
        assert_eq!(status_of(&app, &p, &channel).await, ChannelStatus::Running);
        assert_eq!(
            hub::services::api_keys::channel_keys(&app.state, &p, &channel)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            hub::services::api_keys::partner_keys(&app.state, &demo)
                .await
                .unwrap()
                .len(),
            1
        );
        let (list, total) = accounts::channels(
            &app.state,
            &p,
            &domain::ListQuery {
                limit: 10,
                offset: 0,
                sort: vec![],
                filters: vec![],
                ..Default::default()
            },
            None,
        )
        .await
        .unwrap();
        assert_eq!((list.len(), total), (1, 1), "no number was added to Demo");
        let o = partner(&app, &other).await;
        let (_, theirs, _) = accounts::clients(
            &app.state,
            &o,
            &domain::ListQuery {
                limit: 10,
                offset: 0,
                sort: vec![],
                filters: vec![],
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(theirs, 0, "no client was made for Other Partner");
    })
    .await;
}
