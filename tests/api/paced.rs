//! Self-paced sessions through the HTTP API: the course, steps opened and timed per
//! participant, the same answer rules, the organizer's progress, opening and closing
//! times, and switching between live and self-paced.

use std::str::FromStr;

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{Guest, Host, TestApp, assert_envelope, json};

both_backends!(
    a_self_paced_quiz_is_timed_per_participant_and_counted_exactly,
    closing_and_opening_times_refuse_answers_and_switching_pace_works,
    hours_must_be_in_order,
    opening_a_step_again_keeps_its_time_and_moves_the_position
);

async fn self_paced_session(app: &TestApp, host: &Host, hours: Value) -> String {
    let session = app
        .session(
            host,
            json!({"title": "Homework", "pace": "self_paced", "hours": hours}),
        )
        .await;
    assert_eq!(session["pace"], "self_paced");
    let id = session["id"].as_str().unwrap().to_owned();
    app.patch_session(host, &id, json!({"status": "active"}))
        .await;
    id
}

async fn open_step(app: &TestApp, guest: &Guest, activity: &str, step: u32) -> reqwest::Response {
    app.call(
        Method::POST,
        "/api/v1/participants/me/steps",
        Some(&guest.token),
        Some(json!({"activity_id": activity, "step": step})),
    )
    .await
}

async fn opened(app: &TestApp, guest: &Guest, activity: &str, step: u32) -> Value {
    let response = open_step(app, guest, activity, step).await;
    let status = response.status();
    let body = json(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn course(app: &TestApp, guest: &Guest) -> Value {
    app.read(&guest.token, "/api/v1/participants/me/course")
        .await
}

async fn progress(app: &TestApp, host: &Host, session: &str) -> Value {
    progress_with(app, &host.token, session).await
}

async fn progress_with(app: &TestApp, token: &str, session: &str) -> Value {
    app.read(token, &format!("/api/v1/sessions/{session}/progress"))
        .await
}

/// The status and error details of an answer that was refused.
async fn refused_with(
    app: &TestApp,
    guest: &Guest,
    activity: &str,
    answer: Value,
) -> (StatusCode, Value) {
    let response = app.vote(guest, activity, answer, None).await;
    let status = response.status();
    (status, json(response).await)
}

/// Records, straight in the store, that `guest` first opened a quiz question `ago` before
/// now: how a test stands for a participant who looked at it for a while.
async fn seen_ago(
    app: &TestApp,
    session: &str,
    guest: &Guest,
    activity: &str,
    step: i32,
    ago_ms: i64,
) {
    let at = chrono::Utc::now() - chrono::Duration::milliseconds(ago_ms);
    app.state
        .store
        .open_step(
            conflicto::ids::SessionId::from_str(session).unwrap(),
            conflicto::ids::ParticipantId::from_str(&guest.id).unwrap(),
            conflicto::ids::ActivityId::from_str(activity).unwrap(),
            1,
            step,
            at,
        )
        .await
        .unwrap();
}

fn quiz_config() -> Value {
    let question = |text: &str| json!({"question": text, "choices": ["a", "b", "c"], "correct": [1], "time_limit_seconds": 10, "points": 1000});
    json!({"questions": [question("First?"), question("Second?")], "scoring": "speed"})
}

/// A poll, then a quiz of two questions.
async fn poll_and_quiz(app: &TestApp, host: &Host, session: &str) -> (String, String) {
    let poll = app
        .poll(
            host,
            session,
            json!({"question": "Ready?", "options": ["yes", "no"]}),
            json!({}),
        )
        .await;
    let quiz = app
        .activity(host, session, "quiz", quiz_config(), json!({}))
        .await;
    (poll, quiz)
}

/// How many are on each activity of the course, in order.
fn on_each(progress: &Value) -> Vec<i64> {
    progress["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["on"].as_i64().unwrap())
        .collect()
}

async fn a_self_paced_quiz_is_timed_per_participant_and_counted_exactly(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let session = self_paced_session(&app, &host, json!({})).await;
    let (poll, quiz) = poll_and_quiz(&app, &host, &session).await;
    // A buzzer is a race, and a draft is not ready: neither is in the course.
    app.activity(&host, &session, "buzzer", json!({}), json!({}))
        .await;
    let draft = app
        .call(
            Method::POST,
            format!("/api/v1/sessions/{session}/activities"),
            Some(&host.token),
            Some(json!({"kind": "poll", "title": "Later", "config": {"question": "q", "options": ["a", "b"]}})),
        )
        .await;
    assert_eq!(draft.status(), StatusCode::CREATED);
    let ann = app.join(&session, "Ann").await;
    let bob = app.join(&session, "Bob").await;

    let mine = course(&app, &ann).await;
    assert_eq!(mine["pace"], "self_paced");
    assert_eq!(mine["opening"], "open");
    let listed: Vec<(&str, u64, bool)> = mine["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["kind"].as_str().unwrap(),
                a["steps"].as_u64().unwrap(),
                a["final_answers"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(listed, [("poll", 1, false), ("quiz", 2, true)]);

    // A step is answered once it is opened, and a poll's answer can change going back.
    let (status, body) = refused_with(&app, &ann, &poll, json!({"options": [0]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"]["rule"], "not_current");
    opened(&app, &ann, &poll, 0).await;
    assert_eq!(
        app.vote(&ann, &poll, json!({"options": [1]}), Some("a-1"))
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.vote(&ann, &poll, json!({"options": [0]}), Some("a-2"))
            .await
            .status(),
        StatusCode::CREATED
    );
    // A retry is a replay, never a second vote.
    assert_eq!(
        app.vote(&ann, &poll, json!({"options": [0]}), Some("a-2"))
            .await
            .status(),
        StatusCode::OK
    );
    opened(&app, &bob, &poll, 0).await;
    assert_eq!(
        app.vote(&bob, &poll, json!({"options": [0]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    let poll_results = app.results(&host.token, &poll).await;
    assert_eq!(crate::helpers::counts(&poll_results), [2, 0]);

    // The quiz: Ann looked at the first question for five seconds before answering; Bob
    // answers his at once. Each is timed from their own first sight of it.
    let (status, body) =
        refused_with(&app, &ann, &quiz, json!({"question": 0, "choices": [1]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    seen_ago(&app, &session, &ann, &quiz, 0, 5000).await;
    let step = opened(&app, &ann, &quiz, 0).await;
    assert_eq!(step["steps"], 2);
    assert_eq!(step["activity"]["config"]["current"]["index"], 0);
    assert!(
        step["activity"]["config"]["current"]["correct"].is_null(),
        "no answer given away"
    );
    let seen = chrono::DateTime::parse_from_rfc3339(step["seen_at"].as_str().unwrap()).unwrap();
    let deadline = chrono::DateTime::parse_from_rfc3339(
        step["activity"]["config"]["current"]["deadline_at"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        (deadline - seen).num_seconds(),
        10,
        "the deadline runs from Ann's first sight"
    );
    assert!(
        step["own_results"].is_null(),
        "nothing to show before answering"
    );
    assert_eq!(
        app.vote(&ann, &quiz, json!({"question": 0, "choices": [1]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    let (status, body) =
        refused_with(&app, &ann, &quiz, json!({"question": 0, "choices": [2]})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_envelope(&body, "already_answered");
    opened(&app, &bob, &quiz, 0).await;
    assert_eq!(
        app.vote(&bob, &quiz, json!({"question": 0, "choices": [1]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    // Bob opened the second question eleven seconds ago: his time is up, Ann's is not.
    seen_ago(&app, &session, &bob, &quiz, 1, 11_000).await;
    let (status, body) =
        refused_with(&app, &bob, &quiz, json!({"question": 1, "choices": [1]})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["details"]["rule"], "time_up");
    opened(&app, &ann, &quiz, 1).await;
    assert_eq!(
        app.vote(&ann, &quiz, json!({"question": 1, "choices": [0]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );

    let scores = |results: &Value| -> Vec<(String, i64)> {
        results["leaderboard"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["nickname"].as_str().unwrap().to_owned(),
                    s["score"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let results = app.results(&host.token, &quiz).await;
    let board = scores(&results);
    assert_eq!(board[0].0, "Bob", "{board:?}");
    assert!(board[0].1 >= 990, "Bob answered at once: {board:?}");
    assert_eq!(board[1].0, "Ann");
    assert!(
        (740..=750).contains(&board[1].1),
        "Ann after five seconds of ten: {board:?}"
    );
    assert_eq!(results["players"], 2);

    // Going alone, each learns at once how their answer did, scored as the leaderboard
    // scores it: once answered, or once the time ran out.
    let feedback = |step: &Value| {
        let current = &step["activity"]["config"]["current"];
        assert_eq!(current["revealed"], true, "{step}");
        assert_eq!(current["correct"], json!([1]), "{step}");
        step["own_results"]["you"].clone()
    };
    let ann_first = feedback(&opened(&app, &ann, &quiz, 0).await);
    assert_eq!(ann_first["last"]["correct"], true);
    assert_eq!(ann_first["last"]["points"].as_i64(), Some(board[1].1));
    let ann_second = feedback(&opened(&app, &ann, &quiz, 1).await);
    assert_eq!(
        (
            &ann_second["last"]["correct"],
            &ann_second["last"]["points"]
        ),
        (&json!(false), &json!(0))
    );
    assert_eq!(ann_second["score"].as_i64(), Some(board[1].1));
    assert_eq!(ann_second["correct"], 1);
    let bob_second = feedback(&opened(&app, &bob, &quiz, 1).await);
    assert_eq!(bob_second["answered_current"], false);
    assert!(bob_second["last"].is_null(), "{bob_second}");
    assert_eq!(bob_second["score"].as_i64(), Some(board[0].1));

    // Progress: both are on the quiz; once Ann finishes, one is.
    let before = progress(&app, &host, &session).await;
    assert_eq!(
        (before["started"].as_i64(), before["finished"].as_i64()),
        (Some(2), Some(0))
    );
    assert_eq!(on_each(&before), [0, 2]);
    let done = app
        .call(
            Method::POST,
            "/api/v1/participants/me/finish",
            Some(&ann.token),
            None,
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    let after = progress(&app, &host, &session).await;
    assert_eq!(
        (after["started"].as_i64(), after["finished"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(after["activities"][1]["on"], 1);
    // The big screen reads the same with its viewer token; a phone may not.
    let viewer = app.viewer_token(&host, &session).await;
    assert_eq!(progress_with(&app, &viewer, &session).await, after);
    let refused = app
        .call(
            Method::GET,
            format!("/api/v1/sessions/{session}/progress"),
            Some(&bob.token),
            None,
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_envelope(&json(refused).await, "organizer_only");
    let other = self_paced_session(&app, &host, json!({})).await;
    let elsewhere = app
        .call(
            Method::GET,
            format!("/api/v1/sessions/{other}/progress?token={viewer}"),
            None,
            None,
        )
        .await;
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
    assert!(course(&app, &ann).await["finished_at"].is_string());
    assert_eq!(course(&app, &bob).await["current_activity_id"], quiz);

    // A restart reads the answers back with when each participant saw the question:
    // the same scores.
    let app = app.restart().await;
    assert_eq!(scores(&app.results(&host.token, &quiz).await), board);
    assert_eq!(
        opened(&app, &ann, &quiz, 1).await["own_results"]["you"]["score"].as_i64(),
        Some(board[1].1)
    );

    // The export carries each answer's time from the participant's own start.
    let export = json(
        app.call(
            Method::GET,
            format!("/api/v1/sessions/{session}/export.json"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    let ann_first: Vec<i64> = export["responses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["activity_id"] == quiz.as_str()
                && r["participant_id"] == ann.id.as_str()
                && r["slot"] == "q0"
        })
        .map(|r| r["answer_ms"].as_i64().unwrap())
        .collect();
    assert_eq!(ann_first.len(), 1);
    assert!((5000..6000).contains(&ann_first[0]), "{ann_first:?}");
}

async fn closing_and_opening_times_refuse_answers_and_switching_pace_works(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let session =
        self_paced_session(&app, &host, json!({"closes_at": "2099-01-01T00:00:00Z"})).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "Ready?", "options": ["yes", "no"]}),
            json!({}),
        )
        .await;
    let ann = app.join(&session, "Ann").await;
    opened(&app, &ann, &poll, 0).await;
    assert_eq!(
        app.vote(&ann, &poll, json!({"options": [0]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );

    // The closing time passes: answers and steps are refused with a clear error, and the
    // course says it is closed.
    let closes = chrono::Utc::now() - chrono::Duration::seconds(1);
    app.patch_session(&host, &session, json!({"hours": {"closes_at": closes}}))
        .await;
    let (status, body) = refused_with(&app, &ann, &poll, json!({"options": [1]})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(assert_envelope(&body, "session_closed").contains("closed"));
    assert!(body["error"]["details"]["closes_at"].is_string());
    let response = open_step(&app, &ann, &poll, 0).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_envelope(&json(response).await, "session_closed");
    assert_eq!(course(&app, &ann).await["opening"], "closed");
    assert_eq!(
        crate::helpers::counts(&app.results(&host.token, &poll).await),
        [1, 0]
    );

    // An opening time ahead: not open yet.
    let opens = chrono::Utc::now() + chrono::Duration::hours(1);
    app.patch_session(
        &host,
        &session,
        json!({"hours": {"opens_at": opens, "closes_at": null}}),
    )
    .await;
    let (status, body) = refused_with(&app, &ann, &poll, json!({"options": [1]})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_envelope(&body, "session_not_open");
    assert_eq!(course(&app, &ann).await["opening"], "not_yet_open");

    // Open again, then live: the presenter paces it, and only the running activity takes
    // answers; back to self-paced, every one does.
    app.patch_session(&host, &session, json!({"hours": {}}))
        .await;
    let live = app
        .patch_session(&host, &session, json!({"pace": "live"}))
        .await;
    assert_eq!(live["pace"], "live");
    let response = open_step(&app, &ann, &poll, 0).await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_envelope(&json(response).await, "session_not_active");
    let (status, body) = refused_with(&app, &ann, &poll, json!({"options": [1]})).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_envelope(&body, "activity_not_active");
    app.transition(&host, &poll, "active").await;
    assert_eq!(
        app.vote(&ann, &poll, json!({"options": [1]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    app.transition(&host, &poll, "closed").await;
    app.patch_session(&host, &session, json!({"pace": "self_paced"}))
        .await;
    assert_eq!(
        app.vote(&ann, &poll, json!({"options": [0]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        crate::helpers::counts(&app.results(&host.token, &poll).await),
        [1, 0]
    );
}

async fn hours_must_be_in_order(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let response = app
        .call(
            Method::POST,
            "/api/v1/sessions/",
            Some(&host.token),
            Some(json!({"title": "Backwards", "pace": "self_paced",
                "hours": {"opens_at": "2030-01-02T00:00:00Z", "closes_at": "2030-01-01T00:00:00Z"}})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(response).await;
    assert_envelope(&body, "invalid_field");
    assert_eq!(
        body["error"]["details"],
        json!({"field": "closes_at", "rule": "after", "params": {"other": "opens_at"}})
    );
    let response = app
        .call(
            Method::POST,
            "/api/v1/sessions/",
            Some(&host.token),
            Some(json!({"title": "Odd", "pace": "whenever"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Hours and teams are objects: the fields in an array are not taken for them.
    for body in [
        json!({"title": "Listed", "hours": [null, null]}),
        json!({"title": "Listed", "teams": [["Red", "Blue"], "auto", "sum"]}),
        json!({"title": "Listed", "settings": [true, true, true, []]}),
    ] {
        let response = app
            .call(
                Method::POST,
                "/api/v1/sessions/",
                Some(&host.token),
                Some(body.clone()),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        assert_envelope(&json(response).await, "invalid_body");
    }
}

async fn opening_a_step_again_keeps_its_time_and_moves_the_position(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let session = self_paced_session(&app, &host, json!({})).await;
    let (poll, quiz) = poll_and_quiz(&app, &host, &session).await;
    let ann = app.join(&session, "Ann").await;
    let first = opened(&app, &ann, &poll, 0).await["seen_at"].clone();
    opened(&app, &ann, &quiz, 0).await;
    assert_eq!(course(&app, &ann).await["current_activity_id"], quiz);
    // Back to the poll: its first time stays, and she is on the poll again.
    assert_eq!(opened(&app, &ann, &poll, 0).await["seen_at"], first);
    assert_eq!(course(&app, &ann).await["current_activity_id"], poll);
    assert_eq!(opened(&app, &ann, &poll, 0).await["seen_at"], first);
    assert_eq!(on_each(&progress(&app, &host, &session).await), [1, 0]);
}
