//! The ledger under any interleaving: generated sequences of sends, failure reports (some
//! twice), staff adjustments and report runs, partly concurrent, always leave every balance equal
//! to the sum of its entries, every hash chain intact, and each message charged and refunded at
//! most once.

use crate::messaging::{enable_billing, eur_card, number, template, template_body, text_body};
use crate::support::app::for_each_backend;
use hub::services::messaging::{self, reports, send};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use std::collections::HashSet;
use store::billing::Holder;

#[derive(Clone, Debug)]
enum Op {
    /// A template (or, when `template` is false, a text) to one of a few recipients.
    Send { to: u8, template: bool },
    /// The provider reports the n-th accepted message failed (again, possibly).
    Fail { nth: u8 },
    /// Staff move the balance by this many cents.
    Adjust { cents: i32 },
    /// The sandbox reports on everything due.
    Report,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0u8..6, any::<bool>()).prop_map(|(to, template)| Op::Send { to, template }),
        2 => any::<u8>().prop_map(|nth| Op::Fail { nth }),
        1 => (-300i32..600).prop_map(|cents| Op::Adjust { cents }),
        1 => Just(Op::Report),
    ]
}

/// Batches of operations; the operations of a batch run concurrently.
fn batches() -> impl Strategy<Value = Vec<Vec<Op>>> {
    prop::collection::vec(prop::collection::vec(op(), 1..6), 1..8)
}

const RECIPIENTS: [&str; 6] = [
    "4915187600001",
    "12025550142",
    "919812345678",
    "4915187600000",
    "77012345678",
    "33612345678",
];

#[tokio::test]
async fn any_interleaving_keeps_every_balance_the_sum_of_its_chained_entries() {
    for_each_backend(|app| async move {
        eur_card(&app).await;
        let mut runner = TestRunner::deterministic();
        let strategy = batches();
        for case in 0..8u32 {
            let plan = strategy.new_tree(&mut runner).unwrap().current();
            let n = number(
                &app,
                &format!("Case {case}"),
                &format!("+49151123499{case:02}"),
                false,
            )
            .await;
            enable_billing(&app, &n.partner, "1.00").await;
            template(&app, &n, "spring_sale", "MARKETING").await;
            let sender = messaging::authenticate(&app.state, Some(&n.key))
                .await
                .unwrap();
            let mut accepted: Vec<String> = Vec::new();
            for batch in &plan {
                let mut running = tokio::task::JoinSet::new();
                for op in batch.clone() {
                    let state = app.state.clone();
                    let sender = sender.clone();
                    let partner = n.partner.clone();
                    let target = match op {
                        Op::Fail { nth } if !accepted.is_empty() => {
                            Some(accepted[usize::from(nth) % accepted.len()].clone())
                        }
                        _ => None,
                    };
                    running.spawn(async move {
                        match op {
                            Op::Send { to, template } => {
                                let to = RECIPIENTS[usize::from(to) % RECIPIENTS.len()];
                                let body = if template {
                                    template_body(to, "spring_sale")
                                } else {
                                    text_body(to)
                                };
                                let raw = body.to_string();
                                send::send(&state, &sender, raw.as_bytes(), None)
                                    .await
                                    .ok()
                                    .and_then(|answer| {
                                        let v: serde_json::Value =
                                            serde_json::from_str(&answer.body).ok()?;
                                        v["messages"][0]["id"].as_str().map(str::to_owned)
                                    })
                            }
                            Op::Fail { .. } => {
                                if let Some(id) = target {
                                    reports::settle_failed(
                                        &state,
                                        &partner,
                                        &id,
                                        131026,
                                        "undeliverable",
                                    )
                                    .await
                                    .unwrap();
                                }
                                None
                            }
                            Op::Adjust { cents } if cents != 0 => {
                                let amount = domain::Micros::new(i64::from(cents) * 10_000);
                                hub::services::billing::adjust(
                                    &state,
                                    &partner,
                                    &Holder::Partner,
                                    amount,
                                    "generated adjustment",
                                    &hub::services::audit::Actor::System,
                                )
                                .await
                                .unwrap();
                                None
                            }
                            Op::Adjust { .. } => None,
                            Op::Report => {
                                reports::report_due(&state).await.unwrap();
                                None
                            }
                        }
                    });
                }
                while let Some(done) = running.join_next().await {
                    if let Some(id) = done.unwrap() {
                        accepted.push(id);
                    }
                }
                app.clock.advance_ms(1_000);
            }
            let problems = hub::services::billing::check_ledger(&app.state)
                .await
                .unwrap();
            assert!(problems.is_empty(), "case {case} {plan:?}: {problems:?}");
            let mut conn = app.state.db.pool().acquire().await.unwrap();
            let (entries, _, _) = store::billing::entries(
                &mut conn,
                &n.partner,
                &store::billing::EntryFilter::default(),
                &store::select::Page {
                    limit: 10_000,
                    offset: 0,
                    after: None,
                    oldest_first: false,
                },
            )
            .await
            .unwrap();
            let sum = entries.iter().fold(domain::Micros::ZERO, |s, e| {
                s.checked_add(e.amount).unwrap()
            });
            let account =
                store::billing::account(app.state.db.pool(), &n.partner, &Holder::Partner)
                    .await
                    .unwrap()
                    .unwrap();
            assert_eq!(
                account.balance, sum,
                "case {case}: the balance is the sum of its entries"
            );
            let mut charged = HashSet::new();
            let mut refunded = HashSet::new();
            for e in &entries {
                match e.kind {
                    domain::ledger::EntryKind::Usage => {
                        assert!(
                            charged.insert(e.reference.clone()),
                            "case {case}: charged twice"
                        );
                    }
                    domain::ledger::EntryKind::Refund => {
                        assert!(
                            refunded.insert(e.reference.clone()),
                            "case {case}: refunded twice"
                        );
                    }
                    _ => {}
                }
            }
            assert!(
                refunded.is_subset(&charged),
                "case {case}: a refund without its charge"
            );
        }
    })
    .await;
}
