//! Bad input everywhere gets a clear 4xx page (or API envelope), never a 500, and loses nothing.

use crate::support::app::{PASSWORD, Role, for_each_backend};

#[tokio::test]
async fn oversized_and_malformed_bodies_get_clear_4xx() {
    for_each_backend(|app| async move {
        let demo = app.partner("Demo Partner").await;
        app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
            .await;
        let owner = app.login("owner@demo.test").await;
        let users = app.link(&format!("/partner/{demo}/users"));

        let huge = format!(
            "name=x&email=a%40b.test&role=member&pad={}",
            "x".repeat(10 * 1024 * 1024)
        );
        for (client, url) in [
            (app.client(), app.link("/login")),
            (owner.clone(), users.clone()),
        ] {
            let res = client
                .post(&url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(huge.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 413, "{url}");
            assert!(
                res.text()
                    .await
                    .unwrap()
                    .contains("What you sent is too large.")
            );
        }

        let res = owner
            .post(&users)
            .header("content-type", "application/json")
            .body(r#"{"name":"x"}"#)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 415);
        let res = app
            .client()
            .post(app.link("/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("email=%zz&password=%")
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{}", res.status());

        let res = app.client().put(app.link("/login")).send().await.unwrap();
        assert_eq!(res.status(), 405);
        assert!(
            store::invitations::pending(app.state.db.pool(), &demo)
                .await
                .unwrap()
                .is_empty(),
            "nothing was created"
        );
    })
    .await;
}

#[tokio::test]
async fn cross_site_form_posts_are_refused() {
    for_each_backend(|app| async move {
        let demo = app.partner("Demo Partner").await;
        app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
            .await;
        let owner = app.login("owner@demo.test").await;
        let res = owner
            .post(app.link(&format!("/partner/{demo}/users")))
            .header("origin", "https://evil.test")
            .header("sec-fetch-site", "cross-site")
            .form(&[
                ("name", "Mallory"),
                ("email", "mallory@evil.test"),
                ("role", "owner"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);
        assert!(res.text().await.unwrap().contains("sent from another site"));
        assert!(
            store::invitations::pending(app.state.db.pool(), &demo)
                .await
                .unwrap()
                .is_empty()
        );

        // A login form posted from another site (login CSRF) is refused too.
        let res = app
            .client()
            .post(app.link("/login"))
            .header("origin", "https://evil.test")
            .form(&[("email", "owner@demo.test"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403);

        // Our host and port under another scheme is another origin (issue 15, item 17): an
        // https page must not post to the http site (no Sec-Fetch-Site: the Origin decides).
        let other_scheme = app.url.replacen("http://", "https://", 1);
        let res = app
            .client()
            .post(app.link("/login"))
            .header("origin", other_scheme.as_str())
            .form(&[("email", "owner@demo.test"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "Origin {other_scheme}");
        let res = app
            .client()
            .post(app.link("/login"))
            .header("origin", app.url.as_str())
            .form(&[("email", "owner@demo.test"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "our own origin signs in");

        // The same request from our own pages goes through.
        let res = owner
            .post(app.link(&format!("/partner/{demo}/users")))
            .header("origin", app.url.as_str())
            .header("sec-fetch-site", "same-origin")
            .form(&[
                ("name", "Nina"),
                ("email", "nina@demo.test"),
                ("role", "member"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
    })
    .await;
}

#[tokio::test]
async fn sql_and_html_metacharacters_are_data() {
    for_each_backend(|app| async move {
        let demo = app.partner("Demo Partner").await;
        app.user("owner@demo.test", "Olivia Owner", &[(&demo, Role::Owner)])
            .await;
        let res = app
            .client()
            .post(app.link("/login"))
            .form(&[("email", "' OR 1=1 --"), ("password", "' OR '1'='1")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let res = app
            .client()
            .post(app.link("/forgot-password"))
            .form(&[("email", "x'; DROP TABLE users; --")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);

        let owner = app.login("owner@demo.test").await;
        let name = "<script>alert('x')</script> Robert'); DROP TABLE users;--";
        let res = owner
            .post(app.link(&format!("/partner/{demo}/users")))
            .form(&[
                ("name", name),
                ("email", "bobby@tables.test"),
                ("role", "member"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let html = owner
            .get(app.link(&format!("/partner/{demo}/users")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!html.contains("<script>alert"), "names are escaped");
        assert!(html.contains("&#60;script&#62;alert"), "shown as text");
        assert!(html.contains("DROP TABLE users;--"), "stored literally");
        assert_eq!(
            store::partners::members(app.state.db.pool(), &demo)
                .await
                .unwrap()
                .len(),
            1,
            "users table intact"
        );
    })
    .await;
}

#[tokio::test]
async fn unknown_routes_are_404_pages_or_api_envelopes() {
    for_each_backend(|app| async move {
        let res = app
            .client()
            .get(app.link("/no/such/page"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        assert!(
            res.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(res.text().await.unwrap().contains("Page not found"));

        let res = app
            .client()
            .get(app.link("/api/v2/partners/abcdefPA/nothing"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["meta"]["success"], false);
        assert_eq!(body["meta"]["http_code"], 404);
        assert!(body["meta"]["developer_message"].as_str().unwrap().len() > 10);

        let res = app
            .client()
            .get(app.link("/assets/nothing.css"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
        let res = app
            .client()
            .get(app.link("/reset-password/%00%27"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 410);
        let res = app.client().get(app.link("/invite/")).send().await.unwrap();
        assert_eq!(res.status(), 404);
    })
    .await;
}

/// Every form lets a person type exactly as much as the server accepts (issue 15, item 3): each
/// `maxlength` is the limit the field's parser enforces, from one constant.
#[tokio::test]
async fn every_text_field_allows_what_the_server_accepts() {
    use domain::limits::*;
    for_each_backend(|app| async move {
        let demo = app
            .partner_named("Limits Partner")
            .with_owner("owner@limits.test", "Lia Limits")
            .with_running_channel("Limits Client", "+4915122220001")
            .build()
            .await;
        let owner = app.login("owner@limits.test").await;
        let p = demo.id.as_str();
        let pages: [(String, &[(&str, usize)]); 6] = [
            (
                format!("/partner/{p}/profile"),
                &[("brand_name", BRAND_NAME_CHARS)],
            ),
            (
                format!("/partner/{p}/integration"),
                &[("solution_id", SOLUTION_ID_CHARS), ("url", URL_CHARS)],
            ),
            (
                format!("/partner/{p}/accounts/clients/new"),
                &[
                    ("name", CLIENT_NAME_CHARS),
                    ("organisation", CLIENT_TEXT_CHARS),
                    ("country", CLIENT_TEXT_CHARS),
                    ("partner_payload", PARTNER_PAYLOAD_CHARS),
                ],
            ),
            (
                format!("/partner/{p}/accounts/numbers/new"),
                &[("phone_name", DISPLAY_NAME_CHARS)],
            ),
            (
                format!("/partner/{p}/api-keys"),
                &[("name", API_KEY_NAME_CHARS)],
            ),
            (format!("/partner/{p}/accounts"), &[("q", SEARCH_CHARS)]),
        ];
        for (path, fields) in pages {
            let html = owner
                .get(app.link(&path))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            for (name, limit) in fields {
                let found: Vec<&str> = html
                    .match_indices(&format!("name=\"{name}\""))
                    .map(|(at, _)| {
                        let tag_end = at + html[at..].find('>').unwrap();
                        let tag_start = html[..at].rfind('<').unwrap();
                        &html[tag_start..tag_end]
                    })
                    .collect();
                assert!(!found.is_empty(), "{path}: no field {name}");
                for tag in found {
                    assert!(
                        tag.contains(&format!("maxlength=\"{limit}\"")),
                        "{path}: {name} should allow {limit} characters: {tag}"
                    );
                }
            }
        }
        // And the server takes exactly that many: a display name of the limit is accepted.
        let res = owner
            .post(app.link(&format!("/partner/{p}/api-keys")))
            .form(&[("name", "k".repeat(API_KEY_NAME_CHARS).as_str())])
            .send()
            .await
            .unwrap();
        assert!(
            res.status().is_success() || res.status().is_redirection(),
            "{}",
            res.status()
        );
    })
    .await;
}
