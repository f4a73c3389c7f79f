//! Builders for the common fixtures, so a test says what it needs in one line:
//! `app.partner_named("Demo Partner").with_owner("owner@demo.test").with_running_channel(…).build()`.
//! Everything goes through the services (or, for states no use case sets, the store inside
//! `Db::begin_write`), so fixtures are what a real partner would have.

use super::app::TestApp;
use domain::{ChannelId, ClientId, PartnerId, PaymentModel, Role};
use hub::clock::Clock;
use hub::services::accounts::{self, ClientRequest, NumberRequest};
use hub::services::audit::Actor;
use sqlx::AssertSqlSafe;
use store::clients::{ContactInfo, ContactUser, MetaInfo};

/// A partner being described; `build` creates it.
#[must_use]
pub struct PartnerBuilder<'a> {
    app: &'a TestApp,
    name: String,
    payment_model: PaymentModel,
    people: Vec<(String, String, Role)>,
    api_key: bool,
    running: Vec<(String, String)>,
    settings: Vec<&'static str>,
}

/// What `build` made.
#[derive(Debug)]
pub struct PartnerFixture {
    pub id: PartnerId,
    /// The partner API key (`with_api_key`).
    pub api_key: Option<String>,
    /// One per `with_running_channel`, in order.
    pub clients: Vec<ClientId>,
    pub channels: Vec<ChannelId>,
}

impl TestApp {
    /// A Partner-Payment partner named `name`, with nothing else yet.
    pub fn partner_named(&self, name: &str) -> PartnerBuilder<'_> {
        PartnerBuilder {
            app: self,
            name: name.to_owned(),
            payment_model: PaymentModel::PartnerPayment,
            people: Vec::new(),
            api_key: false,
            running: Vec::new(),
            settings: Vec::new(),
        }
    }
}

impl<'a> PartnerBuilder<'a> {
    pub fn direct_payment(mut self) -> Self {
        self.payment_model = PaymentModel::DirectPayment;
        self
    }

    /// An Owner who logs in with `support::app::PASSWORD`.
    pub fn with_owner(self, email: &str, name: &str) -> Self {
        self.with_person(email, name, Role::Owner)
    }

    /// A Member who logs in with `support::app::PASSWORD`.
    pub fn with_member(self, email: &str, name: &str) -> Self {
        self.with_person(email, name, Role::Member)
    }

    fn with_person(mut self, email: &str, name: &str, role: Role) -> Self {
        self.people.push((email.to_owned(), name.to_owned(), role));
        self
    }

    pub fn with_api_key(mut self) -> Self {
        self.api_key = true;
        self
    }

    /// A client named `client` with one number, `phone`, verified and running.
    pub fn with_running_channel(mut self, client: &str, phone: &str) -> Self {
        self.running.push((client.to_owned(), phone.to_owned()));
        self
    }

    /// Still on the legacy On-Premise default (so Switch to Cloud API is offered).
    pub fn on_premise_default(mut self) -> Self {
        self.settings
            .push("UPDATE partners SET default_hosting_type = 'on_premise' WHERE id = $1");
        self
    }

    /// Suspended by the BSP (no use case suspends a partner yet).
    pub fn suspended(mut self) -> Self {
        self.settings.push(SUSPEND);
        self
    }

    pub async fn build(self) -> PartnerFixture {
        let app = self.app;
        let id = create_partner(app, &self.name, self.payment_model).await;
        for (email, name, role) in &self.people {
            app.user(email, name, &[(&id, *role)]).await;
        }
        let api_key = match self.api_key {
            true => Some(app.api_key(&id).await),
            false => None,
        };
        let (mut clients, mut channels) = (Vec::new(), Vec::new());
        for (client, phone) in &self.running {
            let (client, channel) = running_channel(app, &id, client, phone).await;
            clients.push(client);
            channels.push(channel);
        }
        for sql in &self.settings {
            set(app, &id, sql).await;
        }
        PartnerFixture {
            id,
            api_key,
            clients,
            channels,
        }
    }
}

async fn create_partner(app: &TestApp, name: &str, payment_model: PaymentModel) -> PartnerId {
    let id = PartnerId::generate();
    let mut tx = app.state.db.begin_write().await.unwrap();
    store::partners::create(
        &mut *tx,
        &store::partners::NewPartner {
            id: &id,
            name,
            currency: domain::Currency::Eur,
            payment_model,
        },
        app.clock.now_ms(),
    )
    .await
    .expect("partner");
    tx.commit().await.unwrap();
    id
}

/// A client with one number taken through the sandbox to `running`, as the services do it.
pub async fn running_channel(
    app: &TestApp,
    partner: &PartnerId,
    client: &str,
    phone: &str,
) -> (ClientId, ChannelId) {
    let state = &app.state;
    let partner = store::partners::get(state.db.pool(), partner)
        .await
        .unwrap()
        .unwrap();
    let request = ClientRequest::parse(
        client,
        None,
        None,
        None,
        ContactInfo::default(),
        ContactUser::default(),
        MetaInfo::default(),
    )
    .unwrap();
    let created = accounts::create_client(state, &partner, &request, &Actor::System)
        .await
        .unwrap();
    let number = NumberRequest::parse(phone, &format!("{client} Support"), None, None).unwrap();
    let channel = accounts::add_number(state, &partner, &created.id, &number, &Actor::System)
        .await
        .unwrap();
    app.run_due_jobs().await;
    accounts::verify_number(
        state,
        &partner,
        &created.id,
        &channel.id,
        "000000",
        &Actor::System,
    )
    .await
    .unwrap();
    for _ in 0..10 {
        if app.run_due_jobs().await == 0 {
            break;
        }
    }
    let view = accounts::channel(state, &partner, &channel.id)
        .await
        .unwrap();
    assert_eq!(view.status.as_str(), "running", "the fixture's number runs");
    (created.id, channel.id)
}

/// A partner state no use case sets yet, written as the store would (in a write transaction).
async fn set(app: &TestApp, partner: &PartnerId, sql: &'static str) {
    let mut tx = app.state.db.begin_write().await.unwrap();
    sqlx::query(AssertSqlSafe(sql))
        .bind(partner.as_str())
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

/// Suspend a partner that already exists (see `PartnerBuilder::suspended`).
pub async fn suspend(app: &TestApp, partner: &PartnerId) {
    set(app, partner, SUSPEND).await;
}

const SUSPEND: &str = "UPDATE partners SET status = 'suspended' WHERE id = $1";
