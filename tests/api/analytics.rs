//! Analytics over HTTP: one session's attendance, participation, time to answer, reactions
//! and questions; the organizer's history; two runs of one template side by side; and the
//! CSV tables of each.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{Guest, Host, TestApp, assert_envelope, json};

async fn get(app: &TestApp, host: &Host, path: &str) -> Value {
    let response = app.call(Method::GET, path, Some(&host.token), None).await;
    let status = response.status();
    let body = json(response).await;
    assert_eq!(status, StatusCode::OK, "{path}: {body}");
    body
}

async fn csv(app: &TestApp, host: &Host, path: &str) -> Vec<Vec<String>> {
    let response = app.call(Method::GET, path, Some(&host.token), None).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = response.text().await.unwrap();
    let text = text
        .strip_prefix('\u{feff}')
        .expect("every CSV download starts with a byte-order mark");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes());
    reader
        .records()
        .map(|row| row.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

both_backends!(
    a_session_s_analytics_count_attendance_participation_and_answers,
    the_history_and_two_runs_of_one_template_version
);

async fn a_session_s_analytics_count_attendance_participation_and_answers(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let people = [
        app.join(&session, "ann").await,
        app.join(&session, "bob").await,
        app.join(&session, "cat").await,
    ];
    app.run_activity(
        &host,
        &session,
        "poll",
        "poll",
        json!({"question": "Lunch?", "options": ["Pizza", "Salad"]}),
        &[
            (&people[0], json!({"options": [0]})),
            (&people[1], json!({"options": [1]})),
        ],
    )
    .await;
    app.run_activity(
        &host,
        &session,
        "word_cloud",
        "word_cloud",
        json!({"prompt": "One word"}),
        &[(&people[2], json!({"words": ["calm"]}))],
    )
    .await;
    let qna = app
        .run_activity(&host, &session, "qna", "qna", json!({"topic": "AMA"}), &[])
        .await;
    app.transition(&host, &qna, "active").await;
    let asked = json(
        app.vote(
            &people[0],
            &qna,
            json!({"ask": {"text": "Why Rust?"}}),
            None,
        )
        .await,
    )
    .await;
    let question = asked["answer"]["ask"]["id"].as_str().unwrap();
    assert!(
        app.vote(&people[1], &qna, json!({"upvote": question}), None)
            .await
            .status()
            .is_success()
    );
    app.transition(&host, &qna, "closed").await;
    for guest in &people {
        let response = app
            .call(
                Method::POST,
                format!("/api/v1/sessions/{session}/reactions"),
                Some(&guest.token),
                Some(json!({"emoji": "clap"})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    // Reactions are stored a quarter second later.
    let mut analytics = Value::Null;
    for _ in 0..50 {
        analytics = get(
            &app,
            &host,
            &format!("/api/v1/sessions/{session}/analytics"),
        )
        .await;
        if analytics["reactions"][0]["count"] == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        analytics["reactions"],
        json!([{"emoji": "clap", "count": 3}]),
        "{analytics}"
    );
    assert_eq!(analytics["participants"], 3);
    assert_eq!(analytics["peak_concurrent"], 3);
    assert!(analytics["average_concurrent"].as_f64().unwrap() > 0.0);
    assert_eq!(
        analytics["engagement_rate"], 100.0,
        "everyone answered something"
    );
    assert_eq!(analytics["bucket_seconds"], 60);
    let timeline = analytics["timeline"].as_array().unwrap();
    let sum = |field: &str| {
        timeline
            .iter()
            .map(|b| b[field].as_u64().unwrap())
            .sum::<u64>()
    };
    assert_eq!(sum("joined"), 3);
    assert_eq!(timeline.last().unwrap()["joined_total"], 3);
    assert_eq!(
        sum("answers"),
        5,
        "two votes, one word list, a question and an upvote"
    );
    assert_eq!(sum("reactions"), 3);
    let poll = &analytics["activities"][0];
    assert_eq!(
        (
            poll["kind"].as_str(),
            poll["respondents"].as_u64(),
            poll["answers"].as_u64()
        ),
        (Some("poll"), Some(2), Some(2))
    );
    assert_eq!(poll["participation_rate"], 66.7);
    assert_eq!(poll["rounds"], 1);
    assert_eq!(poll["time_to_answer"]["count"], 2);
    assert!(poll["time_to_answer"]["median_ms"].as_i64().unwrap() >= 0);
    assert_eq!(analytics["activities"][1]["participation_rate"], 33.3);
    assert_eq!(analytics["questions"].as_array().unwrap().len(), 1);
    assert_eq!(analytics["questions"][0]["text"], "Why Rust?");
    assert_eq!(analytics["questions"][0]["votes"], 1);

    let rows = csv(
        &app,
        &host,
        &format!("/api/v1/sessions/{session}/analytics/timeline.csv"),
    )
    .await;
    assert_eq!(
        rows[0],
        [
            "at",
            "joined",
            "joined_total",
            "present",
            "answers",
            "reactions"
        ]
    );
    assert_eq!(rows.len(), timeline.len() + 1);
    let rows = csv(
        &app,
        &host,
        &format!("/api/v1/sessions/{session}/analytics/activities.csv"),
    )
    .await;
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[1][2..6], ["poll", "poll", "1", "2"]);
    let rows = csv(
        &app,
        &host,
        &format!("/api/v1/sessions/{session}/analytics/questions.csv"),
    )
    .await;
    assert_eq!(rows[1][1], "Why Rust?");
    let response = app
        .call(
            Method::GET,
            format!("/api/v1/sessions/{session}/analytics/secrets.csv"),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_envelope(&json(response).await, "not_found");
    let other = app.host("bob@example.org", false).await;
    let response = app
        .call(
            Method::GET,
            format!("/api/v1/sessions/{session}/analytics"),
            Some(&other.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "only the owner");
}

async fn the_history_and_two_runs_of_one_template_version(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let draft = app.session(&host, json!({"title": "Retro"})).await;
    let draft_id = draft["id"].as_str().unwrap();
    for (kind, config) in [
        (
            "poll",
            json!({"question": "Mood?", "options": ["Good", "Bad"]}),
        ),
        ("word_cloud", json!({"prompt": "One word"})),
    ] {
        let response = app
            .call(
                Method::POST,
                format!("/api/v1/sessions/{draft_id}/activities"),
                Some(&host.token),
                Some(json!({"kind": kind, "title": kind, "config": config})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    let template = json(
        app.call(
            Method::POST,
            "/api/v1/templates/",
            Some(&host.token),
            Some(json!({"name": "Retro", "session_id": draft_id})),
        )
        .await,
    )
    .await;
    let tid = template["id"].as_str().unwrap().to_owned();
    let mut runs = Vec::new();
    for (title, voters) in [("Retro, March", 1), ("Retro, April", 3)] {
        let made = json(
            app.call(
                Method::POST,
                format!("/api/v1/templates/{tid}/sessions"),
                Some(&host.token),
                Some(json!({"title": title})),
            )
            .await,
        )
        .await;
        let id = made["id"].as_str().unwrap().to_owned();
        let response = app
            .call(
                Method::PATCH,
                format!("/api/v1/sessions/{id}"),
                Some(&host.token),
                Some(json!({"status": "active"})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
        let mut people = Vec::new();
        for n in 0..4 {
            people.push(app.join(&id, format!("guest {n}")).await);
        }
        let activities = json(
            app.call(
                Method::GET,
                format!("/api/v1/sessions/{id}/activities"),
                Some(&host.token),
                None,
            )
            .await,
        )
        .await;
        let poll = activities["items"][0]["id"].as_str().unwrap().to_owned();
        let votes: Vec<(&Guest, Value)> = people
            .iter()
            .take(voters)
            .map(|g| (g, json!({"options": [0]})))
            .collect();
        app.run_round(&host, &poll, &votes).await;
        app.complete(&host, &id).await;
        runs.push(id);
    }

    let history = get(&app, &host, "/api/v1/analytics/sessions").await;
    let titles: Vec<&str> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        ["Retro", "Retro, March", "Retro, April"],
        "oldest first"
    );
    let april = &history["items"][2];
    assert_eq!(
        (
            april["participants"].as_i64(),
            april["respondents"].as_i64(),
            april["answers"].as_i64()
        ),
        (Some(4), Some(3), Some(3))
    );
    assert_eq!(april["engagement_rate"], 75.0);
    assert_eq!(april["activities_run"], 1);
    assert_eq!(april["template"]["version"], 1);
    let rows = csv(&app, &host, "/api/v1/analytics/sessions.csv").await;
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[3][1], "Retro, April");
    assert_eq!(rows[3][9], "75");

    let path = format!("/api/v1/analytics/compare?a={}&b={}", runs[0], runs[1]);
    let comparison = get(&app, &host, &path).await;
    assert_eq!(comparison["same_template_version"], true);
    let rows = comparison["activities"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "matched by key: {comparison}");
    assert_eq!(
        (
            rows[0]["a"]["respondents"].as_u64(),
            rows[0]["b"]["respondents"].as_u64()
        ),
        (Some(1), Some(3))
    );
    assert_eq!(rows[0]["a"]["key"], rows[0]["b"]["key"]);
    assert_eq!(rows[1]["a"]["rounds"], 0, "the word cloud never ran");
    let table = csv(&app, &host, &path.replace("/compare?", "/compare.csv?")).await;
    assert_eq!(&table[0][3..5], ["a_rounds", "a_respondents"]);
    assert_eq!(table[1][4], "1");
    assert_eq!(table[1][10], "3");

    let other = app.host("bob@example.org", false).await;
    let response = app.call(Method::GET, &path, Some(&other.token), None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(
        get(&app, &other, "/api/v1/analytics/sessions").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let response = app
        .call(
            Method::GET,
            "/api/v1/analytics/compare?a=nope&b=x",
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}
