//! Tenant isolation: a user of Other Partner walks every partner-scoped route with Demo
//! Partner's ids and gets "not found" every time, without any of Demo Partner's data.

use crate::support::app::{Role, for_each_backend};

/// Every page route under `/partner/{partner_id}`, from the route table the server is built
/// from, with `{…}` filled from `ids` (a path whose parameter has no entry is skipped loudly).
fn partner_routes(ids: &[(&str, String)]) -> Vec<(reqwest::Method, String)> {
    let mut routes = Vec::new();
    for route in hub::http::routes().table() {
        if !route.path.starts_with("/partner/{partner_id}") {
            continue;
        }
        let mut path = route.path.clone();
        for (name, value) in ids {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        assert!(
            !path.contains('{'),
            "no id for a parameter of {}",
            route.path
        );
        let method = reqwest::Method::from_bytes(route.method.as_str().as_bytes()).unwrap();
        routes.push((method, path));
    }
    routes
}

#[tokio::test]
async fn another_partner_cannot_read_or_change_anything() {
    for_each_backend(|app| async move {
        let demo = app.partner("Demo Partner").await;
        let other = app.partner("Other Partner").await;
        app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
            .await;
        app.user("owner@other.test", "Oscar Other", &[(&other, Role::Owner)])
            .await;

        let olivia = app.login("owner@demo.test").await;
        olivia
            .post(app.link(&format!("/partner/{demo}/users")))
            .form(&[
                ("name", "Secret Sam"),
                ("email", "sam@demo.test"),
                ("role", "member"),
            ])
            .send()
            .await
            .unwrap();
        let invitation = store::invitations::pending(app.state.db.pool(), &demo)
            .await
            .unwrap()[0]
            .id
            .to_string();

        let oscar = app.login("owner@other.test").await;
        let ids = [
            ("partner_id", demo.to_string()),
            ("invitation_id", invitation.clone()),
            ("channel_id", "a1B2c3CH".to_owned()),
            ("key_id", "201126".to_owned()),
            ("event_id", "evt_0000000000000000".to_owned()),
            ("notification_id", "ntf_0000000000000000".to_owned()),
            ("request_id", "pcr_0000000000000000".to_owned()),
            ("section", "billing".to_owned()),
        ];
        let routes = partner_routes(&ids);
        assert!(
            routes.len() >= 45,
            "the walk covers every partner page: {routes:?}"
        );
        for (method, path) in &routes {
            let res = oscar
                .request(method.clone(), app.link(path))
                .form(&[("name", "Mallory"), ("email", "mallory@evil.test")])
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status(),
                404,
                "{method} {path} as another partner's Owner"
            );
            let html = res.text().await.unwrap();
            assert!(
                !html.contains("Demo Partner")
                    && !html.contains("sam@demo.test")
                    && !html.contains("owner@demo.test"),
                "{method} {path} leaks"
            );
        }
        for section in ["support", "preview?screen=onboarding"] {
            let res = oscar
                .get(app.link(&format!("/partner/{demo}/{section}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 404, "GET {section}");
        }
        let res = oscar
            .post(app.link(&format!("/partner/{demo}/users")))
            .form(&[
                ("name", "Mallory"),
                ("email", "mallory@evil.test"),
                ("role", "owner"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        assert!(app.last_mail_to("mallory@evil.test").await.is_none());
        let res = oscar
            .post(app.link(&format!("/partner/{demo}/partner-change/auto-approve")))
            .form(&[("auto_approve", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        let settings = store::partners::settings(app.state.db.pool(), &demo)
            .await
            .unwrap()
            .unwrap();
        assert!(!settings.auto_approves_partner_changes());
        for action in ["resend", "cancel"] {
            // Through Demo's URL and through Oscar's own partner with Demo's invitation id.
            for partner in [&demo, &other] {
                let res = oscar
                    .post(app.link(&format!(
                        "/partner/{partner}/users/invitations/{invitation}/{action}"
                    )))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), 404, "{action} via {partner}");
            }
        }
        let still = store::invitations::pending(app.state.db.pool(), &demo)
            .await
            .unwrap();
        assert_eq!(still.len(), 1, "the invitation is untouched");
        assert_eq!(still[0].id.to_string(), invitation);

        // The switcher of a one-partner user lists only that partner.
        let html = oscar
            .get(app.link(&format!("/partner/{other}/accounts")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("Demo Partner") && !html.contains(demo.as_str()));
    })
    .await;
}

#[tokio::test]
async fn malformed_or_unknown_ids_are_not_found() {
    for_each_backend(|app| async move {
        let demo = app.partner("Demo Partner").await;
        app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
            .await;
        let olivia = app.login("owner@demo.test").await;
        for path in [
            "/partner/nope/accounts".to_owned(),
            "/partner/abc'%20OR%201=1--/users".to_owned(),
            "/partner/ZZZZZZPA/users".to_owned(),
            format!("/partner/{demo}/nonsense"),
            format!("/partner/{demo}/users/invitations/inv_x/resend"),
        ] {
            let res = if path.ends_with("resend") {
                olivia.post(app.link(&path)).send().await.unwrap()
            } else {
                olivia.get(app.link(&path)).send().await.unwrap()
            };
            assert_eq!(res.status(), 404, "{path}");
            assert!(res.text().await.unwrap().contains("Page not found"));
        }
    })
    .await;
}

#[tokio::test]
async fn staff_and_partner_sessions_never_cross() {
    for_each_backend(|app| async move {
        let demo = app.partner("Demo Partner").await;
        app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
            .await;
        app.staff("staff@demo.test").await;
        let olivia = app.login("owner@demo.test").await;
        for path in ["/staff/partners", "/staff/outbox", "/metrics"] {
            let res = olivia.get(app.link(path)).send().await.unwrap();
            assert_eq!(res.status(), 303, "{path}");
            assert!(
                res.headers()["location"]
                    .to_str()
                    .unwrap()
                    .starts_with("/staff/login")
            );
        }
        // A partner user's password does not open the staff console.
        let res = app
            .client()
            .post(app.link("/staff/login"))
            .form(&[
                ("email", "owner@demo.test"),
                ("password", crate::support::app::PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);

        let staff = app.staff_login("staff@demo.test").await;
        let res = staff
            .get(app.link(&format!("/partner/{demo}/accounts")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "staff do not land in partner screens");
        assert!(
            res.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login")
        );
    })
    .await;
}
