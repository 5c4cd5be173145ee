//! Teams through the HTTP API: picked at join or dealt out by the server, and the team race
//! of a quiz and a buzzer, by sum and by average, hidden from the room until answers are
//! revealed and the same after a restart.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{Guest, Host, TestApp, assert_envelope, json};

both_backends!(
    picked_teams_race_in_a_quiz_and_a_buzzer,
    dealt_teams_stay_even_and_picks_are_checked,
    team_names_are_checked
);

async fn open_with_teams(app: &TestApp, host: &Host, teams: Value) -> (String, String) {
    let session = app
        .session(host, json!({"title": "Quiz night", "teams": teams}))
        .await;
    let id = session["id"].as_str().unwrap().to_owned();
    app.patch_session(host, &id, json!({"status": "active"}))
        .await;
    (id, session["join_code"].as_str().unwrap().to_owned())
}

/// Joins with a team pick; the response and its status.
async fn join(
    app: &TestApp,
    session: &str,
    nickname: &str,
    team: Option<u32>,
) -> (StatusCode, Value) {
    let mut body = json!({"nickname": nickname});
    if let Some(team) = team {
        body["team"] = team.into();
    }
    let response = app
        .call(
            Method::POST,
            format!("/api/v1/sessions/{session}/join"),
            None,
            Some(body),
        )
        .await;
    let status = response.status();
    (status, json(response).await)
}

async fn guest(app: &TestApp, session: &str, nickname: &str, team: Option<u32>) -> Guest {
    let (status, body) = join(app, session, nickname, team).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    Guest {
        token: body["token"].as_str().unwrap().to_owned(),
        id: body["participant_id"].as_str().unwrap().to_owned(),
        nickname: body["nickname"].as_str().unwrap().to_owned(),
    }
}

/// (team, score, players, average, rank by sum, rank by average) per team.
fn race(results: &Value) -> Vec<(u64, i64, u64, i64, u64, u64)> {
    results["teams"]
        .as_array()
        .unwrap_or_else(|| panic!("no teams in {results}"))
        .iter()
        .map(|t| {
            (
                t["team"].as_u64().unwrap(),
                t["score"].as_i64().unwrap(),
                t["players"].as_u64().unwrap(),
                t["average"].as_i64().unwrap(),
                t["rank_sum"].as_u64().unwrap(),
                t["rank_average"].as_u64().unwrap(),
            )
        })
        .collect()
}

async fn picked_teams_race_in_a_quiz_and_a_buzzer(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, code) = open_with_teams(
        &app,
        &host,
        json!({"names": [" Red ", "Blue"], "assign": "choose", "scoring": "average"}),
    )
    .await;
    let public = json(app.get(&format!("/api/v1/sessions/code/{code}")).await).await;
    assert_eq!(
        public["teams"],
        json!({"names": ["Red", "Blue"], "assign": "choose", "scoring": "average"})
    );

    // A pick is needed, and must name a team.
    let (status, body) = join(&app, &session, "Nobody", None).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_envelope(&body, "invalid_field");
    assert_eq!(body["error"]["details"]["field"], "team");
    assert_eq!(body["error"]["details"]["rule"], "required");
    let (status, body) = join(&app, &session, "Nobody", Some(2)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"]["details"],
        json!({"field": "team", "rule": "index", "params": {"count": 2}})
    );
    let ann = guest(&app, &session, "Ann", Some(0)).await;
    let bob = guest(&app, &session, "Bob", Some(0)).await;
    let cat = guest(&app, &session, "Cat", Some(1)).await;
    // Coming back with the token keeps the team.
    let (status, back) = {
        let response = app
            .call(
                Method::POST,
                format!("/api/v1/sessions/{session}/join"),
                None,
                Some(json!({"token": cat.token})),
            )
            .await;
        let status = response.status();
        (status, json(response).await)
    };
    assert_eq!(status, StatusCode::OK);
    assert_eq!(back["team"], 1);

    // A quiz: Ann and Cat right, Bob wrong. Red has 1000 over two players, Blue 1000 over
    // one: Red leads by sum, Blue by average.
    let question =
        json!({"question": "2 + 2?", "choices": ["3", "4"], "correct": [1], "points": 1000});
    let quiz = app
        .activity(
            &host,
            &session,
            "quiz",
            json!({"questions": [question], "scoring": "correctness"}),
            json!({}),
        )
        .await;
    app.transition(&host, &quiz, "active").await;
    app.command(&host, &quiz, "next", json!({})).await;
    for (who, choice) in [(&ann, 1), (&bob, 0), (&cat, 1)] {
        let response = app
            .vote(
                who,
                &quiz,
                json!({"question": 0, "choices": [choice]}),
                None,
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let expected = vec![(0, 1000, 2, 500, 1, 2), (1, 1000, 1, 1000, 1, 1)];
    assert_eq!(race(&app.results(&host.token, &quiz).await), expected);
    // The room sees no team points before the answer is revealed.
    assert_eq!(app.results(&ann.token, &quiz).await["teams"], json!([]));
    app.command(&host, &quiz, "reveal_answer", json!({})).await;
    assert_eq!(race(&app.results(&ann.token, &quiz).await), expected);

    // A buzzer: Ann right (3 points), Cat wrong (−1).
    let buzzer = app
        .activity(
            &host,
            &session,
            "buzzer",
            json!({"points_right": 3, "points_wrong": -1}),
            json!({}),
        )
        .await;
    app.transition(&host, &quiz, "closed").await;
    app.transition(&host, &buzzer, "active").await;
    app.command(&host, &buzzer, "arm", json!({})).await;
    for who in [&ann, &cat] {
        let response = app.vote(who, &buzzer, json!({"question": 1}), None).await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    app.command(
        &host,
        &buzzer,
        "judge",
        json!({"participant_id": ann.id, "correct": true}),
    )
    .await;
    app.command(
        &host,
        &buzzer,
        "judge",
        json!({"participant_id": cat.id, "correct": false}),
    )
    .await;
    let buzzed = vec![(0, 3, 1, 3, 1, 1), (1, -1, 1, -1, 2, 2)];
    assert_eq!(race(&app.results(&host.token, &buzzer).await), buzzed);

    // After a restart the answers are read back with their authors' teams.
    let app = app.restart().await;
    assert_eq!(race(&app.results(&host.token, &quiz).await), expected);
    assert_eq!(race(&app.results(&host.token, &buzzer).await), buzzed);
    let _ = bob;
}

async fn dealt_teams_stay_even_and_picks_are_checked(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = open_with_teams(
        &app,
        &host,
        json!({"names": ["North", "South", "East"], "assign": "auto"}),
    )
    .await;
    let mut dealt = Vec::new();
    for n in 0..6 {
        let (status, body) = join(&app, &session, &format!("P{n}"), None).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        dealt.push(body["team"].as_u64().unwrap());
    }
    dealt.sort_unstable();
    assert_eq!(dealt, [0, 0, 1, 1, 2, 2]);
    let (status, body) = join(&app, &session, "Picky", Some(1)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"]["rule"], "server_set");

    // Without teams, a pick is refused rather than ignored.
    let (plain, _) = app.open_session(&host, None).await;
    let (status, body) = join(&app, &plain, "Solo", Some(0)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"]["rule"], "turned_off");
    let (status, body) = join(&app, &plain, "Solo", None).await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(body["team"].is_null());
}

async fn team_names_are_checked(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    for (teams, rule) in [
        (json!({"names": ["Alone"]}), "count"),
        (json!({"names": ["Red", "Red"]}), "distinct"),
        (json!({"names": ["Red", ""]}), "length"),
    ] {
        let response = app
            .call(
                Method::POST,
                "/api/v1/sessions/",
                Some(&host.token),
                Some(json!({"title": "Teams", "teams": teams})),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{teams}"
        );
        let body = json(response).await;
        assert_eq!(body["error"]["details"]["rule"], rule, "{body}");
    }
    let session = app
        .session(
            &host,
            json!({"title": "Teams", "teams": {"names": ["A", "B"]}}),
        )
        .await;
    assert_eq!(session["teams"]["assign"], "choose");
    assert_eq!(session["teams"]["scoring"], "sum");
    let id = session["id"].as_str().unwrap();
    let cleared = app
        .patch_session(&host, id, json!({"teams": {"names": []}}))
        .await;
    assert!(cleared["teams"].is_null());
}
