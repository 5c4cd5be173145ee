//! A whole round of each kind beyond the poll, through the HTTP API with several
//! participants: exact results, and what each role sees.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::helpers::{TestApp, assert_envelope, json};

async fn activity(
    app: &TestApp,
    host: &crate::helpers::Host,
    session: &str,
    kind: &str,
    config: serde_json::Value,
    extra: serde_json::Value,
) -> String {
    let mut body = json!({"kind": kind, "title": kind, "config": config});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let response = app
        .call(
            Method::POST,
            format!("/api/v1/sessions/{session}/activities"),
            Some(&host.token),
            Some(body),
        )
        .await;
    let status = response.status();
    let body = json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    app.transition(host, &id, "published").await;
    app.transition(host, &id, "active").await;
    id
}

both_backends! {
    async fn a_rating_round_gives_distribution_mean_and_median(db) {
        let app = TestApp::spawn(db).await;
        let host = app.host("ada@example.org", false).await;
        let (session, _) = app.open_session(&host, None).await;
        let rating = activity(&app, &host, &session, "rating",
            json!({"question": "How was the talk?", "min": 1, "max": 5, "labels": ["bad", "", "ok", "", "great"]}), json!({})).await;
        let guests = futures_util::future::join_all((0..5).map(|n| app.join(&session, format!("r{n}")))).await;
        for (guest, value) in guests.iter().zip([5, 4, 4, 2, 1]) {
            assert_eq!(app.vote(guest, &rating, json!({"value": value}), None).await.status(), StatusCode::CREATED);
        }
        // A changed rating replaces the old one.
        app.vote(&guests[4], &rating, json!({"value": 3}), None).await;
        let off_scale = app.vote(&guests[0], &rating, json!({"value": 6}), None).await;
        assert_eq!(off_scale.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_envelope(&json(off_scale).await, "invalid_answer");

        let results = app.results(&host.token, &rating).await;
        assert_eq!(results["total_voters"], 5);
        let counts: Vec<u64> = results["distribution"].as_array().unwrap().iter().map(|d| d["count"].as_u64().unwrap()).collect();
        assert_eq!(counts, [0, 1, 1, 2, 1]);
        assert_eq!(results["distribution"][4]["label"], "great");
        assert_eq!(results["mean"], 3.6);
        assert_eq!(results["median"], 4.0);
        assert_eq!(app.results(&guests[0].token, &rating).await["mean"], 3.6, "live results: participants see them too");
    }

    async fn a_word_cloud_round_normalises_and_counts_people_per_word(db) {
        let app = TestApp::spawn(db).await;
        let host = app.host("ada@example.org", false).await;
        let (session, _) = app.open_session(&host, None).await;
        let cloud = activity(&app, &host, &session, "word_cloud",
            json!({"prompt": "One word for this year?", "max_words": 3}), json!({"results_visibility": "hidden"})).await;
        let guests = futures_util::future::join_all((0..4).map(|n| app.join(&session, format!("w{n}")))).await;
        let submissions = [
            json!(["Rust!", "the", "Speed"]),
            json!(["rust", "RUST"]),
            json!(["Geschwindigkeit", "und", "rust"]),
            json!(["speed"]),
        ];
        for (guest, words) in guests.iter().zip(submissions) {
            let response = app.vote(guest, &cloud, json!({"words": words}), None).await;
            assert_eq!(response.status(), StatusCode::CREATED);
        }
        let stopwords_only = app.vote(&guests[0], &cloud, json!({"words": ["the", "and"]}), None).await;
        assert_eq!(stopwords_only.status(), StatusCode::UNPROCESSABLE_ENTITY, "nothing usable: refused, old words kept");

        let results = app.results(&host.token, &cloud).await;
        assert_eq!(results["total_people"], 4);
        let words: Vec<(String, u64)> = results["words"].as_array().unwrap().iter()
            .map(|w| (w["word"].as_str().unwrap().to_owned(), w["count"].as_u64().unwrap()))
            .collect();
        assert_eq!(words, [("rust".to_owned(), 3), ("speed".to_owned(), 2), ("geschwindigkeit".to_owned(), 1)]);
        assert_eq!(results["words"][0]["weight"], 1.0);

        // Hidden until revealed, for participants as for everyone but the organizer.
        let hidden = app.call(Method::GET, format!("/api/v1/activities/{cloud}/results"), Some(&guests[1].token), None).await;
        assert_eq!(hidden.status(), StatusCode::FORBIDDEN);
        app.call(Method::POST, format!("/api/v1/activities/{cloud}/commands/reveal"), Some(&host.token), None).await;
        assert_eq!(app.results(&guests[1].token, &cloud).await["total_people"], 4);
    }
}

#[tokio::test]
async fn every_kind_serves_schemas_that_accept_its_example() {
    let app = TestApp::spawn(crate::common::TestDb::sqlite().await).await;
    let kinds = json(app.get("/api/v1/activities/types").await).await;
    let names: Vec<&str> = kinds["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    for expected in ["poll", "rating", "word_cloud"] {
        assert!(
            names.contains(&expected),
            "{expected} is registered: {names:?}"
        );
    }
    let examples = [
        ("poll", json!({"question": "q", "options": ["a", "b"]})),
        ("rating", json!({"question": "q", "min": 0, "max": 10})),
        (
            "word_cloud",
            json!({"prompt": "p", "stopwords": "de", "phrases": true}),
        ),
    ];
    for (kind, example) in examples {
        let schema = json(
            app.get(&format!("/api/v1/activities/types/{kind}/schema"))
                .await,
        )
        .await;
        let validator = jsonschema::validator_for(&schema["config_schema"]).unwrap();
        assert!(validator.is_valid(&example), "{kind}: {example}");
    }
}
