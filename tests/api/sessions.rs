//! Sessions over HTTP: create, list with paging and a real total, read, edit, the status
//! machine with its 409s, deletion, the public code lookup and the polling status.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, assert_envelope, json};

both_backends!(
    a_new_session_is_a_draft_with_an_unambiguous_code,
    invalid_sessions_are_refused_naming_the_field,
    the_list_is_paginated_with_the_real_total,
    only_draft_active_completed_transitions_are_allowed,
    a_session_can_be_read_edited_and_deleted,
    the_code_lookup_is_public_tolerant_and_tells_nothing_secret,
    completed_sessions_free_their_code_and_say_they_ended
);

async fn a_new_session_is_a_draft_with_an_unambiguous_code(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let session = app
        .session(
            &host,
            json!({"title": "  Town hall  ", "description": "Q4", "max_participants": 250}),
        )
        .await;
    assert_eq!(session["title"], "Town hall");
    assert_eq!(session["status"], "draft");
    assert_eq!(session["max_participants"], 250);
    let code = session["join_code"].as_str().unwrap();
    assert_eq!(code.len(), 6);
    assert!(!code.contains(['0', 'O', '1', 'I', 'L']), "{code}");
    assert!(
        session["join_url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/join/{code}"))
    );
}

async fn invalid_sessions_are_refused_naming_the_field(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let cases = [
        (json!({"title": ""}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (
            json!({"title": "ok", "description": "d".repeat(2001)}),
            "description",
        ),
        (
            json!({"title": "ok", "max_participants": 0}),
            "max_participants",
        ),
        (
            json!({"title": "ok", "max_participants": 50_001}),
            "max_participants",
        ),
    ];
    for (body, field) in cases {
        let response = app
            .call(
                Method::POST,
                "/api/v1/sessions/",
                Some(&host.token),
                Some(body),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{field}"
        );
        assert_eq!(json(response).await["error"]["details"]["field"], field);
    }
    let unknown = app
        .call(
            Method::POST,
            "/api/v1/sessions/",
            Some(&host.token),
            Some(json!({"title": "ok", "owner": "me"})),
        )
        .await;
    assert_eq!(
        unknown.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );
}

async fn the_list_is_paginated_with_the_real_total(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    for n in 0..5 {
        app.session(&host, json!({"title": format!("Event {n}")}))
            .await;
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let body = json(
            app.call(
                Method::GET,
                &format!("/api/v1/sessions/?page={page}&per_page=2"),
                Some(&host.token),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(body["total"], 5);
        seen.extend(
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["title"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(
        seen,
        ["Event 4", "Event 3", "Event 2", "Event 1", "Event 0"],
        "newest first, each once"
    );
    let drafts = json(
        app.call(
            Method::GET,
            "/api/v1/sessions/?status=draft",
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(drafts["total"], 5);
    let bad = app
        .call(
            Method::GET,
            "/api/v1/sessions/?per_page=1000",
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let bad = app
        .call(
            Method::GET,
            "/api/v1/sessions/?status=sleeping",
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

async fn only_draft_active_completed_transitions_are_allowed(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let id = app.session(&host, json!({"title": "Flow"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/sessions/{id}");
    let set = |status: &'static str| {
        app.call(
            Method::PATCH,
            &path,
            Some(&host.token),
            Some(json!({"status": status})),
        )
    };

    let skip = set("completed").await;
    assert_eq!(skip.status(), StatusCode::CONFLICT);
    let body = json(skip).await;
    assert_envelope(&body, "invalid_transition");
    assert_eq!(body["error"]["details"]["allowed"], json!(["active"]));

    assert_eq!(set("active").await.status(), StatusCode::OK);
    let back = json(set("draft").await).await;
    assert_eq!(back["error"]["details"]["allowed"], json!(["completed"]));
    let done = set("completed").await;
    assert_eq!(done.status(), StatusCode::OK);
    let done = json(done).await;
    assert!(done["completed_at"].is_string() && done["started_at"].is_string());

    let edit = app
        .call(
            Method::PATCH,
            &path,
            Some(&host.token),
            Some(json!({"title": "Renamed"})),
        )
        .await;
    assert_eq!(edit.status(), StatusCode::CONFLICT);
    assert_envelope(&json(edit).await, "session_completed");
    let reopen = json(set("active").await).await;
    assert_envelope(&reopen, "session_completed");
}

async fn a_session_can_be_read_edited_and_deleted(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let id = app.session(&host, json!({"title": "Before"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/sessions/{id}");
    let edited = app
        .call(
            Method::PATCH,
            &path,
            Some(&host.token),
            Some(json!({"title": "After", "settings": {"allow_late_join": false}})),
        )
        .await;
    assert_eq!(edited.status(), StatusCode::OK);
    let edited = json(edited).await;
    assert_eq!(edited["title"], "After");
    assert_eq!(edited["settings"]["allow_late_join"], false);
    assert_eq!(
        edited["settings"]["require_nickname"], true,
        "unset settings keep their defaults"
    );
    let read = json(app.call(Method::GET, &path, Some(&host.token), None).await).await;
    assert_eq!(read["title"], "After");
    assert_eq!(read["activities"], json!([]));
    assert_eq!(
        app.call(Method::DELETE, &path, Some(&host.token), None)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let gone = app.call(Method::GET, &path, Some(&host.token), None).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
    assert_envelope(&json(gone).await, "session_not_found");
    let bad_id = app
        .call(
            Method::GET,
            "/api/v1/sessions/not-a-uuid",
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(bad_id.status(), StatusCode::BAD_REQUEST);
}

async fn the_code_lookup_is_public_tolerant_and_tells_nothing_secret(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let session = app.session(&host, json!({"title": "Public"})).await;
    let code = session["join_code"].as_str().unwrap();
    let typed = format!("{}-{}", &code[..3].to_lowercase(), &code[3..]);
    let found = app
        .call(
            Method::GET,
            &format!("/api/v1/sessions/code/{typed}"),
            None,
            None,
        )
        .await;
    assert_eq!(found.status(), StatusCode::OK);
    let found = json(found).await;
    assert_eq!(found["id"], session["id"]);
    assert_eq!(found["status"], "draft");
    assert_eq!(found["joinable"], false);
    for secret in [
        "organizer_id",
        "description",
        "settings",
        "max_participants",
    ] {
        assert!(found.get(secret).is_none(), "{secret} must not be public");
    }
    let missing = app
        .call(Method::GET, "/api/v1/sessions/code/ZZZZZZ", None, None)
        .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let junk = app
        .call(Method::GET, "/api/v1/sessions/code/%27%3B--", None, None)
        .await;
    assert_eq!(junk.status(), StatusCode::NOT_FOUND);
}

async fn completed_sessions_free_their_code_and_say_they_ended(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (id, code) = app.open_session(&host, None).await;
    app.call(
        Method::PATCH,
        &format!("/api/v1/sessions/{id}"),
        Some(&host.token),
        Some(json!({"status": "completed"})),
    )
    .await;
    let lookup = app
        .call(
            Method::GET,
            &format!("/api/v1/sessions/code/{code}"),
            None,
            None,
        )
        .await;
    // The old code says the session ended (a QR code still on a slide), naming it.
    assert_eq!(lookup.status(), StatusCode::GONE);
    let body = json(lookup).await;
    assert_envelope(&body, "session_ended");
    assert_eq!(body["error"]["details"]["title"], "Test event");
    let late = app
        .call(
            Method::POST,
            &format!("/api/v1/sessions/{id}/join"),
            None,
            Some(json!({"nickname": "Late"})),
        )
        .await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert_envelope(&json(late).await, "session_not_open");
}
