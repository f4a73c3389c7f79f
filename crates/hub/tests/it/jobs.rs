//! The typed job queue: a kind is one payload type and one registry line; a unique key makes a
//! job exist once however often and by however many runners it is asked for; failures keep
//! their cause chain and retry within the kind's budget; the existing kinds run through it.

use crate::support::app::{T0_MS, TestApp, for_each_backend};
use hub::clock::Clock;
use hub::jobs::{Job, JobContext, JobError, Registry};
use std::collections::HashMap;
use std::sync::Mutex;
use store::jobs::{JobPayload, Schedule};

/// Runs per (database, key), across every runner of a test.
static RUNS: Mutex<Option<HashMap<String, usize>>> = Mutex::new(None);

fn runs(key: &str) -> usize {
    RUNS.lock()
        .unwrap()
        .as_ref()
        .and_then(|m| m.get(key).copied())
        .unwrap_or(0)
}

/// A test kind: counts its runs, takes a little while (so two runners overlap), and fails
/// while `fail_until_attempt` is not reached.
#[derive(serde::Serialize, serde::Deserialize)]
struct Count {
    key: String,
    fail_until_attempt: i64,
}

impl JobPayload for Count {
    const KIND: &'static str = "test_count";
}

impl Job for Count {
    const MAX_ATTEMPTS: i64 = 3;

    async fn run(self, ctx: &JobContext<'_>) -> Result<(), JobError> {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        *RUNS
            .lock()
            .unwrap()
            .get_or_insert_with(HashMap::new)
            .entry(self.key.clone())
            .or_default() += 1;
        if ctx.attempt < self.fail_until_attempt {
            let io = std::io::Error::other("receiver hung up");
            return Err(anyhow::Error::new(io)
                .context(format!("counting {}", self.key))
                .into());
        }
        Ok(())
    }
}

async fn enqueue(app: &TestApp, job: &Count, schedule: &Schedule) -> bool {
    let mut tx = app.state.db.begin_write().await.unwrap();
    let queued = hub::services::tasks::enqueue(&mut tx, job, schedule, app.clock.now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    queued
}

fn count(key: &str) -> Count {
    Count {
        key: key.to_owned(),
        fail_until_attempt: 0,
    }
}

#[tokio::test]
async fn a_job_with_a_unique_key_runs_once_with_two_runners() {
    for_each_backend(|app| async move {
        let tag = format!("{:?}-{}", app.backend, domain::ids::row_id("t"));
        let registry = Registry::new().with::<Count>();
        let now = app.clock.now_ms();
        for i in 0..20 {
            let key = format!("{tag}-close-march-{i}");
            assert!(enqueue(&app, &count(&key), &Schedule::once(now, key.clone())).await);
            // Asked again (by a retry, or by another instance): nothing more is queued.
            assert!(
                !enqueue(&app, &count(&key), &Schedule::once(now, key.clone())).await,
                "{}: second enqueue of {key} queued a job",
                app.backend.name()
            );
        }
        let (a, b) = tokio::join!(
            hub::jobs::run_due_with(&app.state, &registry),
            hub::jobs::run_due_with(&app.state, &registry),
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(
            a + b,
            20,
            "{}: runners ran {a} + {b} jobs",
            app.backend.name()
        );
        for i in 0..20 {
            let key = format!("{tag}-close-march-{i}");
            assert_eq!(runs(&key), 1, "{}: {key}", app.backend.name());
            // Its key stays taken once it has run.
            assert!(!enqueue(&app, &count(&key), &Schedule::once(now, key.clone())).await);
        }
        let rows = store::jobs::list_kind(app.state.db.pool(), Count::KIND)
            .await
            .unwrap();
        assert_eq!(rows.len(), 20);
        assert!(rows.iter().all(|r| r.state == "done"), "{rows:?}");
        assert_eq!(
            hub::jobs::run_due_with(&app.state, &registry)
                .await
                .unwrap(),
            0
        );
    })
    .await;
}

#[tokio::test]
async fn a_scheduled_job_waits_for_its_time_and_failures_keep_their_cause() {
    for_each_backend(|app| async move {
        let tag = format!("{:?}-{}", app.backend, domain::ids::row_id("t"));
        let registry = Registry::new().with::<Count>();
        let later = format!("{tag}-later");
        let at = app.clock.now_ms() + 3_600_000;
        assert!(enqueue(&app, &count(&later), &Schedule::at(at)).await);
        let flaky = Count {
            key: format!("{tag}-flaky"),
            fail_until_attempt: 2,
        };
        assert!(enqueue(&app, &flaky, &Schedule::at(app.clock.now_ms())).await);

        hub::jobs::run_due_with(&app.state, &registry)
            .await
            .unwrap();
        assert_eq!(runs(&later), 0, "ran before its time");
        assert_eq!(runs(&flaky.key), 1);
        let rows = store::jobs::list_kind(app.state.db.pool(), Count::KIND)
            .await
            .unwrap();
        let failed = rows.iter().find(|r| r.payload.contains("flaky")).unwrap();
        assert_eq!(failed.state, "queued");
        assert_eq!(
            failed.last_error.as_deref(),
            Some(format!("counting {}: receiver hung up", flaky.key).as_str()),
            "the whole cause chain is kept"
        );
        assert!(
            failed.run_at_ms > app.clock.now_ms(),
            "retried later, not at once"
        );

        app.clock.advance_ms(3_600_000 + 1);
        hub::jobs::run_due_with(&app.state, &registry)
            .await
            .unwrap();
        assert_eq!(runs(&later), 1);
        assert_eq!(runs(&flaky.key), 2, "second attempt succeeds");
        let rows = store::jobs::list_kind(app.state.db.pool(), Count::KIND)
            .await
            .unwrap();
        assert!(
            rows.is_empty(),
            "jobs without a key are removed once done: {rows:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_kind_outside_the_registry_is_retried_then_buried_with_a_reason() {
    for_each_backend(|app| async move {
        let key = format!("{:?}-orphan", app.backend);
        assert!(enqueue(&app, &count(&key), &Schedule::at(T0_MS)).await);
        // The standard registry does not know the test kind: another instance (a newer build,
        // during a rolling upgrade) may, so it is retried later rather than dropped.
        hub::jobs::run_due(&app.state).await.unwrap();
        let rows = store::jobs::list_kind(app.state.db.pool(), Count::KIND)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].state, "queued");
        assert!(rows[0].run_at_ms > app.clock.now_ms(), "{rows:?}");
        assert!(
            rows[0]
                .last_error
                .as_deref()
                .unwrap()
                .contains("unknown job kind \"test_count\""),
            "{rows:?}"
        );
        for _ in 0..10 {
            app.clock.advance_ms(2 * 3_600_000);
            hub::jobs::run_due(&app.state).await.unwrap();
        }
        let rows = store::jobs::list_kind(app.state.db.pool(), Count::KIND)
            .await
            .unwrap();
        assert_eq!(rows[0].state, "dead", "{rows:?}");
        assert_eq!(rows[0].attempts, 5);
        assert_eq!(runs(&key), 0);
    })
    .await;
}

#[tokio::test]
async fn the_hourly_sweep_exists_once_and_schedules_the_next_hour() {
    for_each_backend(|app| async move {
        let pool = app.state.db.pool();
        // Two workers start (or one starts twice): one sweep for this hour.
        hub::jobs::schedule_recurring(&app.state).await.unwrap();
        hub::jobs::schedule_recurring(&app.state).await.unwrap();
        let rows = store::jobs::list_kind(pool, hub::jobs::PurgeExpired::KIND)
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "{rows:?}");
        hub::jobs::run_due(&app.state).await.unwrap();
        let rows = store::jobs::list_kind(pool, hub::jobs::PurgeExpired::KIND)
            .await
            .unwrap();
        let states: Vec<&str> = rows.iter().map(|r| r.state.as_str()).collect();
        assert_eq!(states, ["done", "queued"], "{rows:?}");
        let hour = T0_MS / 3_600_000;
        assert_eq!(rows[1].run_at_ms, (hour + 1) * 3_600_000);
        // Starting again within the hour adds nothing.
        hub::jobs::schedule_recurring(&app.state).await.unwrap();
        let again = store::jobs::list_kind(pool, hub::jobs::PurgeExpired::KIND)
            .await
            .unwrap();
        assert_eq!(again.len(), 2);
    })
    .await;
}
