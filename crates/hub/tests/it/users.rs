//! The Users tab: Owners invite, resend and cancel; invitations are accepted through the mailed
//! link; Members read but cannot change anything.

use crate::support::app::{
    PASSWORD, PartnerId, Role, TestApp, find_link, for_each_backend, path_of,
};

async fn seeded(app: &TestApp) -> PartnerId {
    app.partner_named("Demo Partner")
        .with_owner("owner@demo.test", "Olivia Owner")
        .with_member("member@demo.test", "Max Member")
        .build()
        .await
        .id
}

#[tokio::test]
async fn owner_invites_a_user_who_joins_through_the_link() {
    for_each_backend(|app| async move {
        let demo = seeded(&app).await;
        let owner = app.login("owner@demo.test").await;
        let users = app.link(&format!("/partner/{demo}/users"));

        let html = owner
            .get(&users)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Add user")
                && html.contains("member@demo.test")
                && html.contains("Member")
        );
        assert!(
            html.contains("open a support ticket"),
            "deletion goes through support"
        );

        let res = owner
            .post(&users)
            .form(&[
                ("name", "Nina New"),
                ("email", "Nina@Example.com"),
                ("role", "member"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let html = owner
            .get(&users)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Invitation sent to nina@example.com."));
        assert!(html.contains("Nina New") && html.contains("Invited"));

        let (subject, body) = app
            .last_mail_to("nina@example.com")
            .await
            .expect("invitation mail");
        assert_eq!(subject, "You are invited to Demo Partner on Partner Hub");
        let path = path_of(&find_link(&body, "/invite/").expect("link"));

        let newcomer = app.client();
        let html = newcomer
            .get(app.link(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Join Demo Partner") && html.contains("nina@example.com"));
        let res = newcomer
            .post(app.link(&path))
            .form(&[("name", ""), ("password", "x"), ("password_confirm", "y")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let html = res.text().await.unwrap();
        assert!(html.contains("Name is required.") && html.contains("at least 10 characters"));

        let res = newcomer
            .post(app.link(&path))
            .form(&[
                ("name", "Nina N."),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(
            res.headers()["location"].to_str().unwrap(),
            format!("/partner/{demo}/accounts")
        );
        let html = newcomer
            .get(app.link(&format!("/partner/{demo}/accounts")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Welcome to Demo Partner!") && html.contains("Nina N."));

        let html = owner
            .get(&users)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("nina@example.com") && !html.contains("Invited"),
            "now an active user"
        );

        let res = app.client().get(app.link(&path)).send().await.unwrap();
        assert_eq!(res.status(), 410, "an invitation link works once");
        app.client()
            .post(app.link("/login"))
            .form(&[("email", "nina@example.com"), ("password", PASSWORD)])
            .send()
            .await
            .map(|r| assert_eq!(r.status(), 303))
            .unwrap();
    })
    .await;
}

#[tokio::test]
async fn an_existing_person_joins_a_second_partner_and_can_switch() {
    for_each_backend(|app| async move {
        let demo = seeded(&app).await;
        let other = app.partner("Other Partner").await;
        app.user("owner@other.test", "Oscar Other", &[(&other, Role::Owner)])
            .await;
        let oscar = app.login("owner@other.test").await;
        let res = oscar
            .post(app.link(&format!("/partner/{other}/users")))
            .form(&[
                ("name", "Max"),
                ("email", "member@demo.test"),
                ("role", "owner"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let (_, body) = app.last_mail_to("member@demo.test").await.unwrap();
        let path = path_of(&find_link(&body, "/invite/").unwrap());
        let max = app.login("member@demo.test").await;
        let html = max
            .get(app.link(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("You already have a Partner Hub account"));
        let res = max
            .post(app.link(&path))
            .form(&[("accept", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);

        let html = max
            .get(app.link(&format!("/partner/{demo}/integration")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Switch account"));
        assert!(
            html.contains(&format!("/partner/{other}/integration")),
            "switching keeps the page"
        );
        let html = max
            .get(app.link(&format!("/partner/{other}/users")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Other Partner") && html.contains("Add user"),
            "Owner there"
        );
    })
    .await;
}

#[tokio::test]
async fn members_read_but_cannot_manage_users() {
    for_each_backend(|app| async move {
        let demo = seeded(&app).await;
        let member = app.login("member@demo.test").await;
        let users = app.link(&format!("/partner/{demo}/users"));
        let html = member
            .get(&users)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("owner@demo.test"));
        assert!(!html.contains("Send invitation"));
        assert!(html.contains("Only Owners can add users"));
        let res = member
            .post(&users)
            .form(&[("name", "Eve"), ("email", "eve@x.test"), ("role", "owner")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        assert!(app.last_mail_to("eve@x.test").await.is_none());
        let html = member
            .get(app.link(&format!("/partner/{demo}/integration")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("You can read these settings. Only Owners can change them."));
    })
    .await;
}

#[tokio::test]
async fn resend_replaces_the_link_and_cancel_revokes_it() {
    for_each_backend(|app| async move {
        let demo = seeded(&app).await;
        let owner = app.login("owner@demo.test").await;
        let users = app.link(&format!("/partner/{demo}/users"));
        owner
            .post(&users)
            .form(&[
                ("name", "Rita"),
                ("email", "rita@x.test"),
                ("role", "member"),
            ])
            .send()
            .await
            .unwrap();
        let (_, first) = app.last_mail_to("rita@x.test").await.unwrap();
        let first = path_of(&find_link(&first, "/invite/").unwrap());

        let res = owner
            .post(&users)
            .form(&[
                ("name", "Rita"),
                ("email", "rita@x.test"),
                ("role", "member"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            400,
            "a second invitation for the same email is refused"
        );
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("already has a pending invitation")
        );
        let res = owner
            .post(&users)
            .form(&[
                ("name", "Max"),
                ("email", "member@demo.test"),
                ("role", "member"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("already belongs to a user of this partner")
        );

        let list = store::invitations::pending(app.state.db.pool(), &demo)
            .await
            .unwrap();
        let id = list[0].id.to_string();
        app.clock.advance_ms(60_000);
        let res = owner
            .post(app.link(&format!("/partner/{demo}/users/invitations/{id}/resend")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let (_, second) = app.last_mail_to("rita@x.test").await.unwrap();
        let second = path_of(&find_link(&second, "/invite/").unwrap());
        assert_ne!(first, second);
        assert_eq!(
            app.client()
                .get(app.link(&first))
                .send()
                .await
                .unwrap()
                .status(),
            410
        );
        assert_eq!(
            app.client()
                .get(app.link(&second))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );

        let res = owner
            .post(app.link(&format!("/partner/{demo}/users/invitations/{id}/cancel")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(
            app.client()
                .get(app.link(&second))
                .send()
                .await
                .unwrap()
                .status(),
            410
        );
        let html = owner
            .get(&users)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Invitation for rita@x.test cancelled.") && !html.contains("Invited")
        );
    })
    .await;
}

#[tokio::test]
async fn invitations_expire_after_seven_days() {
    for_each_backend(|app| async move {
        let demo = seeded(&app).await;
        let owner = app.login("owner@demo.test").await;
        owner
            .post(app.link(&format!("/partner/{demo}/users")))
            .form(&[
                ("name", "Late"),
                ("email", "late@x.test"),
                ("role", "member"),
            ])
            .send()
            .await
            .unwrap();
        let (_, body) = app.last_mail_to("late@x.test").await.unwrap();
        let path = path_of(&find_link(&body, "/invite/").unwrap());
        app.clock.advance_ms(7 * 24 * 3_600_000 + 1);
        let res = app
            .client()
            .post(app.link(&path))
            .form(&[
                ("name", "Late"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 410);
        let html = owner
            .get(app.link(&format!("/partner/{demo}/users")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Invitation expired"),
            "Owners see it expired and can resend"
        );
    })
    .await;
}

/// What a Member may change (everything about WhatsApp accounts, their own notifications, test
/// buttons, resending a webhook, answering a partner change); every other change under
/// `/partner/{id}` is an Owner's. A new route is an Owner's until it is listed here.
const MEMBER_MAY_POST: &[&str] = &[
    "/accounts/",
    "/notifications",
    "/integration/webhook-url/test",
    "/integration/redirect-url/test",
    "/integration/webhooks/",
    "/partner-change/{request_id}/",
];

#[tokio::test]
async fn members_are_refused_every_owner_change_from_the_route_table() {
    for_each_backend(|app| async move {
        let demo = seeded(&app).await;
        let member = app.login("member@demo.test").await;
        let before = store::partners::settings(app.state.db.pool(), &demo)
            .await
            .unwrap();
        let mut refused = 0;
        for route in hub::http::routes().table() {
            let Some(rest) = route.path.strip_prefix("/partner/{partner_id}") else {
                continue;
            };
            if route.method != axum::http::Method::POST
                || MEMBER_MAY_POST
                    .iter()
                    .any(|allowed| rest.starts_with(allowed))
            {
                continue;
            }
            let path = format!("/partner/{demo}{rest}")
                .replace("{invitation_id}", "inv_0000000000000000")
                .replace("{key_id}", "201126");
            let res = member
                .post(app.link(&path))
                .form(&[
                    ("url", "https://evil.example/hook"),
                    ("solution_id", "pwned"),
                    ("brand_name", "pwned"),
                    ("name", "Eve"),
                    ("email", "eve@x.test"),
                    ("role", "owner"),
                    ("auto_approve", "1"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 403, "a Member may POST {path}");
            refused += 1;
        }
        assert!(refused >= 12, "only {refused} Owner routes were tried");
        let after = store::partners::settings(app.state.db.pool(), &demo)
            .await
            .unwrap();
        assert_eq!(
            format!("{before:?}"),
            format!("{after:?}"),
            "a refused change stored nothing"
        );
        let endpoints = store::webhooks::endpoints(app.state.db.pool(), &demo)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(endpoints.webhook_url, None);
    })
    .await;
}
