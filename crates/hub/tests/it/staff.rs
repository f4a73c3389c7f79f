//! The staff console: its own login, partners with an Owner invitation, the mail outbox, metrics.

use crate::support::app::{PASSWORD, find_link, for_each_backend, path_of};

#[tokio::test]
async fn staff_create_a_partner_whose_owner_joins_by_invitation() {
    for_each_backend(|app| async move {
        app.staff("staff@demo.test").await;
        let staff = app.staff_login("staff@demo.test").await;
        let html = staff
            .get(app.link("/staff/partners"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("No partners yet"));

        let res = staff
            .post(app.link("/staff/partners"))
            .form(&[
                ("name", ""),
                ("owner_email", "not-an-email"),
                ("currency", "gbp"),
                ("payment_model", "partner_payment"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("Name is required.")
                && html.contains("Owner's email must be an email address")
                && html.contains("Currency must be eur or usd"),
            "{html}"
        );

        let res = staff
            .post(app.link("/staff/partners"))
            .form(&[
                ("name", "Acme Messaging"),
                ("owner_email", "boss@acme.test"),
                ("currency", "usd"),
                ("payment_model", "direct_payment"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let html = staff
            .get(app.link("/staff/partners"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Acme Messaging")
                && html.contains("Direct-Payment")
                && html.contains("USD")
        );
        assert!(html.contains("An invitation was sent to boss@acme.test"));

        let html = staff
            .get(app.link("/staff/outbox"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("boss@acme.test") && html.contains("You are invited to Acme Messaging")
        );
        assert!(html.contains("No SMTP server is configured"));

        let (_, body) = app.last_mail_to("boss@acme.test").await.unwrap();
        let path = path_of(&find_link(&body, "/invite/").unwrap());
        let boss = app.client();
        let res = boss
            .post(app.link(&path))
            .form(&[
                ("name", "Bo Boss"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let dashboard = res.headers()["location"].to_str().unwrap().to_owned();
        let html = boss
            .get(app.link(&dashboard.replace("/accounts", "/users")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Acme Messaging") && html.contains("Owner") && html.contains("Add user")
        );
    })
    .await;
}

#[tokio::test]
async fn staff_read_mail_and_metrics() {
    for_each_backend(|app| async move {
        app.staff("staff@demo.test").await;
        let staff = app.staff_login("staff@demo.test").await;
        app.client()
            .post(app.link("/forgot-password"))
            .form(&[("email", "nobody@x.test")])
            .send()
            .await
            .unwrap();
        staff
            .post(app.link("/staff/partners"))
            .form(&[
                ("name", "Beta"),
                ("owner_email", "b@beta.test"),
                ("currency", "eur"),
                ("payment_model", "partner_payment"),
            ])
            .send()
            .await
            .unwrap();
        let mail = store::mail::recent(app.state.db.pool(), 10, 0)
            .await
            .unwrap();
        assert_eq!(mail.len(), 1);
        let html = staff
            .get(app.link(&format!("/staff/outbox/{}", mail[0].id)))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("/invite/"),
            "staff can read the mail and its link"
        );
        assert_eq!(
            staff
                .get(app.link("/staff/outbox/mail_doesnotexist"))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );

        let res = staff.get(app.link("/metrics")).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let text = res.text().await.unwrap();
        assert!(text.contains("partnerhub_http_requests_total"), "{text}");

        let res = staff.post(app.link("/staff/logout")).send().await.unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(
            staff
                .get(app.link("/staff/partners"))
                .send()
                .await
                .unwrap()
                .status(),
            303
        );
    })
    .await;
}

#[tokio::test]
async fn a_staff_deep_link_survives_the_login() {
    for_each_backend(|app| async move {
        app.staff("staff@demo.test").await;
        let client = app.client();
        let res = client
            .get(app.link("/staff/outbox?page=2"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let login = res.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(login, "/staff/login?next=%2Fstaff%2Foutbox%3Fpage%3D2");
        let page = client.get(app.link(&login)).send().await.unwrap();
        let html = page.text().await.unwrap();
        assert!(
            html.contains("outbox?page=2"),
            "the form carries next: {html}"
        );
        let res = client
            .post(app.link("/staff/login"))
            .form(&[
                ("email", "staff@demo.test"),
                ("password", crate::support::app::PASSWORD),
                ("next", "/staff/outbox?page=2"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/staff/outbox?page=2", "{html}");
    })
    .await;
}
