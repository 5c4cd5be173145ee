//! Retention: a completed session's nicknames and free text are removed (by its organizer
//! or by the sweep after `RETENTION_DAYS`), and every count stays.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{Host, TestApp, assert_envelope, json};

async fn get(app: &TestApp, host: &Host, path: &str) -> Value {
    let response = app.call(Method::GET, path, Some(&host.token), None).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    json(response).await
}

async fn export(app: &TestApp, host: &Host, session: &str) -> String {
    let response = app
        .call(
            Method::GET,
            format!("/api/v1/sessions/{session}/export.csv"),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// A completed session with a poll, a word cloud, open text and a Q&A, and its guests.
async fn finished_event(app: &TestApp, host: &Host) -> String {
    let (session, _) = app.open_session(host, None).await;
    let ann = app.join(&session, "Annika Example").await;
    let bob = app.join(&session, "Bob Sample").await;
    let cat = app.join(&session, "Cat Person").await;
    app.run_activity(
        host,
        &session,
        "poll",
        "poll",
        json!({"question": "Lunch?", "options": ["Pizza", "Salad"]}),
        &[
            (&ann, json!({"options": [0]})),
            (&bob, json!({"options": [1]})),
            (&cat, json!({"options": [1]})),
        ],
    )
    .await;
    app.run_activity(
        host,
        &session,
        "word_cloud",
        "word_cloud",
        json!({"prompt": "One word"}),
        &[
            (&ann, json!({"words": ["brilliant", "tiring"]})),
            (&bob, json!({"words": ["brilliant"]})),
        ],
    )
    .await;
    app.run_activity(
        host,
        &session,
        "open_text",
        "open_text",
        json!({"prompt": "Ideas?"}),
        &[(&cat, json!({"text": "Call me on 0171 555 0100"}))],
    )
    .await;
    let qna_id = {
        let response = app
            .call(
                Method::POST,
                format!("/api/v1/sessions/{session}/activities"),
                Some(&host.token),
                Some(json!({"kind": "qna", "title": "Ask", "config": {"topic": "AMA"}})),
            )
            .await;
        let id = json(response).await["id"].as_str().unwrap().to_owned();
        app.transition(host, &id, "published").await;
        app.transition(host, &id, "active").await;
        let asked = json(
            app.vote(
                &ann,
                &id,
                json!({"ask": {"text": "Is Annika getting promoted?"}}),
                None,
            )
            .await,
        )
        .await;
        let question = asked["answer"]["ask"]["id"].as_str().unwrap().to_owned();
        for voter in [&bob, &cat] {
            assert!(
                app.vote(voter, &id, json!({"upvote": question}), None)
                    .await
                    .status()
                    .is_success()
            );
        }
        app.transition(host, &id, "closed").await;
        id
    };
    assert!(!qna_id.is_empty());
    app.complete(host, &session).await;
    session
}

/// The counts of a summary: per activity, its respondents and the numbers in its results
/// (for a word cloud, people and words: which words, and how often, is content).
fn counts(summary: &Value) -> Vec<(String, Value)> {
    fn numbers(value: &Value, out: &mut Vec<Value>) {
        match value {
            Value::Number(_) => out.push(value.clone()),
            Value::Array(items) => items.iter().for_each(|v| numbers(v, out)),
            Value::Object(map) => map.values().for_each(|v| numbers(v, out)),
            _ => {}
        }
    }
    summary["activities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|activity| {
            let mut out = Vec::new();
            if activity["kind"] == "word_cloud" {
                let round = &activity["rounds"][0];
                out.extend([
                    round["respondents"].clone(),
                    round["results"]["total_people"].clone(),
                    round["results"]["total_words"].clone(),
                ]);
                assert_eq!(round["results"]["total_words"], 3, "{round}");
            } else {
                numbers(&activity["rounds"], &mut out);
            }
            (
                activity["kind"].as_str().unwrap().to_owned(),
                Value::Array(out),
            )
        })
        .collect()
}

both_backends!(
    anonymizing_removes_every_name_and_text_and_keeps_every_count,
    the_retention_sweep_takes_only_sessions_completed_before_the_period
);

async fn anonymizing_removes_every_name_and_text_and_keeps_every_count(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (running, _) = app.open_session(&host, None).await;
    let response = app
        .call(
            Method::POST,
            format!("/api/v1/sessions/{running}/anonymize"),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_envelope(&json(response).await, "session_not_completed");

    let session = finished_event(&app, &host).await;
    let before = get(&app, &host, &format!("/api/v1/sessions/{session}/summary")).await;
    let csv_before = export(&app, &host, &session).await;
    for text in ["Annika Example", "brilliant", "0171 555 0100", "promoted"] {
        assert!(csv_before.contains(text), "the export has {text} before");
    }

    let response = app
        .call(
            Method::POST,
            format!("/api/v1/sessions/{session}/anonymize"),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let anonymized = json(response).await;
    let at = anonymized["anonymized_at"]
        .as_str()
        .expect("anonymized_at is set")
        .to_owned();

    let after = get(&app, &host, &format!("/api/v1/sessions/{session}/summary")).await;
    assert_eq!(counts(&after), counts(&before), "every count stays");
    assert_eq!(after["participants"], before["participants"]);
    let everything = format!(
        "{}{}{}",
        export(&app, &host, &session).await,
        after,
        get(
            &app,
            &host,
            &format!("/api/v1/sessions/{session}/export.json")
        )
        .await
    );
    // Whole phrases: a bare "0171" can turn up inside an id or a timestamp.
    for text in [
        "Annika",
        "Bob Sample",
        "Cat Person",
        "brilliant",
        "tiring",
        "0171 555 0100",
        "promoted",
    ] {
        assert!(
            !everything.contains(text),
            "{text} is gone from the export and summary"
        );
    }
    assert!(everything.contains("[removed]"));
    let participants = get(
        &app,
        &host,
        &format!("/api/v1/sessions/{session}/participants"),
    )
    .await;
    let names: Vec<&str> = participants["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["nickname"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Participant 1", "Participant 2", "Participant 3"],
        "in join order"
    );

    // Again: nothing changes.
    let again = json(
        app.call(
            Method::POST,
            format!("/api/v1/sessions/{session}/anonymize"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(again["anonymized_at"], at.as_str());
    let other = app.host("bob@example.org", false).await;
    let response = app
        .call(
            Method::POST,
            format!("/api/v1/sessions/{session}/anonymize"),
            Some(&other.token),
            None,
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "only the owner");
}

async fn the_retention_sweep_takes_only_sessions_completed_before_the_period(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let finished = finished_event(&app, &host).await;
    let (running, _) = app.open_session(&host, None).await;
    let guest = app.join(&running, "Still Here").await;
    let store = app.state.store.as_ref();
    let month = std::time::Duration::from_secs(30 * 86_400);
    let sweep = |now| {
        conflicto::sessions::retention::sweep(
            store,
            &app.state.registry,
            &app.state.live.tallies,
            month,
            now,
        )
    };
    let now = chrono::Utc::now();
    assert_eq!(sweep(now).await.unwrap(), 0, "completed minutes ago: kept");
    assert_eq!(sweep(now + chrono::Duration::days(31)).await.unwrap(), 1);
    assert_eq!(
        sweep(now + chrono::Duration::days(31)).await.unwrap(),
        0,
        "done once"
    );
    let done = get(&app, &host, &format!("/api/v1/sessions/{finished}")).await;
    assert!(done["anonymized_at"].is_string());
    let open = get(&app, &host, &format!("/api/v1/sessions/{running}")).await;
    assert!(
        open["anonymized_at"].is_null(),
        "an open session is never swept"
    );
    let participants = get(
        &app,
        &host,
        &format!("/api/v1/sessions/{running}/participants"),
    )
    .await;
    assert_eq!(
        participants["items"][0]["nickname"],
        guest.nickname.as_str()
    );
}
