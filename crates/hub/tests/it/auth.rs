//! Logging in and out, throttling, password reset: what a person at the login page sees.

use crate::support::app::{PASSWORD, TestApp, find_link, for_each_backend, path_of};

async fn seeded(app: &TestApp) -> crate::support::app::PartnerId {
    let demo = app.partner_named("Demo Partner");
    demo.with_owner("owner@demo.test", "Olivia Owner")
        .build()
        .await
        .id
}

#[tokio::test]
async fn login_opens_the_dashboard_and_logout_ends_the_session() {
    for_each_backend(|app| async move {
        let demo = seeded(&app).await;
        let client = app.client();
        let res = client.get(app.link("/")).send().await.unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/login");

        let res = client
            .post(app.link("/login"))
            .form(&[("email", " Owner@Demo.test "), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );

        let res = client.get(app.link("/")).send().await.unwrap();
        assert_eq!(
            res.headers()["location"].to_str().unwrap(),
            format!("/partner/{demo}/accounts")
        );
        let page = client
            .get(app.link(&format!("/partner/{demo}/accounts")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("Demo Partner") && html.contains(demo.as_str()));
        assert!(
            html.contains("No WhatsApp numbers yet"),
            "empty state explains what will appear"
        );
        assert!(
            !html.contains("Switch account"),
            "single-partner users see no switcher"
        );

        let res = client.post(app.link("/logout")).send().await.unwrap();
        assert_eq!(res.status(), 303);
        let res = client
            .get(app.link(&format!("/partner/{demo}/accounts")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "the old session no longer works");
        assert!(
            res.headers()["location"]
                .to_str()
                .unwrap()
                .starts_with("/login?next=")
        );
    })
    .await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_read_the_same() {
    for_each_backend(|app| async move {
        seeded(&app).await;
        let client = app.client();
        let mut bodies = Vec::new();
        for (email, password) in [
            ("owner@demo.test", "wrong password!"),
            ("nobody@demo.test", "wrong password!"),
        ] {
            let res = client
                .post(app.link("/login"))
                .form(&[("email", email), ("password", password)])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 401);
            let html = res.text().await.unwrap();
            assert!(html.contains("The email or password is not correct."));
            bodies.push(html.replace(email, "EMAIL"));
        }
        assert_eq!(
            bodies[0], bodies[1],
            "the page must not reveal whether the email exists"
        );

        let res = client
            .post(app.link("/login"))
            .form(&[("email", ""), ("password", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("Enter your email and password.")
        );
    })
    .await;
}

#[tokio::test]
async fn repeated_failures_lock_the_account_with_a_countdown() {
    for_each_backend(|app| async move {
        seeded(&app).await;
        let client = app.client();
        for _ in 0..5 {
            let res = client
                .post(app.link("/login"))
                .form(&[("email", "owner@demo.test"), ("password", "not it at all")])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 401);
        }
        // Even the right password is refused while locked, and the page says for how long.
        let res = client
            .post(app.link("/login"))
            .form(&[("email", "owner@demo.test"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()["retry-after"], "900");
        assert!(res.text().await.unwrap().contains("Try again in 900 s."));

        app.clock.advance_ms(15 * 60 * 1000);
        let res = client
            .post(app.link("/login"))
            .form(&[("email", "owner@demo.test"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303, "unlocked after the window");
    })
    .await;
}

/// OWASP's account-lockout guidance: a stranger's wrong guesses from elsewhere never lock the
/// owner out. They slow the account down for new addresses and not at all for an address its
/// person has signed in from before.
#[tokio::test]
async fn strangers_guesses_never_keep_the_owner_out() {
    for_each_backend(|app| async move {
        seeded(&app).await;
        let attempt = |client: reqwest::Client, password: &'static str| {
            let url = app.link("/login");
            async move {
                client
                    .post(url)
                    .form(&[("email", "owner@demo.test"), ("password", password)])
                    .send()
                    .await
                    .unwrap()
            }
        };
        // Olivia has signed in from 127.0.0.1 before.
        app.login("owner@demo.test").await;
        // Two strangers' addresses each guess until they are locked out themselves.
        for stranger in ["127.0.0.2", "127.0.0.3"] {
            let client = app.client_from(stranger);
            for _ in 0..5 {
                assert_eq!(attempt(client.clone(), "guess123guess").await.status(), 401);
            }
            let locked = attempt(client, PASSWORD).await;
            assert_eq!(
                locked.status(),
                429,
                "{stranger} is locked, even with the password"
            );
        }
        // Ten failures from anywhere slow the account down for addresses it does not know.
        let res = attempt(app.client_from("127.0.0.4"), "guess123guess").await;
        assert_eq!(res.status(), 429, "a third address is slowed down");
        let res = attempt(app.client(), PASSWORD).await;
        assert_eq!(
            res.status(),
            303,
            "her own address is never refused the right password"
        );

        // A new address of hers is slowed down, not shut out.
        let laptop = app.client_from("127.0.0.5");
        let res = attempt(laptop.clone(), PASSWORD).await;
        assert_eq!(res.status(), 429);
        let wait: i64 = res.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (1..=30).contains(&wait),
            "slowed for {wait} s, not locked for 15 minutes"
        );
        app.clock.advance_ms(wait * 1000);
        assert_eq!(attempt(laptop, PASSWORD).await.status(), 303);
    })
    .await;
}

#[tokio::test]
async fn password_reset_by_email_changes_the_password_once() {
    for_each_backend(|app| async move {
        let demo = seeded(&app).await;
        let old_session = app.login("owner@demo.test").await;
        let client = app.client();

        for email in ["owner@demo.test", "ghost@demo.test"] {
            let res = client
                .post(app.link("/forgot-password"))
                .form(&[("email", email)])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
            assert!(
                res.text()
                    .await
                    .unwrap()
                    .contains("If an account exists for that email")
            );
        }
        assert!(
            app.last_mail_to("ghost@demo.test").await.is_none(),
            "no mail for unknown emails"
        );
        let (subject, body) = app
            .last_mail_to("owner@demo.test")
            .await
            .expect("reset mail");
        assert_eq!(subject, "Reset your Partner Hub password");
        let link = find_link(&body, "/reset-password/").expect("link in mail");
        let path = path_of(&link);

        let res = client.get(app.link(&path)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        let res = client
            .post(app.link(&path))
            .form(&[("password", "short"), ("password_confirm", "short")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        assert!(res.text().await.unwrap().contains("at least 10 characters"));

        let new_password = "a brand new passphrase";
        let res = client
            .post(app.link(&path))
            .form(&[
                ("password", new_password),
                ("password_confirm", new_password),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);

        let res = old_session
            .get(app.link(&format!("/partner/{demo}/users")))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            303,
            "sessions opened before the reset are ended"
        );
        let res = client
            .post(app.link("/login"))
            .form(&[("email", "owner@demo.test"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401, "the old password no longer works");
        let res = client
            .post(app.link("/login"))
            .form(&[("email", "owner@demo.test"), ("password", new_password)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);

        let res = client.get(app.link(&path)).send().await.unwrap();
        assert_eq!(res.status(), 410, "the link works once");
        assert!(
            res.text()
                .await
                .unwrap()
                .contains("expired or was already used")
        );
    })
    .await;
}

#[tokio::test]
async fn reset_links_expire_after_an_hour() {
    for_each_backend(|app| async move {
        seeded(&app).await;
        let client = app.client();
        client
            .post(app.link("/forgot-password"))
            .form(&[("email", "owner@demo.test")])
            .send()
            .await
            .unwrap();
        let (_, body) = app.last_mail_to("owner@demo.test").await.unwrap();
        let path = path_of(&find_link(&body, "/reset-password/").unwrap());
        app.clock.advance_ms(61 * 60 * 1000);
        let res = client
            .post(app.link(&path))
            .form(&[
                ("password", "another long one"),
                ("password_confirm", "another long one"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 410);
    })
    .await;
}

#[tokio::test]
async fn login_redirects_only_to_local_pages() {
    for_each_backend(|app| async move {
        let demo = seeded(&app).await;
        let client = app.client();
        let res = client
            .post(app.link("/login"))
            .form(&[
                ("email", "owner@demo.test"),
                ("password", PASSWORD),
                ("next", "https://evil.test/steal"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], "/");
        let client = app.client();
        let next = format!("/partner/{demo}/users");
        let res = client
            .post(app.link("/login"))
            .form(&[
                ("email", "owner@demo.test"),
                ("password", PASSWORD),
                ("next", next.as_str()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"].to_str().unwrap(), next);
    })
    .await;
}

#[tokio::test]
async fn one_address_guessing_many_accounts_is_throttled() {
    for_each_backend(|app| async move {
        seeded(&app).await;
        let client = app.client();
        for i in 0..30 {
            let email = format!("guess{i}@demo.test");
            let res = client
                .post(app.link("/login"))
                .form(&[("email", email.as_str()), ("password", "guessing away")])
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 401);
        }
        let res = client
            .post(app.link("/login"))
            .form(&[("email", "owner@demo.test"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            429,
            "the address is throttled even for a fresh account"
        );
        assert!(res.text().await.unwrap().contains("Try again in"));
    })
    .await;
}

#[tokio::test]
async fn sessions_expire() {
    for_each_backend(|app| async move {
        let demo = seeded(&app).await;
        let client = app.login("owner@demo.test").await;
        let page = app.link(&format!("/partner/{demo}/accounts"));
        assert_eq!(client.get(&page).send().await.unwrap().status(), 200);
        app.clock.advance_ms(15 * 24 * 3_600_000);
        assert_eq!(
            client.get(&page).send().await.unwrap().status(),
            303,
            "expired after 14 days"
        );
        use hub::clock::Clock;
        let purged = store::sessions::purge_expired(app.state.db.pool(), app.clock.now_ms())
            .await
            .unwrap();
        assert_eq!(purged, 1);
    })
    .await;
}

#[tokio::test]
async fn login_never_redirects_to_another_site() {
    for_each_backend(|app| async move {
        seeded(&app).await;
        let client = app.login("owner@demo.test").await;
        // Each answered `303 Location: /<TAB>/evil.example` (and the like), which Chromium
        // follows to //evil.example once it drops the tab.
        for next in [
            "/%09/evil.example",
            "/%0A/evil.example",
            "%09//evil.example",
            "/%5C%5Cevil.example",
            "/%2F%2Fevil.example",
            "/%5Cevil.example",
        ] {
            let res = client
                .get(app.link(&format!("/login?next={next}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 303, "{next}");
            let location = res.headers()["location"].to_str().unwrap().to_owned();
            assert_eq!(location, "/", "next={next} leads to {location:?}");
        }
        let res = client
            .get(app.link("/login?next=/partner"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.headers()["location"],
            "/partner",
            "a local path is kept"
        );
    })
    .await;
}

/// Issue 15, item 9: a person changes their password from the user menu: the current one is
/// asked, the sign-up rules apply, their other sessions end and a mail says it happened.
#[tokio::test]
async fn a_person_changes_their_password_and_their_other_sessions_end() {
    for_each_backend(|app| async move {
        let demo = seeded(&app).await;
        let laptop = app.login("owner@demo.test").await;
        let phone = app.login("owner@demo.test").await;
        let menu = laptop
            .get(app.link(&format!("/partner/{demo}/accounts")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            menu.contains("href=\"/account/password\""),
            "the user menu links to it"
        );
        let change = |current: &'static str, new: &'static str, again: &'static str| {
            let request = laptop.post(app.link("/account/password")).form(&[
                ("current_password", current),
                ("password", new),
                ("password_confirm", again),
            ]);
            async move { request.send().await.unwrap() }
        };
        let new_password = "a brand new horse staple";
        for (current, new, again, message) in [
            (
                "not my password",
                new_password,
                new_password,
                "The current password is wrong.",
            ),
            (
                PASSWORD,
                "short",
                "short",
                "The new password must be at least 10 characters",
            ),
            (PASSWORD, new_password, "something else", "does not match"),
            (
                PASSWORD,
                PASSWORD,
                PASSWORD,
                "must differ from your current password",
            ),
        ] {
            let res = change(current, new, again).await;
            assert_eq!(res.status(), 400, "{message}");
            let html = res.text().await.unwrap();
            assert!(html.contains(message), "{message}: {html}");
        }
        let res = change(PASSWORD, new_password, new_password).await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/account/password");
        let html = laptop
            .get(app.link("/account/password"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("your other session was signed out"), "{html}");

        // This session goes on; the other one is signed out.
        let res = laptop.get(app.link("/")).send().await.unwrap();
        assert_ne!(res.headers()["location"], "/login");
        let res = phone.get(app.link("/")).send().await.unwrap();
        assert_eq!(
            res.headers()["location"],
            "/login",
            "the other session ended"
        );
        // Only the new password opens a session.
        let res = app
            .client()
            .post(app.link("/login"))
            .form(&[("email", "owner@demo.test"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 401);
        let res = app
            .client()
            .post(app.link("/login"))
            .form(&[("email", "owner@demo.test"), ("password", new_password)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        let mails: Vec<(String, String)> = sqlx::query_as(
            "SELECT subject, body_text FROM mail_outbox WHERE to_addr = 'owner@demo.test'",
        )
        .fetch_all(app.state.db.pool())
        .await
        .unwrap();
        let (_, body) = mails
            .iter()
            .find(|(subject, _)| subject == "Your Partner Hub password was changed")
            .expect("a mail says the password changed");
        assert!(
            body.contains("127.0.0.1") && body.contains("/forgot-password"),
            "{body}"
        );
        assert!(
            !body.contains(new_password),
            "the mail never holds the password"
        );
    })
    .await;
}

/// A burst of parallel guesses gets no more tries than the same guesses one by one: each
/// attempt is counted before its password is checked.
#[tokio::test]
async fn parallel_guesses_get_no_more_tries_than_sequential_ones() {
    for_each_backend(|app| async move {
        seeded(&app).await;
        let mut burst = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let request = app
                .client_from("127.0.0.9")
                .post(app.link("/login"))
                .form(&[
                    ("email", "owner@demo.test"),
                    ("password", "a parallel guess"),
                ]);
            burst.spawn(async move { request.send().await.unwrap().status().as_u16() });
        }
        let mut checked = 0;
        while let Some(status) = burst.join_next().await {
            match status.unwrap() {
                401 => checked += 1,
                429 => {}
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(checked, 5, "passwords checked for 20 parallel guesses");
    })
    .await;
}
