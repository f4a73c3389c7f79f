//! Keyset paging of the Partner API's lists (issue 15, item 19): every list answers
//! `next_cursor` and takes `cursor=`. Walking a list by cursor yields every row once, in the
//! order `offset` pages give, however many rows tie on the sort; a cursor is refused (400, in the
//! error envelope) with another sort, filters, free text, dates, list or partner, and when
//! garbled; `offset` keeps working and its pages carry a cursor too.

use crate::support::app::{PartnerId, TestApp, for_each_backend};
use domain::ClientId;
use hub::services::accounts::{self, ClientRequest, NumberRequest};
use hub::services::audit::Actor;
use serde_json::Value;
use store::clients::{ContactInfo, ContactUser, MetaInfo};

const CHANNEL_SORTS: &[&str] = &[
    "created_at",
    "modified_at",
    "status",
    "id",
    "client_id",
    "setup_info.phone_number",
    "setup_info.phone_name",
];

const CLIENT_SORTS: &[&str] = &["created_at", "modified_at", "name", "id"];

struct Seeded {
    partner: PartnerId,
    key: String,
    clients: Vec<ClientId>,
}

/// A partner with 4 clients (three named "Acme", two created in the same millisecond) and 12
/// numbers, five to a millisecond, nine of them named "Acme Support": rows that tie on every
/// sort but the id.
async fn seed(app: &TestApp, name: &str, phones_from: u64) -> Seeded {
    let fixture = app.partner_named(name).with_api_key().build().await;
    let state = &app.state;
    let partner = store::partners::get(state.db.pool(), &fixture.id)
        .await
        .unwrap()
        .unwrap();
    let mut clients = Vec::new();
    for (i, client) in ["Acme", "Acme", "Beta", "Acme"].iter().enumerate() {
        if i == 2 {
            app.clock.advance_ms(1000);
        }
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
        clients.push((created.id, *client));
    }
    for n in 0..12u64 {
        if n % 5 == 0 {
            app.clock.advance_ms(1000);
        }
        let (client, client_name) = &clients[(n % 4) as usize];
        let number = NumberRequest::parse(
            &format!("+49151234{:05}", phones_from + n),
            &format!("{client_name} Support"),
            None,
            None,
        )
        .unwrap();
        accounts::add_number(state, &partner, client, &number, &Actor::System)
            .await
            .unwrap();
    }
    app.run_due_jobs().await;
    Seeded {
        partner: fixture.id,
        key: fixture.api_key.unwrap(),
        clients: clients.into_iter().map(|(id, _)| id).collect(),
    }
}

async fn get(api: &reqwest::Client, url: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let res = api.get(url).query(query).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

fn ids(page: &Value, items: &str) -> Vec<String> {
    page[items]
        .as_array()
        .unwrap_or_else(|| panic!("no {items} in {page}"))
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Walks a list page by page from its first page by `next_cursor`, checking each page's
/// envelope; returns the ids in order and the number of pages.
async fn walk(
    api: &reqwest::Client,
    url: &str,
    items: &str,
    query: &[(&str, &str)],
    limit: usize,
) -> (Vec<String>, usize) {
    let limit_text = limit.to_string();
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut q: Vec<(&str, &str)> = query.to_vec();
        q.push(("limit", &limit_text));
        if let Some(cursor) = &cursor {
            q.push(("cursor", cursor));
        }
        let (status, page) = get(api, url, &q).await;
        assert_eq!(status, 200, "{q:?}: {page}");
        pages += 1;
        assert!(pages <= 100, "the walk does not end: {q:?}");
        let got = ids(&page, items);
        assert_eq!(page["count"], got.len(), "{q:?}");
        assert_eq!(page["offset"], 0);
        seen.extend(got.clone());
        match page["next_cursor"].as_str() {
            Some(next) => {
                assert_eq!(got.len(), limit, "only a full page has a next one: {q:?}");
                cursor = Some(next.to_owned());
            }
            None => {
                assert_eq!(page["next_cursor"], Value::Null);
                assert!(
                    !got.is_empty() || seen.is_empty(),
                    "the page before an empty one said there was more: {q:?}"
                );
                assert_eq!(page["total"], seen.len(), "{q:?}");
                return (seen, pages);
            }
        }
    }
}

/// The whole list in one page by `offset`, as the reference order.
async fn all(api: &reqwest::Client, url: &str, items: &str, query: &[(&str, &str)]) -> Vec<String> {
    let mut q = query.to_vec();
    q.push(("limit", "1000"));
    let (status, page) = get(api, url, &q).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["next_cursor"], Value::Null, "one page holds them all");
    ids(&page, items)
}

async fn assert_walks_like_offset(
    api: &reqwest::Client,
    url: &str,
    items: &str,
    query: &[(&str, &str)],
    limit: usize,
) {
    let expected = all(api, url, items, query).await;
    let (walked, pages) = walk(api, url, items, query, limit).await;
    assert_eq!(walked, expected, "{query:?} by {limit}");
    assert_eq!(
        pages,
        expected.len().div_ceil(limit).max(1),
        "the last page with rows has next_cursor null: {query:?} by {limit}"
    );
    let mut unique = walked.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), walked.len(), "no row twice: {query:?}");
}

#[tokio::test]
async fn walking_by_cursor_returns_every_row_once_in_order_despite_ties() {
    for_each_backend(|app| async move {
        let s = seed(&app, "Paging Partner", 0).await;
        let api = app.api(&s.key);
        let channels = app.link(&format!("/api/v2/partners/{}/channels", s.partner));
        let clients = app.link(&format!("/api/v2/partners/{}/clients", s.partner));
        let events = app.link(&format!("/api/v2/partners/{}/events", s.partner));

        assert_eq!(
            all(&api, &channels, "partner_channels", &[]).await.len(),
            12
        );
        for field in CHANNEL_SORTS {
            for sort in [field.to_string(), format!("-{field}")] {
                let query = [("sort", sort.as_str())];
                assert_walks_like_offset(&api, &channels, "partner_channels", &query, 5).await;
            }
        }
        // Mixed directions, and free text and filters (the trigram index, a scan, the
        // totals `channel_counts` answers).
        let client = format!(r#"{{"client_id":"{}"}}"#, s.clients[0]);
        for query in [
            vec![("sort", "status,-created_at")],
            vec![("sort", "-setup_info.phone_name,client_id,created_at")],
            vec![],
            vec![("q", "acme")],
            vec![("q", "ac"), ("sort", "created_at")],
            vec![("filters", r#"{"q":"support"}"#)],
            vec![("filters", r#"{"status":"pending_verification"}"#)],
            vec![("filters", &client), ("sort", "setup_info.phone_number")],
        ] {
            for limit in [1, 2, 3, 12] {
                assert_walks_like_offset(&api, &channels, "partner_channels", &query, limit).await;
            }
        }
        // A search that matches nothing, and a filter no row has.
        let (walked, pages) = walk(&api, &channels, "partner_channels", &[("q", "zzz")], 2).await;
        assert_eq!((walked.len(), pages), (0, 1));

        assert_eq!(all(&api, &clients, "clients", &[]).await.len(), 4);
        for field in CLIENT_SORTS {
            for sort in [field.to_string(), format!("-{field}")] {
                let query = [("sort", sort.as_str())];
                for limit in [1, 3] {
                    assert_walks_like_offset(&api, &clients, "clients", &query, limit).await;
                }
            }
        }
        let query = [
            ("sort", "name,-created_at"),
            ("filters", r#"{"name":"Acme"}"#),
        ];
        assert_walks_like_offset(&api, &clients, "clients", &query, 2).await;

        let every_event = all(&api, &events, "events", &[]).await;
        assert!(every_event.len() >= 3, "{every_event:?}");
        for sort in ["created_at", "-created_at"] {
            for limit in [1, 2] {
                let query = [("sort", sort)];
                assert_walks_like_offset(&api, &events, "events", &query, limit).await;
            }
        }
        let query = [("start_date", "0"), ("filters", r#"{"state":"no_url"}"#)];
        assert_walks_like_offset(&api, &events, "events", &query, 2).await;
    })
    .await;
}

#[tokio::test]
async fn offset_pages_keep_working_and_carry_a_cursor_to_go_on_from() {
    for_each_backend(|app| async move {
        let s = seed(&app, "Paging Partner", 0).await;
        let api = app.api(&s.key);
        let channels = app.link(&format!("/api/v2/partners/{}/channels", s.partner));
        let reference = all(&api, &channels, "partner_channels", &[]).await;
        let (status, third) = get(&api, &channels, &[("limit", "3"), ("offset", "3")]).await;
        assert_eq!(status, 200);
        assert_eq!(third["offset"], 3);
        assert_eq!(ids(&third, "partner_channels"), reference[3..6]);
        let cursor = third["next_cursor"].as_str().unwrap();
        let (_, fourth) = get(&api, &channels, &[("limit", "4"), ("cursor", cursor)]).await;
        assert_eq!(ids(&fourth, "partner_channels"), reference[6..10]);
        assert_eq!(fourth["total"], 12);
        assert_eq!(fourth["offset"], 0);
        let (_, last) = get(&api, &channels, &[("limit", "3"), ("offset", "9")]).await;
        assert_eq!(ids(&last, "partner_channels"), reference[9..]);
        assert_eq!(last["next_cursor"], Value::Null);
        let (_, past) = get(&api, &channels, &[("offset", "20")]).await;
        assert_eq!(
            (past["count"].as_i64(), past["total"].as_i64()),
            (Some(0), Some(12))
        );
        assert_eq!(past["next_cursor"], Value::Null);

        // A channel added after the first page comes before the cursor (newest first), so the
        // walk neither repeats nor skips a row it had not reached.
        let (_, first) = get(&api, &channels, &[("limit", "6")]).await;
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        app.clock.advance_ms(1000);
        let partner = store::partners::get(app.state.db.pool(), &s.partner)
            .await
            .unwrap()
            .unwrap();
        let number = NumberRequest::parse("+4915123499999", "Late", None, None).unwrap();
        accounts::add_number(&app.state, &partner, &s.clients[2], &number, &Actor::System)
            .await
            .unwrap();
        let (_, rest) = get(&api, &channels, &[("limit", "100"), ("cursor", &cursor)]).await;
        assert_eq!(ids(&rest, "partner_channels"), reference[6..]);
        assert_eq!(rest["total"], 13, "the total counts the whole list");
    })
    .await;
}

async fn assert_refused(api: &reqwest::Client, url: &str, query: &[(&str, &str)], expected: &str) {
    let (status, body) = get(api, url, query).await;
    assert_eq!(status, 400, "{query:?}: {body}");
    assert_eq!(body["meta"]["http_code"], 400);
    assert_eq!(body["meta"]["success"], false);
    let details = body["meta"]["details"].to_string();
    assert!(details.contains(expected), "{query:?}: {details}");
    assert!(
        !details.to_lowercase().contains("select"),
        "no SQL: {details}"
    );
}

#[tokio::test]
async fn a_cursor_is_refused_with_another_query_list_or_partner_and_when_garbled() {
    for_each_backend(|app| async move {
        let a = seed(&app, "Partner A", 0).await;
        let b = seed(&app, "Partner B", 100).await;
        let api_a = app.api(&a.key);
        let api_b = app.api(&b.key);
        let channels_a = app.link(&format!("/api/v2/partners/{}/channels", a.partner));
        let channels_b = app.link(&format!("/api/v2/partners/{}/channels", b.partner));
        let clients_a = app.link(&format!("/api/v2/partners/{}/clients", a.partner));
        let events_a = app.link(&format!("/api/v2/partners/{}/events", a.partner));
        let filters = r#"{"status":"pending_verification"}"#;
        let made = [
            ("limit", "2"),
            ("sort", "-created_at"),
            ("filters", filters),
            ("q", "acme"),
        ];
        let (_, page) = get(&api_a, &channels_a, &made).await;
        let cursor = page["next_cursor"].as_str().unwrap().to_owned();
        let same = [
            ("sort", "-created_at"),
            ("filters", filters),
            ("q", "acme"),
            ("cursor", cursor.as_str()),
        ];
        let (status, _) = get(&api_a, &channels_a, &same).await;
        assert_eq!(status, 200, "the same query takes it");
        let (status, _) = get(
            &api_a,
            &channels_a,
            &[&same[..], &[("limit", "7")]].concat(),
        )
        .await;
        assert_eq!(status, 200, "another page size takes it");
        let other_query = "cursor: was made for another sort, filters or q";
        for changed in [
            vec![("sort", "created_at"), ("filters", filters), ("q", "acme")],
            vec![
                ("sort", "-created_at,id"),
                ("filters", filters),
                ("q", "acme"),
            ],
            vec![
                ("sort", "-modified_at"),
                ("filters", filters),
                ("q", "acme"),
            ],
            vec![("sort", "-created_at"), ("q", "acme")],
            vec![
                ("sort", "-created_at"),
                ("filters", r#"{"status":"running"}"#),
                ("q", "acme"),
            ],
            vec![("sort", "-created_at"), ("filters", filters), ("q", "acm")],
            vec![("sort", "-created_at"), ("filters", filters)],
        ] {
            let mut query: Vec<(&str, &str)> = changed;
            query.push(("cursor", &cursor));
            assert_refused(&api_a, &channels_a, &query, other_query).await;
        }
        // Partner B replaying A's cursor on its own list gets a 400, nothing of A's.
        let replay = [&same[..], &[("limit", "100")]].concat();
        assert_refused(&api_b, &channels_b, &replay, other_query).await;
        // Another list of the same partner.
        let (_, page) = get(&api_a, &clients_a, &[("limit", "1")]).await;
        let client_cursor = page["next_cursor"].as_str().unwrap().to_owned();
        assert_refused(
            &api_a,
            &channels_a,
            &[("cursor", &client_cursor)],
            other_query,
        )
        .await;
        let (_, plain) = get(&api_a, &channels_a, &[("limit", "1")]).await;
        let plain = plain["next_cursor"].as_str().unwrap().to_owned();
        assert_refused(&api_a, &clients_a, &[("cursor", &plain)], other_query).await;
        // Events are bound to their dates as well.
        let (_, page) = get(&api_a, &events_a, &[("limit", "1"), ("start_date", "0")]).await;
        let event_cursor = page["next_cursor"].as_str().unwrap().to_owned();
        let (status, _) = get(
            &api_a,
            &events_a,
            &[("start_date", "0"), ("cursor", &event_cursor)],
        )
        .await;
        assert_eq!(status, 200);
        assert_refused(
            &api_a,
            &events_a,
            &[("start_date", "1"), ("cursor", &event_cursor)],
            other_query,
        )
        .await;
        assert_refused(&api_a, &events_a, &[("cursor", &event_cursor)], other_query).await;

        let garbled = "cursor: is not a cursor this list gave out";
        let mut flipped = plain.clone().into_bytes();
        let mid = flipped.len() / 2;
        flipped[mid] = if flipped[mid] == b'x' { b'y' } else { b'x' };
        let flipped = String::from_utf8(flipped).unwrap();
        let truncated = &plain[..plain.len() - 3];
        for bad in [
            "nonsense",
            "e30",
            flipped.as_str(),
            truncated,
            "%%%",
            "AAAAAAAAAAAAAAAA",
        ] {
            assert_refused(&api_a, &channels_a, &[("cursor", bad)], garbled).await;
            assert_refused(&api_a, &clients_a, &[("cursor", bad)], garbled).await;
            assert_refused(&api_a, &events_a, &[("cursor", bad)], garbled).await;
        }
        assert_refused(
            &api_a,
            &channels_a,
            &[("cursor", &plain), ("offset", "1")],
            "cursor: cannot be combined with offset",
        )
        .await;
        let (status, _) = get(&api_a, &channels_a, &[("cursor", &plain), ("offset", "0")]).await;
        assert_eq!(status, 200);
        let (status, _) = get(&api_a, &channels_a, &[("cursor", "")]).await;
        assert_eq!(status, 200, "an empty cursor is no cursor");
    })
    .await;
}
