//! Who may do what: a participant cannot act as another, drive activities, read hidden
//! results or reach another session; an organizer cannot touch another organizer's session;
//! an admin sees every session.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, assert_envelope, json};

both_backends!(
    an_organizer_cannot_touch_another_organizers_session,
    an_admin_sees_every_session,
    a_participant_cannot_drive_or_act_as_anyone_else,
    a_token_for_one_session_never_acts_on_another,
    a_forged_or_foreign_participant_token_is_refused,
    submissions_are_rate_limited_per_participant,
    the_bearer_scheme_is_matched_in_any_case
);

async fn an_organizer_cannot_touch_another_organizers_session(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let owner = app.host("owner@example.org", false).await;
    let intruder = app.host("intruder@example.org", false).await;
    let (session, _) = app.open_session(&owner, None).await;
    let poll = app
        .poll(
            &owner,
            &session,
            json!({"question": "q", "options": ["a", "b"]}),
            json!({}),
        )
        .await;
    let guest = app.join(&session, "G").await;
    let attempts = [
        (Method::GET, format!("/api/v1/sessions/{session}"), None),
        (
            Method::PATCH,
            format!("/api/v1/sessions/{session}"),
            Some(json!({"title": "mine now"})),
        ),
        (Method::DELETE, format!("/api/v1/sessions/{session}"), None),
        (
            Method::GET,
            format!("/api/v1/sessions/{session}/status"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/sessions/{session}/activities"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/sessions/{session}/activities"),
            Some(
                json!({"kind": "poll", "title": "x", "config": {"question": "q", "options": ["a", "b"]}}),
            ),
        ),
        (
            Method::GET,
            format!("/api/v1/sessions/{session}/participants"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/sessions/{session}/participants/{}", guest.id),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/sessions/{session}/summary"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/sessions/{session}/export.csv"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/sessions/{session}/export.json"),
            None,
        ),
        (Method::GET, format!("/api/v1/activities/{poll}"), None),
        (
            Method::PATCH,
            format!("/api/v1/activities/{poll}"),
            Some(json!({"title": "x"})),
        ),
        (Method::DELETE, format!("/api/v1/activities/{poll}"), None),
        (
            Method::POST,
            format!("/api/v1/activities/{poll}/transition"),
            Some(json!({"to": "active"})),
        ),
        (
            Method::POST,
            format!("/api/v1/activities/{poll}/commands/reveal"),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/activities/{poll}/results"),
            None,
        ),
    ];
    for (method, path, body) in attempts {
        let response = app
            .call(method.clone(), &path, Some(&intruder.token), body)
            .await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
    }
    let list = json(
        app.call(
            Method::GET,
            "/api/v1/sessions/",
            Some(&intruder.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(list["total"], 0);
    let still = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{session}"),
            Some(&owner.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(still["title"], "Test event");
    assert_eq!(still["activities"][0]["state"], "published");
}

async fn an_admin_sees_every_session(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let owner = app.host("owner@example.org", false).await;
    let admin = app.host("admin@example.org", true).await;
    let (session, _) = app.open_session(&owner, None).await;
    let list = json(
        app.call(Method::GET, "/api/v1/sessions/", Some(&admin.token), None)
            .await,
    )
    .await;
    assert_eq!(list["total"], 1);
    assert_eq!(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{session}"),
            Some(&admin.token),
            None
        )
        .await
        .status(),
        StatusCode::OK
    );
}

async fn a_participant_cannot_drive_or_act_as_anyone_else(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b"]}),
            json!({}),
        )
        .await;
    let me = app.join(&session, "Me").await;
    let other = app.join(&session, "Other").await;
    let organizer_only = [
        (
            Method::POST,
            format!("/api/v1/activities/{poll}/transition"),
            Some(json!({"to": "active"})),
        ),
        (
            Method::POST,
            format!("/api/v1/activities/{poll}/commands/reveal"),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/v1/sessions/{session}"),
            Some(json!({"status": "completed"})),
        ),
        (
            Method::GET,
            format!("/api/v1/sessions/{session}/participants"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/v1/sessions/{session}/participants/{}", other.id),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/sessions/{session}/export.csv"),
            None,
        ),
        (
            Method::POST,
            "/api/v1/sessions/".to_owned(),
            Some(json!({"title": "mine"})),
        ),
    ];
    for (method, path, body) in organizer_only {
        let response = app.call(method.clone(), &path, Some(&me.token), body).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
        assert_envelope(&json(response).await, "organizer_only");
    }
    let spoof = app
        .call(
            Method::POST,
            &format!("/api/v1/participants/{}/heartbeat", other.id),
            Some(&me.token),
            None,
        )
        .await;
    assert_eq!(spoof.status(), StatusCode::FORBIDDEN);
    // The poll was not started by anyone.
    let activity = json(
        app.call(
            Method::GET,
            &format!("/api/v1/activities/{poll}"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(activity["state"], "published");
    // Votes carry only the token's identity: there is no field to claim another one.
    app.transition(&host, &poll, "active").await;
    let claim = app
        .call(
            Method::POST,
            &format!("/api/v1/activities/{poll}/responses"),
            Some(&me.token),
            Some(json!({"answer": {"options": [0]}, "participant_id": other.id})),
        )
        .await;
    assert_eq!(
        claim.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );
}

async fn a_token_for_one_session_never_acts_on_another(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session_a, _) = app.open_session(&host, None).await;
    let (session_b, _) = app.open_session(&host, None).await;
    let poll_b = app
        .poll(
            &host,
            &session_b,
            json!({"question": "q", "options": ["a", "b"]}),
            json!({}),
        )
        .await;
    app.transition(&host, &poll_b, "active").await;
    let guest_a = app.join(&session_a, "From A").await;

    let vote = app
        .vote(&guest_a, &poll_b, json!({"options": [0]}), None)
        .await;
    assert_eq!(vote.status(), StatusCode::NOT_FOUND);
    let results = app
        .call(
            Method::GET,
            &format!("/api/v1/activities/{poll_b}/results"),
            Some(&guest_a.token),
            None,
        )
        .await;
    assert_eq!(results.status(), StatusCode::NOT_FOUND);
    let status = app
        .call(
            Method::GET,
            &format!("/api/v1/sessions/{session_b}/status"),
            Some(&guest_a.token),
            None,
        )
        .await;
    assert_eq!(status.status(), StatusCode::NOT_FOUND);
    let rejoin = app
        .call(
            Method::POST,
            &format!("/api/v1/sessions/{session_b}/join"),
            None,
            Some(json!({"token": guest_a.token})),
        )
        .await;
    assert_eq!(
        rejoin.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "A's token is no identity in B; a nickname is needed"
    );
    assert_eq!(app.results(&host.token, &poll_b).await["total_voters"], 0);
}

async fn a_forged_or_foreign_participant_token_is_refused(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let guest = app.join(&session, "Real").await;
    let mut forged = guest.token.clone();
    forged.replace_range(10..12, if &forged[10..12] == "AA" { "BB" } else { "AA" });
    for token in [
        forged.as_str(),
        "cfp_short",
        "cfp_",
        "Bearer",
        &"cfp_x".repeat(30),
    ] {
        let response = app
            .call(Method::GET, "/api/v1/participants/me", Some(token), None)
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{token}");
    }
}

async fn submissions_are_rate_limited_per_participant(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b"]}),
            json!({}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    let spammer = app.join(&session, "Spammer").await;
    let burst = futures_util::future::join_all(
        (0..40).map(|n| app.vote(&spammer, &poll, json!({"options": [n % 2]}), None)),
    )
    .await;
    let limited: Vec<&reqwest::Response> = burst
        .iter()
        .filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert!(
        !limited.is_empty(),
        "a burst of 40 exceeds the per-participant limit"
    );
    assert!(limited[0].headers().contains_key("retry-after"));
    assert_eq!(
        app.results(&host.token, &poll).await["total_voters"],
        1,
        "still one voter"
    );
}

/// RFC 7235: the scheme name is case-insensitive, and one or more spaces follow it. Every
/// place a token is read (organizer, participant, joining again, the live stream) takes
/// `bearer`, `BEARER` and `Bearer` alike.
async fn the_bearer_scheme_is_matched_in_any_case(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let guest = app.join(&session, "Ann").await;
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let send = |path: String, token: &str| {
            app.client
                .get(format!("{}{path}", app.base))
                .header("authorization", format!("{scheme}  {token}"))
                .send()
        };
        let me = send("/api/v1/auth/me".into(), &host.token).await.unwrap();
        assert_eq!(me.status(), StatusCode::OK, "{scheme}: organizer");
        let mine = send("/api/v1/participants/me".into(), &guest.token)
            .await
            .unwrap();
        assert_eq!(mine.status(), StatusCode::OK, "{scheme}: participant");
        let snapshot = send(format!("/api/v1/sessions/{session}/snapshot"), &guest.token)
            .await
            .unwrap();
        assert_eq!(snapshot.status(), StatusCode::OK, "{scheme}: snapshot");
        assert_eq!(
            json(snapshot).await["audience"],
            "participant",
            "{scheme}: read as the participant"
        );
        let again = app
            .client
            .post(format!("{}/api/v1/sessions/{session}/join", app.base))
            .header("authorization", format!("{scheme} {}", guest.token))
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        assert_eq!(json(again).await["rejoined"], true, "{scheme}: rejoining");
    }
}
