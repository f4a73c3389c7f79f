//! `PATCH /api/v2/partners/{pid}` is one change: every field of the body is stored with its
//! audit entries, or, when any write fails, none is.

use crate::support::app::{Backend, TestApp, for_each_backend};
use serde_json::{Value, json};
use sqlx::AssertSqlSafe;

/// Make every change of `partners.solution_id` fail, as a full disk or a lost connection would
/// make the last write of a request fail.
async fn refuse_solution_id_changes(app: &TestApp) {
    let statements: &[&str] = match app.backend {
        Backend::Sqlite => &[
            "CREATE TRIGGER refuse_solution_id BEFORE UPDATE OF solution_id ON partners
              WHEN NEW.solution_id IS NOT OLD.solution_id
              BEGIN SELECT RAISE(ABORT, 'solution_id refused by the test'); END",
        ],
        Backend::Postgres => &[
            "CREATE FUNCTION refuse_solution_id() RETURNS trigger LANGUAGE plpgsql AS $$
              BEGIN RAISE EXCEPTION 'solution_id refused by the test'; END $$",
            "CREATE TRIGGER refuse_solution_id BEFORE UPDATE OF solution_id ON partners
              FOR EACH ROW WHEN (NEW.solution_id IS DISTINCT FROM OLD.solution_id)
              EXECUTE FUNCTION refuse_solution_id()",
        ],
    };
    for sql in statements {
        sqlx::raw_sql(AssertSqlSafe(*sql))
            .execute(app.state.db.pool())
            .await
            .unwrap();
    }
}

async fn audit_actions(app: &TestApp, partner: &str) -> Vec<String> {
    sqlx::query_scalar::<_, String>(
        "SELECT action FROM audit_log WHERE partner_id = $1 ORDER BY created_ms, id",
    )
    .bind(partner)
    .fetch_all(app.state.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_patch_whose_last_write_fails_changes_nothing() {
    for_each_backend(|app| async move {
        let backend = app.backend.name();
        let partner = app.partner("Acme Cloud").await;
        let api = app.api(&app.api_key(&partner).await);
        let url = app.link(&format!("/api/v2/partners/{partner}"));
        let before: Value = api.get(&url).send().await.unwrap().json().await.unwrap();
        let audit_before = audit_actions(&app, partner.as_str()).await;
        refuse_solution_id_changes(&app).await;

        let res = api
            .patch(&url)
            .json(&json!({
                "default_hosting_type": "cloud_api",
                "default_data_storage_region": "DE",
                "webhook_url": "https://hooks.acme.example/whatsapp",
                "partner_redirect_url": "https://acme.example/done",
                "brand_name": "Acme Brand",
                "solution_id": "1234567890",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 500, "{backend}: the refused write is a fault");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["meta"]["success"], false, "{backend}: {body}");

        let after: Value = api.get(&url).send().await.unwrap().json().await.unwrap();
        assert_eq!(
            after, before,
            "{backend}: a failed PATCH left part of its change behind"
        );
        let mut audit_after = audit_actions(&app, partner.as_str()).await;
        audit_after.sort();
        let mut audit_before = audit_before;
        audit_before.sort();
        assert_eq!(
            audit_after, audit_before,
            "{backend}: audit entries of writes that were rolled back"
        );
        let endpoints = store::webhooks::endpoints(app.state.db.pool(), &partner)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(endpoints.webhook_url, None, "{backend}");
        assert_eq!(endpoints.redirect_url, None, "{backend}");

        // Without the fault the same body is applied whole, each field audited once.
        sqlx::raw_sql("DROP TRIGGER refuse_solution_id ON partners")
            .execute(app.state.db.pool())
            .await
            .or(sqlx::raw_sql("DROP TRIGGER refuse_solution_id")
                .execute(app.state.db.pool())
                .await)
            .unwrap();
        let res = api
            .patch(&url)
            .json(&json!({
                "default_data_storage_region": "DE",
                "webhook_url": "https://hooks.acme.example/whatsapp",
                "brand_name": "Acme Brand",
                "solution_id": "1234567890",
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{backend}");
        let patched: Value = res.json().await.unwrap();
        assert_eq!(patched["brand_name"], "Acme Brand", "{backend}");
        assert_eq!(patched["solution_id"], "1234567890", "{backend}: {patched}");
        let mut added = audit_actions(&app, partner.as_str()).await;
        for old in &audit_before {
            let at = added.iter().position(|a| a == old).unwrap();
            added.remove(at);
        }
        added.sort();
        assert_eq!(
            added,
            [
                "partner.brand_name",
                "partner.defaults",
                "partner.solution_id",
                "partner.webhook_url"
            ],
            "{backend}"
        );
    })
    .await;
}
