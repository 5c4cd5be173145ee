//! Rate limits follow identities, not addresses (docs/security.md): a whole room behind one
//! address joins, looks its code up and votes with no refusal, while one token flooding,
//! code guessing, login guessing and a flood from one address are stopped, each with 429
//! and `Retry-After`. Also: every path answers with and without its trailing slash.

use futures_util::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, assert_envelope, json};

/// A well-formed code from the join-code alphabet that is not `taken`.
fn guess(n: usize, taken: &str) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut n = n;
    let code: String = (0..6)
        .map(|_| {
            let c = ALPHABET[n % ALPHABET.len()] as char;
            n /= ALPHABET.len();
            c
        })
        .collect();
    if code == taken {
        "ZZZZZZ".to_owned()
    } else {
        code
    }
}

both_backends!(
    a_room_behind_one_address_joins_looks_up_and_votes_with_no_refusal,
    one_token_flooding_reactions_and_heartbeats_is_stopped,
    guessing_codes_is_stopped_and_a_spent_address_learns_nothing,
    logins_are_limited_per_address_across_accounts,
    guessing_from_twelve_addresses_slows_the_account_but_not_its_owners_browser,
    a_session_admits_newcomers_at_its_rate_and_rejoins_are_not_admissions,
    the_flood_guard_stops_one_address_beyond_its_ceiling,
    every_path_answers_with_and_without_its_trailing_slash
);

async fn a_room_behind_one_address_joins_looks_up_and_votes_with_no_refusal(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, code) = app.open_session(&host, Some(5000)).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b"]}),
            json!({}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    let room = 1_500;
    let lookups: Vec<StatusCode> = futures_util::stream::iter(0..room)
        .map(|_| async {
            app.call(
                Method::GET,
                &format!("/api/v1/sessions/code/{code}"),
                None,
                None,
            )
            .await
            .status()
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(
        lookups.iter().all(|s| *s == StatusCode::OK),
        "right codes are never refused"
    );
    let (app_ref, code_ref) = (&app, &code);
    let joined: Vec<(StatusCode, serde_json::Value)> = futures_util::stream::iter(0..room)
        .map(|n| async move {
            let (app, code) = (app_ref, code_ref);
            let r = app
                .call(
                    Method::POST,
                    &format!("/api/v1/sessions/{code}/join"),
                    None,
                    Some(json!({"nickname": format!("p{n}")})),
                )
                .await;
            (r.status(), json(r).await)
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let refused = joined
        .iter()
        .filter(|(s, _)| *s != StatusCode::CREATED)
        .count();
    assert_eq!(
        refused,
        0,
        "{:?}",
        joined.iter().find(|(s, _)| *s != StatusCode::CREATED)
    );
    let votes: Vec<StatusCode> = futures_util::stream::iter(joined.iter().enumerate())
        .map(|(n, (_, body))| {
            let token = body["token"].as_str().unwrap().to_owned();
            let app = &app;
            let poll = &poll;
            async move {
                app.call(
                    Method::POST,
                    &format!("/api/v1/activities/{poll}/responses"),
                    Some(&token),
                    Some(json!({"answer": {"options": [n % 2]}})),
                )
                .await
                .status()
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(
        votes.iter().all(|s| *s == StatusCode::CREATED),
        "every vote stored"
    );
    assert_eq!(app.results(&host.token, &poll).await["total_voters"], room);
}

async fn one_token_flooding_reactions_and_heartbeats_is_stopped(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let flooder = app.join(&session, "Flooder").await;
    let calm = app.join(&session, "Calm").await;
    let mut reactions = Vec::new();
    for _ in 0..30 {
        reactions.push(
            app.call(
                Method::POST,
                &format!("/api/v1/sessions/{session}/reactions"),
                Some(&flooder.token),
                Some(json!({"emoji": "heart"})),
            )
            .await
            .status(),
        );
    }
    assert!(
        reactions.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{reactions:?}"
    );
    let mut beats = Vec::new();
    for _ in 0..20 {
        beats.push(
            app.call(
                Method::POST,
                &format!("/api/v1/participants/{}/heartbeat", flooder.id),
                Some(&flooder.token),
                None,
            )
            .await
            .status(),
        );
    }
    assert!(beats.contains(&StatusCode::TOO_MANY_REQUESTS), "{beats:?}");
    // Someone else behind the same address is not affected.
    let other = app
        .call(
            Method::POST,
            &format!("/api/v1/sessions/{session}/reactions"),
            Some(&calm.token),
            Some(json!({"emoji": "heart"})),
        )
        .await;
    assert_eq!(other.status(), StatusCode::ACCEPTED);
}

async fn guessing_codes_is_stopped_and_a_spent_address_learns_nothing(db: TestDb) {
    let app = TestApp::spawn_with(db, |c| c.trust_forwarded_for = true, axum::Router::new()).await;
    let host = app.host("ada@example.org", false).await;
    let (_, code) = app.open_session(&host, None).await;
    let lookup = |code: String, from: &'static str| {
        let app = &app;
        async move {
            app.client
                .get(app.url(&format!("/api/v1/sessions/code/{code}")))
                .header("x-forwarded-for", from)
                .send()
                .await
                .unwrap()
        }
    };
    let mut misses = 0;
    let limited = loop {
        let response = lookup(guess(misses, &code), "198.51.100.9").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            break response;
        }
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        misses += 1;
        assert!(misses < 2_000, "guessing was never stopped");
    };
    assert!(misses >= 100, "a room's typos fit in the budget ({misses})");
    // A code that cannot exist costs nothing and tells nothing new.
    assert_eq!(
        lookup("NOPE".to_owned(), "203.0.113.77").await.status(),
        StatusCode::NOT_FOUND
    );
    assert!(limited.headers().contains_key("retry-after"));
    assert_envelope(&json(limited).await, "rate_limited");
    // The guesser cannot tell a hit from a miss now ...
    assert_eq!(
        lookup(code.clone(), "198.51.100.9").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let join = app
        .client
        .post(app.url(&format!("/api/v1/sessions/{}/join", guess(7, &code))))
        .header("x-forwarded-for", "198.51.100.9")
        .json(&json!({"nickname": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        join.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "joining by code is the same lookup"
    );
    // ... while everyone else still finds the session.
    assert_eq!(lookup(code, "203.0.113.5").await.status(), StatusCode::OK);
}

async fn logins_are_limited_per_address_across_accounts(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let mut statuses = Vec::new();
    for n in 0..40 {
        let r = app.call(Method::POST, "/api/v1/auth/login", None,
            Some(json!({"email": format!("nobody{n}@example.org"), "password": "guess guess guess"}))).await;
        statuses.push(r.status());
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

async fn a_session_admits_newcomers_at_its_rate_and_rejoins_are_not_admissions(db: TestDb) {
    let app = TestApp::spawn_with(
        db,
        |c| c.rate_limit_session_joins_per_second = 2,
        axum::Router::new(),
    )
    .await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let first = app.join(&session, "First").await;
    let mut statuses = Vec::new();
    for n in 0..20 {
        let r = app
            .call(
                Method::POST,
                &format!("/api/v1/sessions/{session}/join"),
                None,
                Some(json!({"nickname": format!("n{n}")})),
            )
            .await;
        statuses.push(r.status());
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(r.headers().contains_key("retry-after"));
        }
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let back = app
        .call(
            Method::POST,
            &format!("/api/v1/sessions/{session}/join"),
            None,
            Some(json!({"token": first.token})),
        )
        .await;
    assert_eq!(
        back.status(),
        StatusCode::OK,
        "a rejoin is not an admission"
    );
}

async fn the_flood_guard_stops_one_address_beyond_its_ceiling(db: TestDb) {
    let app = TestApp::spawn_with(
        db,
        |c| c.rate_limit_address_per_second = 20,
        axum::Router::new(),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..100 {
        statuses.push(app.get("/api/v1/health/live").await.status());
    }
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(limited > 0, "{statuses:?}");
}

async fn every_path_answers_with_and_without_its_trailing_slash(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let with = app
        .call(Method::GET, "/api/v1/sessions/", Some(&host.token), None)
        .await;
    let without = app
        .call(Method::GET, "/api/v1/sessions", Some(&host.token), None)
        .await;
    assert_eq!(with.status(), StatusCode::OK);
    assert_eq!(without.status(), StatusCode::OK);
    assert_eq!(json(with).await, json(without).await);
    let created = app
        .call(
            Method::POST,
            "/api/v1/sessions",
            Some(&host.token),
            Some(json!({"title": "No slash"})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED, "a body is kept");
    let id = json(created).await["id"].as_str().unwrap().to_owned();
    let item = app
        .call(
            Method::GET,
            &format!("/api/v1/sessions/{id}/?x=1"),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(
        item.status(),
        StatusCode::OK,
        "an item with a slash, and a query"
    );
    for path in [
        "/api/v1/health",
        "/api/v1/health/",
        "/api/v1/health/live/",
        "/api/v1/activities/types/",
    ] {
        assert_eq!(app.get(path).await.status(), StatusCode::OK, "{path}");
    }
    assert_eq!(
        app.get("/api/v1/nothing/").await.status(),
        StatusCode::NOT_FOUND
    );
}

/// The attack the security review found: twelve wrong passwords from twelve addresses
/// used to lock the real organizer out. Now they slow down sign-ins to that account from
/// browsers that never signed in to it, while the owner's browser, which did, still gets in.
async fn guessing_from_twelve_addresses_slows_the_account_but_not_its_owners_browser(db: TestDb) {
    let app = TestApp::spawn_with(db, |c| c.trust_forwarded_for = true, axum::Router::new()).await;
    let email = "owner@example.org";
    app.host(email, false).await;
    let login = |from: String, password: &str, device: Option<&str>| {
        let mut request = app
            .client
            .post(format!("{}/api/v1/auth/login", app.base))
            .header("x-forwarded-for", from)
            .json(&json!({"email": email, "password": password}));
        if let Some(device) = device {
            request = request.header("cookie", format!("conflicto_device={device}"));
        }
        request.send()
    };
    // The owner signs in once from their browser, which keeps the device cookie.
    let first = login("198.51.100.7".into(), crate::helpers::PASSWORD, None)
        .await
        .unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let device = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("conflicto_device="))
        .and_then(|v| v.split(';').next())
        .expect("a device cookie")
        .to_owned();

    let mut statuses = Vec::new();
    for n in 1..=12 {
        let guess = login(format!("203.0.113.{n}"), "wrong guess number one", None)
            .await
            .unwrap();
        statuses.push(guess.status().as_u16());
    }
    assert!(
        statuses.contains(&429),
        "the account is slowed down: {statuses:?}"
    );
    // A browser that never signed in waits like the attacker ...
    let stranger = login("192.0.2.9".into(), crate::helpers::PASSWORD, None)
        .await
        .unwrap();
    assert_eq!(stranger.status(), StatusCode::TOO_MANY_REQUESTS);
    // ... the owner's browser gets in, and a forged or foreign device cookie does not help.
    let owner = login(
        "198.51.100.7".into(),
        crate::helpers::PASSWORD,
        Some(&device),
    )
    .await
    .unwrap();
    assert_eq!(owner.status(), StatusCode::OK, "the owner signs in");
    let forged = login("192.0.2.9".into(), crate::helpers::PASSWORD, Some("AAAA"))
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::TOO_MANY_REQUESTS);
}
