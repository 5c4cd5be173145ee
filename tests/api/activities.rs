//! The activity framework over HTTP with the poll kind: kinds and schemas, validation,
//! transitions and their 409s, one active activity per session, rounds, reveal and lock.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, assert_envelope, counts, json};

both_backends!(
    kinds_and_their_schemas_are_served,
    configs_are_validated_by_the_kind,
    activities_move_only_along_the_state_machine,
    only_one_activity_runs_at_a_time_and_only_in_an_open_session,
    activities_are_listed_reordered_edited_and_deleted,
    results_carry_an_etag_that_changes_only_with_them,
    hidden_results_stay_hidden_from_participants_until_revealed,
    a_locked_poll_refuses_votes_without_closing
);

async fn kinds_and_their_schemas_are_served(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let kinds = json(app.get("/api/v1/activities/types").await).await;
    assert!(
        kinds["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["kind"] == "poll")
    );
    let schema = json(app.get("/api/v1/activities/types/poll/schema").await).await;
    assert_eq!(
        schema["config_schema"]["required"],
        json!(["question", "options"])
    );
    assert!(schema["answer_schema"]["properties"]["options"].is_object());
    let missing = app.get("/api/v1/activities/types/telepathy/schema").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

async fn configs_are_validated_by_the_kind(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let id = app.session(&host, json!({"title": "Poll checks"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/v1/sessions/{id}/activities");
    let cases = [
        (
            json!({"kind": "poll", "title": "t", "config": {"question": "q", "options": ["only one"]}}),
            "invalid_field",
        ),
        (
            json!({"kind": "poll", "title": "t", "config": {"question": "q", "options": ["a", "b"], "colour": 1}}),
            "invalid_field",
        ),
        (
            json!({"kind": "poll", "title": "t", "config": {"question": "q", "options": ["a", "b"], "max_picks": 2}}),
            "invalid_field",
        ),
        (
            json!({"kind": "poll", "title": "", "config": {"question": "q", "options": ["a", "b"]}}),
            "invalid_field",
        ),
        (
            json!({"kind": "poll", "title": "t", "config": {"question": "q", "options": ["a", "b"]}, "time_limit_seconds": 0}),
            "invalid_field",
        ),
        (
            json!({"kind": "séance", "title": "t", "config": {}}),
            "unknown_kind",
        ),
    ];
    for (body, code) in cases {
        let response = app
            .call(Method::POST, &path, Some(&host.token), Some(body.clone()))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        let body = json(response).await;
        assert_envelope(&body, code);
        assert!(
            body["error"]["details"]["field"].is_string(),
            "the field is named: {body}"
        );
    }
}

async fn activities_move_only_along_the_state_machine(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let created = app
        .call(Method::POST, &format!("/api/v1/sessions/{session}/activities"), Some(&host.token),
              Some(json!({"kind": "poll", "title": "Flow", "config": {"question": "q", "options": ["a", "b"]}})))
        .await;
    let created = json(created).await;
    assert_eq!(
        (
            created["state"].as_str(),
            created["position"].as_i64(),
            created["round"].as_i64()
        ),
        (Some("draft"), Some(1), Some(1))
    );
    let id = created["id"].as_str().unwrap();
    let go = |to: &'static str| {
        app.call(
            Method::POST,
            format!("/api/v1/activities/{id}/transition"),
            Some(&host.token),
            Some(json!({"to": to})),
        )
    };

    let early = json(go("active").await).await;
    assert_envelope(&early, "invalid_transition");
    assert_eq!(early["error"]["details"]["allowed"], json!(["published"]));
    app.transition(&host, id, "published").await;
    let active = app.transition(&host, id, "active").await;
    assert!(active["activated_at"].is_string());
    let undo = json(go("published").await).await;
    assert_eq!(undo["error"]["details"]["allowed"], json!(["closed"]));
    app.transition(&host, id, "closed").await;
    let reopened = app.transition(&host, id, "active").await;
    assert_eq!(reopened["round"], 2, "reopening starts a new round");
    let bogus = go("finished").await;
    assert_eq!(bogus.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

async fn only_one_activity_runs_at_a_time_and_only_in_an_open_session(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let draft = app.session(&host, json!({"title": "Draft session"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let early = app
        .poll(
            &host,
            &draft,
            json!({"question": "q", "options": ["a", "b"]}),
            json!({}),
        )
        .await;
    let refused = app
        .call(
            Method::POST,
            &format!("/api/v1/activities/{early}/transition"),
            Some(&host.token),
            Some(json!({"to": "active"})),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_envelope(&json(refused).await, "session_not_active");

    let (session, _) = app.open_session(&host, None).await;
    let first = app
        .poll(
            &host,
            &session,
            json!({"question": "1", "options": ["a", "b"]}),
            json!({}),
        )
        .await;
    let second = app
        .poll(
            &host,
            &session,
            json!({"question": "2", "options": ["a", "b"]}),
            json!({}),
        )
        .await;
    app.transition(&host, &first, "active").await;
    let clash = app
        .call(
            Method::POST,
            &format!("/api/v1/activities/{second}/transition"),
            Some(&host.token),
            Some(json!({"to": "active"})),
        )
        .await;
    assert_eq!(clash.status(), StatusCode::CONFLICT);
    let clash = json(clash).await;
    assert_envelope(&clash, "another_activity_active");
    assert_eq!(
        clash["error"]["details"]["active_activity_id"],
        first.as_str()
    );
    app.transition(&host, &first, "closed").await;
    app.transition(&host, &second, "active").await;
}

async fn activities_are_listed_reordered_edited_and_deleted(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let a = app
        .poll(
            &host,
            &session,
            json!({"question": "a", "options": ["x", "y"]}),
            json!({}),
        )
        .await;
    let b = app
        .poll(
            &host,
            &session,
            json!({"question": "b", "options": ["x", "y"]}),
            json!({}),
        )
        .await;
    let c = app
        .poll(
            &host,
            &session,
            json!({"question": "c", "options": ["x", "y"]}),
            json!({}),
        )
        .await;
    let reorder = |ids: Vec<&String>| {
        app.call(
            Method::POST,
            format!("/api/v1/sessions/{session}/activities/reorder"),
            Some(&host.token),
            Some(json!({"activity_ids": ids})),
        )
    };
    let reordered = json(reorder(vec![&c, &a, &b]).await).await;
    let order: Vec<&str> = reordered["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [c.as_str(), a.as_str(), b.as_str()]);
    assert_eq!(
        reorder(vec![&c, &a]).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "every activity, once"
    );
    assert_eq!(
        reorder(vec![&c, &a, &a]).await.status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let edit = app
        .call(Method::PATCH, &format!("/api/v1/activities/{a}"), Some(&host.token),
              Some(json!({"title": "Renamed", "config": {"question": "a2", "options": ["x", "y", "z"]}, "results_visibility": "hidden"})))
        .await;
    assert_eq!(edit.status(), StatusCode::OK);
    let edit = json(edit).await;
    assert_eq!(edit["config"]["options"].as_array().unwrap().len(), 3);
    assert_eq!(edit["results_visibility"], "hidden");

    app.transition(&host, &a, "active").await;
    let running = app
        .call(
            Method::PATCH,
            &format!("/api/v1/activities/{a}"),
            Some(&host.token),
            Some(json!({"config": {"question": "a3", "options": ["x", "y"]}})),
        )
        .await;
    assert_eq!(
        running.status(),
        StatusCode::CONFLICT,
        "no config change while answers come in"
    );
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/activities/{a}"),
            Some(&host.token),
            None
        )
        .await
        .status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        app.call(
            Method::DELETE,
            &format!("/api/v1/activities/{b}"),
            Some(&host.token),
            None
        )
        .await
        .status(),
        StatusCode::NO_CONTENT
    );
    let listed = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{session}/activities"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2);
}

async fn results_carry_an_etag_that_changes_only_with_them(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _, poll) = app.live_poll(&host).await;
    let guest = app.join(&session, "Voter").await;
    let path = format!("{}/api/v1/activities/{poll}/results", app.base);
    let read = |tag: Option<String>| {
        let mut request = app.client.get(&path).bearer_auth(&host.token);
        if let Some(tag) = tag {
            request = request.header(reqwest::header::IF_NONE_MATCH, tag);
        }
        request.send()
    };
    let first = read(None).await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let tag = first.headers()[reqwest::header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();

    // Folded results nobody reads leave memory; folded again, they keep their tag.
    app.state.live.tallies.drop_unread_folded();
    assert_eq!(app.state.live.tallies.drop_unread_folded(), 1);
    let again = read(Some(tag.clone())).await.unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await.unwrap().is_empty());

    app.vote(&guest, &poll, json!({"options": [1]}), None).await;
    let changed = read(Some(tag.clone())).await.unwrap();
    assert_eq!(changed.status(), StatusCode::OK);
    assert_ne!(
        changed.headers()[reqwest::header::ETAG].to_str().unwrap(),
        tag
    );
    assert_eq!(counts(&json(changed).await), [0, 1]);
}

async fn hidden_results_stay_hidden_from_participants_until_revealed(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b"]}),
            json!({"results_visibility": "hidden"}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    let guest = app.join(&session, "Curious").await;
    app.vote(&guest, &poll, json!({"options": [0]}), None).await;

    let peek = app
        .call(
            Method::GET,
            &format!("/api/v1/activities/{poll}/results"),
            Some(&guest.token),
            None,
        )
        .await;
    assert_eq!(peek.status(), StatusCode::FORBIDDEN);
    assert_envelope(&json(peek).await, "results_hidden");
    let status = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{session}/status"),
            Some(&guest.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(status["current_activity"]["results_visible"], false);
    assert_eq!(
        counts(&app.results(&host.token, &poll).await),
        [1, 0],
        "the organizer always sees them"
    );

    let revealed = app
        .call(
            Method::POST,
            &format!("/api/v1/activities/{poll}/commands/reveal"),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(json(revealed).await["results_revealed"], true);
    assert_eq!(counts(&app.results(&guest.token, &poll).await), [1, 0]);
}

async fn a_locked_poll_refuses_votes_without_closing(db: TestDb) {
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
    let guest = app.join(&session, "Voter").await;
    let locked = app
        .call(
            Method::POST,
            &format!("/api/v1/activities/{poll}/commands/lock"),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(json(locked).await["kind_state"]["locked"], true);
    let refused = app.vote(&guest, &poll, json!({"options": [0]}), None).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(assert_envelope(&json(refused).await, "invalid_answer").contains("locked"));
    app.call(
        Method::POST,
        &format!("/api/v1/activities/{poll}/commands/unlock"),
        Some(&host.token),
        None,
    )
    .await;
    assert_eq!(
        app.vote(&guest, &poll, json!({"options": [0]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    let unknown = app
        .call(
            Method::POST,
            &format!("/api/v1/activities/{poll}/commands/explode"),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
}
