//! A whole round of each kind beyond the poll, through the HTTP API with several
//! participants: exact results, and what each role sees.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{Guest, Host, TestApp, assert_envelope, json};

async fn activity(
    app: &TestApp,
    host: &crate::helpers::Host,
    session: &str,
    kind: &str,
    config: serde_json::Value,
    extra: serde_json::Value,
) -> String {
    let id = app.activity(host, session, kind, config, extra).await;
    app.transition(host, &id, "active").await;
    id
}

/// Reads `stream` until the results document it followed (deltas applied) equals the one a
/// fresh stream of the same caller starts with, on `app`, within ten seconds.
async fn follows_to_the_snapshot(
    stream: &mut crate::helpers::Stream,
    app: &TestApp,
    session: &str,
    token: &str,
    who: &str,
) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        while stream
            .next(std::time::Duration::from_millis(300))
            .await
            .is_some()
        {}
        let mut fresh = app.stream(session, token).await;
        let snapshot = fresh
            .wait_for("snapshot", std::time::Duration::from_secs(5), |_| true)
            .await;
        let followed = stream.follower.doc.clone().unwrap_or_default();
        if snapshot.data["results"] == followed && !followed.is_null() {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{who}: followed {followed}\nbut a fresh snapshot has {}\nafter {:?}",
            snapshot.data["results"],
            stream
                .seen
                .iter()
                .map(|e| format!(
                    "{} {}",
                    e.event,
                    e.data.to_string().chars().take(300).collect::<String>()
                ))
                .collect::<Vec<_>>()
        );
    }
}

/// [`follows_to_the_snapshot`] for each stream: (stream, its instance, its token, who).
async fn every_copy_matches(
    streams: &mut [(&mut crate::helpers::Stream, &TestApp, &str, &str)],
    session: &str,
) {
    for (stream, on, token, who) in streams.iter_mut() {
        follows_to_the_snapshot(stream, on, session, token, who).await;
    }
}

both_backends!(
    a_ranking_round_gives_borda_scores_and_positions,
    a_scales_round_gives_each_statement_its_figures,
    a_points_round_gives_mean_allocations,
    a_rating_round_gives_distribution_mean_and_median,
    a_word_cloud_round_normalises_and_counts_people_per_word,
    refused_host_commands_name_their_rule
);

/// A refused host command says which rule it broke and where, like any validation error,
/// so the run view can say it in the organizer's language.
async fn refused_host_commands_name_their_rule(db: TestDb) {
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
    for (name, args, details) in [
        (
            "dance",
            json!({}),
            json!({"field": "command", "rule": "one_of", "params": {"allowed": ["lock", "unlock"]}}),
        ),
        (
            "add_time",
            json!({"seconds": 0}),
            json!({"field": "args.seconds", "rule": "range", "params": {"min": 1, "max": 3600}}),
        ),
        (
            "add_time",
            json!({"seconds": 30}),
            json!({"field": "", "rule": "no_time_limit", "params": {}}),
        ),
        (
            "add_time",
            json!({}),
            json!({"field": "args.seconds", "rule": "required", "params": {}}),
        ),
    ] {
        let refused = app
            .call(
                Method::POST,
                format!("/api/v1/activities/{poll}/commands/{name}"),
                Some(&host.token),
                Some(args.clone()),
            )
            .await;
        assert_eq!(
            refused.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name} {args}"
        );
        let body = json(refused).await;
        assert_envelope(&body, "invalid_command");
        assert_eq!(body["error"]["details"], details, "{name} {args}");
    }
}

async fn a_rating_round_gives_distribution_mean_and_median(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let rating = activity(&app, &host, &session, "rating",
        json!({"question": "How was the talk?", "min": 1, "max": 5, "labels": ["bad", "", "ok", "", "great"]}), json!({})).await;
    let guests =
        futures_util::future::join_all((0..5).map(|n| app.join(&session, format!("r{n}")))).await;
    for (guest, value) in guests.iter().zip([5, 4, 4, 2, 1]) {
        assert_eq!(
            app.vote(guest, &rating, json!({"value": value}), None)
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    // A changed rating replaces the old one.
    app.vote(&guests[4], &rating, json!({"value": 3}), None)
        .await;
    let off_scale = app
        .vote(&guests[0], &rating, json!({"value": 6}), None)
        .await;
    assert_eq!(off_scale.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_envelope(&json(off_scale).await, "invalid_answer");

    let results = app.results(&host.token, &rating).await;
    assert_eq!(results["total_voters"], 5);
    let counts: Vec<u64> = results["distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [0, 1, 1, 2, 1]);
    assert_eq!(results["distribution"][4]["label"], "great");
    assert_eq!(results["mean"], 3.6);
    assert_eq!(results["median"], 4.0);
    assert_eq!(
        app.results(&guests[0].token, &rating).await["mean"],
        3.6,
        "live results: participants see them too"
    );
}

/// An answer refused with `rule` at `field`.
async fn refused(
    app: &TestApp,
    guest: &Guest,
    activity: &str,
    answer: serde_json::Value,
) -> serde_json::Value {
    let response = app.vote(guest, activity, answer.clone(), None).await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "{answer}"
    );
    let body = json(response).await;
    assert_envelope(&body, "invalid_answer");
    body["error"]["details"].clone()
}

/// The CSV export's column `name`, one cell per answer row of `kind`.
async fn export_column(
    app: &TestApp,
    host: &Host,
    session: &str,
    kind: &str,
    name: &str,
) -> Vec<String> {
    let csv = app
        .call(
            Method::GET,
            &format!("/api/v1/sessions/{session}/export.csv"),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    let bytes = csv.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header = reader.headers().unwrap().clone();
    let at = |n: &str| {
        header
            .iter()
            .position(|h| h == n)
            .unwrap_or_else(|| panic!("{n} in {header:?}"))
    };
    let (kind_at, column) = (at("kind"), at(name));
    let mut cells: Vec<String> = reader
        .records()
        .map(Result::unwrap)
        .filter(|row| &row[kind_at] == kind)
        .map(|row| row[column].to_owned())
        .collect();
    cells.sort();
    cells
}

async fn a_ranking_round_gives_borda_scores_and_positions(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let ranking = activity(
        &app,
        &host,
        &session,
        "ranking",
        json!({"question": "What first?", "items": ["Search", "Export", "Themes"]}),
        json!({}),
    )
    .await;
    let guests = guests(&app, &session, &["a", "b", "c"]).await;
    for (guest, order) in guests.iter().zip([[0, 1, 2], [1, 0, 2], [2, 1, 0]]) {
        stored(&app, guest, &ranking, json!({"order": order})).await;
    }
    // A changed order replaces the old one.
    stored(&app, &guests[2], &ranking, json!({"order": [0, 2, 1]})).await;
    assert_eq!(
        refused(&app, &guests[0], &ranking, json!({"order": [0, 1]})).await,
        json!({"field": "answer.order", "rule": "count", "params": {"min": 3, "max": 3}})
    );
    assert_eq!(
        refused(&app, &guests[0], &ranking, json!({"order": [0, 0, 1]})).await["rule"],
        "distinct"
    );
    assert_eq!(
        refused(&app, &guests[0], &ranking, json!({"order": [0, 1, 3]})).await["field"],
        "answer.order[2]"
    );

    let results = app.results(&host.token, &ranking).await;
    assert_eq!(results["total_voters"], 3);
    let standing: Vec<(String, u64, u64, f64)> = results["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["label"].as_str().unwrap().to_owned(),
                i["rank"].as_u64().unwrap(),
                i["borda"].as_u64().unwrap(),
                i["average_position"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        standing,
        [
            ("Search".to_owned(), 1, 5, 1.33),
            ("Export".to_owned(), 2, 3, 2.0),
            ("Themes".to_owned(), 3, 1, 2.67)
        ]
    );
    let first_positions: Vec<u64> = results["items"][0]["positions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["count"].as_u64().unwrap())
        .collect();
    assert_eq!(first_positions, [2, 1, 0]);
    let screen = screen_results(&app, &host, &session, &ranking, |r| r["total_voters"] == 3).await;
    assert_eq!(
        screen["items"], results["items"],
        "the big screen sees the standing"
    );
    assert_eq!(
        export_column(&app, &host, &session, "ranking", "order").await,
        [
            "Export; Search; Themes",
            "Search; Export; Themes",
            "Search; Themes; Export"
        ]
    );
}

async fn a_scales_round_gives_each_statement_its_figures(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let scales = activity(
        &app,
        &host,
        &session,
        "scales",
        json!({"question": "How much do you agree?", "statements": ["Clear", "Useful"], "steps": 5,
               "labels": ["Strongly disagree", "", "Neutral", "", "Strongly agree"]}),
        json!({}),
    )
    .await;
    let guests = guests(&app, &session, &["a", "b", "c", "d"]).await;
    for (guest, values) in guests.iter().zip([
        json!([5, 2]),
        json!([4, null]),
        json!([4, 3]),
        json!([1, 3]),
    ]) {
        stored(&app, guest, &scales, json!({"values": values})).await;
    }
    assert_eq!(
        refused(&app, &guests[0], &scales, json!({"values": [5, 6]})).await,
        json!({"field": "answer.values[1]", "rule": "range", "params": {"min": 1, "max": 5}})
    );
    assert_eq!(
        refused(&app, &guests[0], &scales, json!({"values": [null, null]})).await["rule"],
        "required"
    );
    assert_eq!(
        refused(&app, &guests[0], &scales, json!({"values": [3]})).await["rule"],
        "per_entry"
    );

    let results = app.results(&host.token, &scales).await;
    assert_eq!(results["total_voters"], 4);
    assert_eq!(results["steps"], 5);
    let clear = &results["statements"][0];
    assert_eq!(
        (
            clear["count"].as_u64(),
            clear["mean"].as_f64(),
            clear["median"].as_f64()
        ),
        (Some(4), Some(3.5), Some(4.0))
    );
    let counts: Vec<u64> = clear["distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["count"].as_u64().unwrap())
        .collect();
    assert_eq!(counts, [1, 0, 0, 2, 1]);
    let useful = &results["statements"][1];
    assert_eq!(
        (
            useful["count"].as_u64(),
            useful["mean"].as_f64(),
            useful["median"].as_f64()
        ),
        (Some(3), Some(2.67), Some(3.0))
    );
    let screen = screen_results(&app, &host, &session, &scales, |r| r["total_voters"] == 4).await;
    assert_eq!(screen["statements"], results["statements"]);
    assert_eq!(screen["labels"][4], "Strongly agree");
    assert_eq!(
        export_column(&app, &host, &session, "scales", "ratings").await,
        [
            "Clear: 1; Useful: 3",
            "Clear: 4; Useful: 3",
            "Clear: 4; Useful: –",
            "Clear: 5; Useful: 2"
        ]
    );
}

async fn a_points_round_gives_mean_allocations(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let points = activity(&app, &host, &session, "points",
        json!({"question": "Where should the budget go?", "options": ["Hiring", "Tools", "Travel"]}), json!({})).await;
    let guests = guests(&app, &session, &["a", "b", "c"]).await;
    for (guest, given) in guests.iter().zip([[50, 30, 20], [0, 100, 0], [40, 40, 20]]) {
        stored(&app, guest, &points, json!({"points": given})).await;
    }
    assert_eq!(
        refused(&app, &guests[0], &points, json!({"points": [50, 30, 10]})).await,
        json!({"field": "answer.points", "rule": "sum", "params": {"total": 100}})
    );
    assert_eq!(
        refused(&app, &guests[0], &points, json!({"points": [50, 50]})).await["rule"],
        "per_entry"
    );

    let results = app.results(&host.token, &points).await;
    assert_eq!(results["total_voters"], 3);
    assert_eq!(results["budget"], 100);
    let means: Vec<f64> = results["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["mean"].as_f64().unwrap())
        .collect();
    assert_eq!(means, [30.0, 56.67, 13.33]);
    let shares: Vec<f64> = results["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["percent"].as_f64().unwrap())
        .collect();
    assert_eq!(shares, [30.0, 56.7, 13.3]);
    let screen = screen_results(&app, &host, &session, &points, |r| r["total_voters"] == 3).await;
    assert_eq!(screen["options"], results["options"]);
    assert_eq!(
        export_column(&app, &host, &session, "points", "allocation").await,
        [
            "Hiring: 0; Tools: 100; Travel: 0",
            "Hiring: 40; Tools: 40; Travel: 20",
            "Hiring: 50; Tools: 30; Travel: 20"
        ]
    );
}

async fn a_word_cloud_round_normalises_and_counts_people_per_word(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let cloud = activity(
        &app,
        &host,
        &session,
        "word_cloud",
        json!({"prompt": "One word for this year?", "max_words": 3}),
        json!({"results_visibility": "hidden"}),
    )
    .await;
    let guests =
        futures_util::future::join_all((0..4).map(|n| app.join(&session, format!("w{n}")))).await;
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
    let stopwords_only = app
        .vote(&guests[0], &cloud, json!({"words": ["the", "and"]}), None)
        .await;
    assert_eq!(
        stopwords_only.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "nothing usable: refused, old words kept"
    );

    let results = app.results(&host.token, &cloud).await;
    assert_eq!(results["total_people"], 4);
    let words: Vec<(String, u64)> = results["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["word"].as_str().unwrap().to_owned(),
                w["count"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        words,
        [
            ("rust".to_owned(), 3),
            ("speed".to_owned(), 2),
            ("geschwindigkeit".to_owned(), 1)
        ]
    );
    assert_eq!(results["words"][0]["weight"], 1.0);

    // Hidden until revealed, for participants as for everyone but the organizer.
    let hidden = app
        .call(
            Method::GET,
            format!("/api/v1/activities/{cloud}/results"),
            Some(&guests[1].token),
            None,
        )
        .await;
    assert_eq!(hidden.status(), StatusCode::FORBIDDEN);
    app.call(
        Method::POST,
        format!("/api/v1/activities/{cloud}/commands/reveal"),
        Some(&host.token),
        None,
    )
    .await;
    assert_eq!(
        app.results(&guests[1].token, &cloud).await["total_people"],
        4
    );
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
    for expected in [
        "poll",
        "rating",
        "scales",
        "ranking",
        "points",
        "word_cloud",
        "open_text",
        "qna",
        "poker",
        "quiz",
        "buzzer",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} is registered: {names:?}"
        );
    }
    let examples = [
        ("poll", json!({"question": "q", "options": ["a", "b"]})),
        ("rating", json!({"question": "q", "min": 0, "max": 10})),
        (
            "scales",
            json!({"question": "q", "statements": ["s"], "steps": 10}),
        ),
        ("ranking", json!({"question": "q", "items": ["a", "b"]})),
        (
            "points",
            json!({"question": "q", "options": ["a", "b"], "budget": 10}),
        ),
        (
            "word_cloud",
            json!({"prompt": "p", "stopwords": "de", "phrases": true}),
        ),
        (
            "open_text",
            json!({"prompt": "p", "max_answers": 3, "moderation": true}),
        ),
        (
            "qna",
            json!({"topic": "t", "moderation": true, "sort": "recent"}),
        ),
        (
            "poker",
            json!({"deck": "custom", "custom_cards": ["S", "M"], "coffee_card": false}),
        ),
        (
            "quiz",
            json!({"questions": [{"question": "q", "choices": ["a", "b"], "correct": [1]}], "scoring": "correctness"}),
        ),
        (
            "buzzer",
            json!({"prompt": "p", "lockout_ms": 0, "points_wrong": -1}),
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

async fn command(
    app: &TestApp,
    host: &Host,
    activity: &str,
    name: &str,
    args: serde_json::Value,
) -> serde_json::Value {
    let response = app
        .call(
            Method::POST,
            format!("/api/v1/activities/{activity}/commands/{name}"),
            Some(&host.token),
            Some(args),
        )
        .await;
    let status = response.status();
    let body = json(response).await;
    assert_eq!(status, StatusCode::OK, "{name}: {body}");
    body
}

async fn stored(
    app: &TestApp,
    guest: &Guest,
    activity: &str,
    answer: serde_json::Value,
) -> serde_json::Value {
    let response = app.vote(guest, activity, answer, None).await;
    let status = response.status();
    let body = json(response).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

async fn guests(app: &TestApp, session: &str, names: &[&str]) -> Vec<Guest> {
    let mut all = Vec::new();
    for name in names {
        all.push(app.join(session, name).await);
    }
    all
}

async fn screen_results(
    app: &TestApp,
    host: &Host,
    session: &str,
    activity: &str,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let viewer = app.viewer_token(host, session).await;
    let mut stream = app.stream(session, &viewer).await;
    let snapshot = stream
        .wait_for("snapshot", std::time::Duration::from_secs(5), |_| true)
        .await;
    assert_eq!(
        snapshot.data["activity"]["activity"]["id"]
            .as_str()
            .unwrap_or(activity),
        activity
    );
    let results = &snapshot.data["results"];
    if wanted(results) {
        return results.clone();
    }
    stream
        .wait_for("results", std::time::Duration::from_secs(5), |d| {
            wanted(&d["results"])
        })
        .await
        .data["results"]
        .clone()
}

both_backends!(
    an_open_text_round_moderates_before_the_big_screen,
    a_qna_round_with_premoderation_votes_and_the_wall,
    a_poker_round_hides_cards_until_the_reveal_and_keeps_history_on_revote,
    a_quiz_scores_by_server_time_and_ranks_everyone,
    a_buzzer_round_orders_buzzes_and_keeps_scores,
    reactions_reach_the_big_screen_and_are_counted_per_minute,
    moderation_refuses_flagged_nicknames_and_holds_flagged_words,
    live_documents_followed_through_deltas_match_a_fresh_snapshot,
    a_long_list_is_capped_in_live_documents_and_paged_with_a_cursor
);

async fn an_open_text_round_moderates_before_the_big_screen(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    app.call(
        Method::PATCH,
        format!("/api/v1/sessions/{session}"),
        Some(&host.token),
        Some(json!({"settings": {"profanity_filter": true, "banned_words": ["kale"]}})),
    )
    .await;
    let question = activity(
        &app,
        &host,
        &session,
        "open_text",
        json!({"prompt": "What should we change?", "max_answers": 2}),
        json!({}),
    )
    .await;
    let people = guests(&app, &session, &["ann", "bob", "cat"]).await;
    stored(
        &app,
        &people[0],
        &question,
        json!({"text": "  More   coffee "}),
    )
    .await;
    stored(
        &app,
        &people[0],
        &question,
        json!({"text": "Shorter meetings", "index": 1}),
    )
    .await;
    let held = stored(
        &app,
        &people[1],
        &question,
        json!({"text": "more kale please"}),
    )
    .await;
    stored(
        &app,
        &people[2],
        &question,
        json!({"text": "what the fuck"}),
    )
    .await;
    let too_many = app
        .vote(
            &people[1],
            &question,
            json!({"text": "x", "index": 2}),
            None,
        )
        .await;
    assert_eq!(too_many.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let organizer = app.results(&host.token, &question).await;
    assert_eq!(
        (
            organizer["total_answers"].as_u64(),
            organizer["shown"].as_u64(),
            organizer["total_people"].as_u64()
        ),
        (Some(4), Some(2), Some(3))
    );
    let queue: Vec<&str> = organizer["moderation_queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    assert_eq!(queue, ["more kale please", "what the fuck"]);
    assert_eq!(organizer["moderation_queue"][0]["flag"], "banned_word");
    assert_eq!(organizer["moderation_queue"][1]["flag"], "profanity");

    let screen = screen_results(&app, &host, &session, &question, |r| r["shown"] == 2).await;
    let texts: Vec<&str> = screen["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Shorter meetings", "More coffee"]);
    assert!(screen.get("moderation_queue").is_none());
    assert!(
        !screen.to_string().contains("kale"),
        "the big screen never shows held text"
    );

    let bob = app.results(&people[1].token, &question).await;
    assert_eq!(bob["mine"][0]["status"], "pending");
    assert!(!bob["answers"].to_string().contains("kale"));

    let id = held["answer"]["id"].as_str().unwrap();
    command(&app, &host, &question, "approve", json!({"id": id})).await;
    let screen = screen_results(&app, &host, &session, &question, |r| r["shown"] == 3).await;
    assert!(screen.to_string().contains("more kale please"));
}

async fn a_qna_round_with_premoderation_votes_and_the_wall(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let qna = activity(
        &app,
        &host,
        &session,
        "qna",
        json!({"topic": "AMA", "moderation": true}),
        json!({}),
    )
    .await;
    let people = guests(&app, &session, &["ann", "bob", "cat", "dan"]).await;
    let q1 = stored(
        &app,
        &people[0],
        &qna,
        json!({"ask": {"text": "Why Rust?"}}),
    )
    .await["answer"]["ask"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let q2 = stored(
        &app,
        &people[1],
        &qna,
        json!({"ask": {"text": "When is lunch?", "anonymous": true}}),
    )
    .await["answer"]["ask"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Until approved, only the author and the organizer see a question.
    assert_eq!(
        app.results(&people[2].token, &qna).await["questions"],
        json!([])
    );
    assert_eq!(
        app.results(&people[0].token, &qna).await["mine"][0]["status"],
        "pending"
    );
    assert_eq!(
        app.results(&host.token, &qna).await["moderation_queue"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    command(&app, &host, &qna, "approve", json!({"id": q1})).await;
    command(&app, &host, &qna, "approve", json!({"id": q2})).await;
    for voter in [&people[2], &people[3], &people[0]] {
        stored(&app, voter, &qna, json!({"upvote": q2})).await;
    }
    stored(&app, &people[1], &qna, json!({"upvote": q2})).await; // own question: not counted
    stored(&app, &people[3], &qna, json!({"upvote": q1})).await;
    stored(&app, &people[2], &qna, json!({"unvote": q2})).await; // undo
    stored(&app, &people[2], &qna, json!({"upvote": q2})).await; // and again: still one vote

    let wall = screen_results(&app, &host, &session, &qna, |r| r["visible"] == 2).await;
    let rows: Vec<(&str, u64, serde_json::Value)> = wall["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["text"].as_str().unwrap(),
                q["votes"].as_u64().unwrap(),
                q["author"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("When is lunch?", 3, serde_json::Value::Null),
            ("Why Rust?", 1, json!("ann"))
        ]
    );
    assert_eq!(
        app.results(&people[3].token, &qna).await["my_votes"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    command(&app, &host, &qna, "pin", json!({"id": q1})).await;
    command(&app, &host, &qna, "mark_answered", json!({"id": q2})).await;
    let wall = app.results(&people[3].token, &qna).await;
    assert_eq!(wall["questions"][0]["text"], "Why Rust?");
    assert_eq!(wall["questions"][0]["pinned"], true);
    assert_eq!(wall["questions"][1]["answered"], true);
    command(&app, &host, &qna, "hide_question", json!({"id": q1})).await;
    assert_eq!(app.results(&people[3].token, &qna).await["visible"], 1);
    let refused = app
        .vote(&people[0], &qna, json!({"ask": {"text": "   "}}), None)
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Votes for a question that was never asked, and withdrawing someone else's, are
    // refused, not stored and silently ignored.
    for (guest, answer, field) in [
        (
            &people[3],
            json!({"upvote": "no-such-question"}),
            "answer.upvote",
        ),
        (
            &people[3],
            json!({"unvote": "no-such-question"}),
            "answer.unvote",
        ),
        (&people[3], json!({"withdraw": q1}), "answer.withdraw"),
    ] {
        let response = app.vote(guest, &qna, answer.clone(), None).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{answer}"
        );
        let body = json(response).await;
        assert_envelope(&body, "invalid_answer");
        assert_eq!(
            body["error"]["details"],
            json!({"field": field, "rule": "missing", "params": {}}),
        );
    }
    stored(&app, &people[0], &qna, json!({"withdraw": q1})).await; // the author may
    // Storage answers when memory has not heard of a question (asked on another
    // instance a moment ago).
    let store = app.state.store.as_ref();
    let (activity_id, slot) = (qna.parse().unwrap(), format!("q:{q2}"));
    assert!(
        store
            .slot_filled(activity_id, 1, &slot, None)
            .await
            .unwrap()
    );
    assert!(
        store
            .slot_filled(activity_id, 1, &slot, Some(people[1].id.parse().unwrap()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .slot_filled(activity_id, 1, &slot, Some(people[3].id.parse().unwrap()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .slot_filled(activity_id, 2, &slot, None)
            .await
            .unwrap()
    );
    assert!(
        !store
            .slot_filled(activity_id, 1, "q:no-such-question", None)
            .await
            .unwrap()
    );
    let responses = json(
        app.call(
            Method::GET,
            format!("/api/v1/sessions/{session}/export.json"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert!(
        !responses["responses"]
            .to_string()
            .contains("no-such-question"),
        "nothing stored for them"
    );
}

async fn a_poker_round_hides_cards_until_the_reveal_and_keeps_history_on_revote(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let live = app
        .call(
            Method::POST,
            format!("/api/v1/sessions/{session}/activities"),
            Some(&host.token),
            Some(
                json!({"kind": "poker", "title": "x", "config": {}, "results_visibility": "live"}),
            ),
        )
        .await;
    assert_eq!(live.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let poker = activity(
        &app,
        &host,
        &session,
        "poker",
        json!({"story": "Login page", "deck": "fibonacci"}),
        json!({}),
    )
    .await;
    let people = guests(&app, &session, &["ann", "bob", "cat", "dan"]).await;
    for (guest, card) in people.iter().zip(["3", "8", "5", "?"]) {
        stored(&app, guest, &poker, json!({"card": card})).await;
    }
    stored(&app, &people[1], &poker, json!({"card": "5"})).await; // changed before the reveal
    let bad = app
        .vote(&people[0], &poker, json!({"card": "4"}), None)
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);

    for token in [&host.token, &people[0].token] {
        let table = app.results(token, &poker).await;
        assert_eq!(table["votes"], 4);
        assert_eq!(table["revealed"], false);
        assert!(
            table["voters"]
                .as_array()
                .unwrap()
                .iter()
                .all(|v| v.get("card").is_none()),
            "nobody peeks: {table}"
        );
    }
    command(&app, &host, &poker, "reveal", json!({})).await;
    let after = app
        .vote(&people[0], &poker, json!({"card": "5"}), None)
        .await;
    assert_eq!(
        after.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "face up: no changes"
    );
    let table = screen_results(&app, &host, &session, &poker, |r| r["revealed"] == true).await;
    assert_eq!(
        (table["lowest"].as_str(), table["highest"].as_str()),
        (Some("3"), Some("5"))
    );
    assert_eq!(table["average"], 4.33);
    assert_eq!(table["median"], 5.0);
    assert_eq!(table["consensus"], false);
    let cards: Vec<(&str, u64)> = table["distribution"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["card"].as_str().unwrap(), c["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(cards, [("3", 1), ("5", 2), ("?", 1)]);

    let revote = command(&app, &host, &poker, "new_round", json!({})).await;
    assert_eq!(revote["round"], 2);
    for guest in &people[..3] {
        stored(&app, guest, &poker, json!({"card": "5"})).await;
    }
    command(&app, &host, &poker, "reveal", json!({})).await;
    let table = app.results(&people[3].token, &poker).await;
    assert_eq!(table["round"], 2);
    assert_eq!(table["votes"], 3);
    assert_eq!(table["consensus"], true);
    assert_eq!(table["history"][0]["round"], 1);
    assert_eq!(table["history"][0]["average"], 4.33);
}

async fn a_quiz_scores_by_server_time_and_ranks_everyone(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let quiz = activity(&app, &host, &session, "quiz", json!({
        "questions": [
            {"question": "2 + 2?", "choices": ["3", "4"], "correct": [1], "time_limit_seconds": 30},
            {"question": "Capital of France?", "choices": ["Paris", "Rome", "Oslo"], "correct": [0], "points": 500}
        ],
        "scoring": "correctness"
    }), json!({})).await;
    let people = guests(&app, &session, &["ann", "bob", "cat"]).await;
    let early = app
        .vote(
            &people[0],
            &quiz,
            json!({"question": 0, "choices": [1]}),
            None,
        )
        .await;
    assert_eq!(
        early.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "no question started"
    );

    command(&app, &host, &quiz, "next", json!({})).await;
    let phone = app
        .call(
            Method::GET,
            format!("/api/v1/sessions/{session}/status"),
            Some(&people[0].token),
            None,
        )
        .await;
    let phone = json(phone).await;
    assert!(
        !phone.to_string().contains("\"correct\":[1]"),
        "phones never get the answer first: {phone}"
    );
    stored(
        &app,
        &people[0],
        &quiz,
        json!({"question": 0, "choices": [1]}),
    )
    .await;
    stored(
        &app,
        &people[1],
        &quiz,
        json!({"question": 0, "choices": [0]}),
    )
    .await;
    stored(
        &app,
        &people[2],
        &quiz,
        json!({"question": 0, "choices": [1]}),
    )
    .await;
    let again = app
        .vote(
            &people[1],
            &quiz,
            json!({"question": 0, "choices": [1]}),
            None,
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_envelope(&json(again).await, "already_answered");

    let before = app.results(&people[0].token, &quiz).await;
    assert_eq!(
        before["leaderboard"],
        json!([]),
        "nothing counts publicly before the reveal"
    );
    assert!(before["questions"][0].get("distribution").is_none());
    assert_eq!(before["you"]["answered_current"], true);
    command(&app, &host, &quiz, "reveal_answer", json!({})).await;
    let ann = app.results(&people[0].token, &quiz).await;
    assert_eq!(ann["questions"][0]["distribution"], json!([1, 2]));
    assert_eq!(ann["you"]["score"], 1000);
    assert_eq!(ann["you"]["rank"], 1);
    assert_eq!(ann["you"]["last"]["correct"], true);

    command(&app, &host, &quiz, "next", json!({})).await;
    stored(
        &app,
        &people[1],
        &quiz,
        json!({"question": 1, "choices": [0]}),
    )
    .await;
    stored(
        &app,
        &people[2],
        &quiz,
        json!({"question": 1, "choices": [2]}),
    )
    .await;
    command(&app, &host, &quiz, "reveal_answer", json!({})).await;
    // Cat rejoins with her token: the same participant, the same score.
    let rejoined = app
        .call(
            Method::POST,
            format!("/api/v1/sessions/{session}/join"),
            Some(&people[2].token),
            Some(json!({"nickname": "cat"})),
        )
        .await;
    assert_eq!(
        json(rejoined).await["participant_id"],
        people[2].id.as_str()
    );
    let cat = app.results(&people[2].token, &quiz).await;
    assert_eq!(
        (cat["you"]["score"].as_i64(), cat["you"]["rank"].as_u64()),
        (Some(1000), Some(1))
    );
    let board: Vec<(u64, &str, i64)> = cat["leaderboard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["rank"].as_u64().unwrap(),
                s["nickname"].as_str().unwrap(),
                s["score"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(board, [(1, "ann", 1000), (1, "cat", 1000), (3, "bob", 500)]);
}

async fn a_buzzer_round_orders_buzzes_and_keeps_scores(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let buzzer = activity(
        &app,
        &host,
        &session,
        "buzzer",
        json!({"lockout_ms": 60000, "points_right": 3, "points_wrong": -1}),
        json!({}),
    )
    .await;
    let people = guests(&app, &session, &["ann", "bob", "cat"]).await;
    let cold = app.vote(&people[0], &buzzer, json!({}), None).await;
    assert_eq!(cold.status(), StatusCode::UNPROCESSABLE_ENTITY, "not armed");
    command(
        &app,
        &host,
        &buzzer,
        "arm",
        json!({"prompt": "Largest planet?"}),
    )
    .await;
    for guest in [&people[1], &people[0], &people[2]] {
        stored(&app, guest, &buzzer, json!({})).await;
    }
    let twice = app.vote(&people[1], &buzzer, json!({}), None).await;
    assert_eq!(
        twice.status(),
        StatusCode::CONFLICT,
        "one buzz per question"
    );
    let organizer = app.results(&host.token, &buzzer).await;
    let order: Vec<&str> = organizer["buzzes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["nickname"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["bob", "ann", "cat"]);
    assert_eq!(organizer["prompt"], "Largest planet?");
    command(
        &app,
        &host,
        &buzzer,
        "judge",
        json!({"participant_id": people[1].id, "correct": false}),
    )
    .await;
    command(
        &app,
        &host,
        &buzzer,
        "judge",
        json!({"participant_id": people[0].id, "correct": true}),
    )
    .await;
    let screen = screen_results(&app, &host, &session, &buzzer, |r| {
        r["scores"].as_array().is_some_and(|s| s.len() == 2)
    })
    .await;
    assert!(screen["buzzes"][0].get("participant_id").is_none());
    let scores: Vec<(&str, i64)> = screen["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["nickname"].as_str().unwrap(),
                s["score"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(scores, [("ann", 3), ("bob", -1)]);
    let bob = app.results(&people[1].token, &buzzer).await;
    assert_eq!(
        (
            bob["you"]["position"].as_u64(),
            bob["you"]["score"].as_i64()
        ),
        (Some(1), Some(-1))
    );

    command(&app, &host, &buzzer, "arm", json!({})).await;
    stored(&app, &people[1], &buzzer, json!({})).await;
    let next = app.results(&host.token, &buzzer).await;
    assert_eq!(next["question"], 2);
    assert_eq!(next["buzzes"].as_array().unwrap().len(), 1);
}

async fn reactions_reach_the_big_screen_and_are_counted_per_minute(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let people = guests(&app, &session, &["ann", "bob"]).await;
    let viewer = app.viewer_token(&host, &session).await;
    let mut stream = app.stream(&session, &viewer).await;
    stream
        .wait_for("snapshot", std::time::Duration::from_secs(5), |_| true)
        .await;
    for (guest, emoji) in [
        (&people[0], "clap"),
        (&people[1], "👏"),
        (&people[1], "heart"),
    ] {
        let response = app
            .call(
                Method::POST,
                format!("/api/v1/sessions/{session}/reactions"),
                Some(&guest.token),
                Some(json!({"emoji": emoji})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let bad = app
        .call(
            Method::POST,
            format!("/api/v1/sessions/{session}/reactions"),
            Some(&people[0].token),
            Some(json!({"emoji": "💩"})),
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_envelope(&json(bad).await, "invalid_emoji");
    let event = stream
        .wait_for("reactions", std::time::Duration::from_secs(5), |d| {
            d["totals"]["clap"] == 2 && d["totals"]["heart"] == 1
        })
        .await;
    assert!(event.data["counts"]["clap"].as_i64().unwrap_or(0) >= 1);
    // One person tapping fast is limited.
    let mut limited = false;
    for _ in 0..30 {
        let response = app
            .call(
                Method::POST,
                format!("/api/v1/sessions/{session}/reactions"),
                Some(&people[0].token),
                Some(json!({"emoji": "wow"})),
            )
            .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = true;
            break;
        }
    }
    assert!(limited, "a participant's taps are rate-limited");
    let history = json(
        app.call(
            Method::GET,
            format!("/api/v1/sessions/{session}/reactions"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(history["totals"]["clap"], 2);
    assert!(
        !history["minutes"].as_array().unwrap().is_empty(),
        "{history}"
    );

    // Once the session is completed, taps are refused (and the one before still counts).
    let before = app
        .call(
            Method::POST,
            format!("/api/v1/sessions/{session}/reactions"),
            Some(&people[1].token),
            Some(json!({"emoji": "clap"})),
        )
        .await;
    assert_eq!(
        before.status(),
        StatusCode::ACCEPTED,
        "the cache holds the open session now"
    );
    let completed = app
        .call(
            Method::PATCH,
            format!("/api/v1/sessions/{session}"),
            Some(&host.token),
            Some(json!({"status": "completed"})),
        )
        .await;
    assert_eq!(completed.status(), StatusCode::OK);
    let after = app
        .call(
            Method::POST,
            format!("/api/v1/sessions/{session}/reactions"),
            Some(&people[1].token),
            Some(json!({"emoji": "clap"})),
        )
        .await;
    assert_eq!(after.status(), StatusCode::CONFLICT);
    assert_envelope(&json(after).await, "session_completed");
    app.state
        .reactions
        .flush(app.state.store.as_ref(), &app.state.hub)
        .await;
    let history = json(
        app.call(
            Method::GET,
            format!("/api/v1/sessions/{session}/reactions"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(history["totals"]["clap"], 3, "{history}");
}

async fn moderation_refuses_flagged_nicknames_and_holds_flagged_words(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    app.call(
        Method::PATCH,
        format!("/api/v1/sessions/{session}"),
        Some(&host.token),
        Some(json!({"settings": {"profanity_filter": true, "banned_words": ["Voldemort"]}})),
    )
    .await;
    for nickname in ["Arschloch", "voldemort", "sh1thead"] {
        let response = app
            .call(
                Method::POST,
                format!("/api/v1/sessions/{session}/join"),
                None,
                Some(json!({"nickname": nickname})),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{nickname}"
        );
        assert_envelope(&json(response).await, "invalid_nickname");
    }
    let cloud = activity(
        &app,
        &host,
        &session,
        "word_cloud",
        json!({"prompt": "One word?", "max_words": 3, "stopwords": "none"}),
        json!({}),
    )
    .await;
    let people = guests(&app, &session, &["ann", "bob"]).await;
    let answer = stored(
        &app,
        &people[0],
        &cloud,
        json!({"words": ["Rust", "Scheiße"]}),
    )
    .await;
    assert_eq!(answer["answer"]["words"], json!(["rust"]));
    stored(&app, &people[1], &cloud, json!({"words": ["voldemort"]})).await;
    let organizer = app.results(&host.token, &cloud).await;
    let queue: Vec<&str> = organizer["moderation_queue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["word"].as_str().unwrap())
        .collect();
    assert_eq!(queue, ["scheiße", "voldemort"]);
    let screen = screen_results(&app, &host, &session, &cloud, |r| r["total_people"] == 1).await;
    assert_eq!(screen["words"][0]["word"], "rust");
    assert!(screen.get("moderation_queue").is_none());
    command(
        &app,
        &host,
        &cloud,
        "allow_word",
        json!({"word": "voldemort"}),
    )
    .await;
    let screen = app.results(&people[0].token, &cloud).await;
    assert_eq!(screen["total_people"], 2);
}

async fn live_documents_followed_through_deltas_match_a_fresh_snapshot(db: TestDb) {
    // On PostgreSQL the big screen follows a second instance; SQLite runs one instance.
    let two = db.backend() == conflicto::storage::Backend::Postgres;
    let app = TestApp::spawn(db).await;
    let second = if two { Some(app.peer().await) } else { None };
    let peer = second.as_ref().unwrap_or(&app);
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    app.call(
        Method::PATCH,
        format!("/api/v1/sessions/{session}"),
        Some(&host.token),
        Some(json!({"settings": {"banned_words": ["kale"]}})),
    )
    .await;
    let viewer = app.viewer_token(&host, &session).await;
    let people = guests(&app, &session, &["ann", "bob", "cat", "dan"]).await;
    // The organizer and a phone on one instance, the big screen on the other.
    let mut organizer = app.stream(&session, &host.token).await;
    let mut screen = peer.stream(&session, &viewer).await;
    let mut phone = app.stream(&session, &people[3].token).await;

    // Open text: answers, an edit, a flagged answer approved, one rejected.
    let text = activity(
        &app,
        &host,
        &session,
        "open_text",
        json!({"prompt": "Change?", "max_answers": 3}),
        json!({}),
    )
    .await;
    let first = stored(&app, &people[0], &text, json!({"text": "More coffee"})).await;
    stored(
        &app,
        &people[0],
        &text,
        json!({"text": "Shorter meetings", "index": 1}),
    )
    .await;
    let held = stored(&app, &people[1], &text, json!({"text": "more kale"})).await;
    organizer.next(std::time::Duration::from_millis(300)).await;
    stored(
        &app,
        &people[0],
        &text,
        json!({"text": "More coffee, please"}),
    )
    .await;
    command(
        &app,
        &host,
        &text,
        "approve",
        json!({"id": held["answer"]["id"]}),
    )
    .await;
    stored(&app, &people[2], &text, json!({"text": "Fewer slides"})).await;
    command(
        &app,
        &host,
        &text,
        "reject",
        json!({"id": first["answer"]["id"]}),
    )
    .await;

    // The phone drops its stream and resumes it with Last-Event-ID, keeping its copy.
    while phone
        .next(std::time::Duration::from_millis(300))
        .await
        .is_some()
    {}
    let last = phone.seen.iter().rev().find_map(|e| e.id.clone()).unwrap();
    let mut resumed = app
        .stream_with(&session, &people[3].token, Some(&last))
        .await;
    resumed.follower = phone.follower.clone();
    let mut phone = resumed;
    stored(&app, &people[3], &text, json!({"text": "Live demos"})).await;

    every_copy_matches(
        &mut [
            (&mut organizer, &app, host.token.as_str(), "organizer"),
            (&mut screen, peer, viewer.as_str(), "big screen"),
            (&mut phone, &app, people[3].token.as_str(), "phone"),
        ],
        &session,
    )
    .await;
    let answers = organizer.follower.doc.clone().unwrap();
    assert_eq!(answers["total_answers"], 5, "{answers}");
    assert!(
        organizer
            .seen
            .iter()
            .any(|e| e.event == "results" && e.data.get("delta").is_some()),
        "the organizer got deltas, not whole documents"
    );
    assert_eq!(
        answers,
        app.results(&host.token, &text).await,
        "the same as GET /results"
    );

    // Q&A: questions, a flagged one approved, upvotes and an undo, a pin, a hidden one.
    app.transition(&host, &text, "closed").await;
    let qna = activity(
        &app,
        &host,
        &session,
        "qna",
        json!({"topic": "AMA", "max_questions": 2}),
        json!({}),
    )
    .await;
    let q1 = stored(
        &app,
        &people[0],
        &qna,
        json!({"ask": {"text": "Why Rust?"}}),
    )
    .await["answer"]["ask"]["id"]
        .clone();
    let q2 = stored(
        &app,
        &people[0],
        &qna,
        json!({"ask": {"text": "When is lunch?"}}),
    )
    .await["answer"]["ask"]["id"]
        .clone();
    let over = app
        .vote(&people[0], &qna, json!({"ask": {"text": "A third?"}}), None)
        .await;
    assert_eq!(
        over.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "two questions per person"
    );
    let q3 = stored(
        &app,
        &people[1],
        &qna,
        json!({"ask": {"text": "Is kale served?"}}),
    )
    .await["answer"]["ask"]["id"]
        .clone();
    for voter in &people[1..] {
        stored(&app, voter, &qna, json!({"upvote": q2})).await;
    }
    stored(&app, &people[2], &qna, json!({"upvote": q1})).await;
    stored(&app, &people[3], &qna, json!({"unvote": q2})).await;
    command(&app, &host, &qna, "approve", json!({"id": q3})).await;
    stored(&app, &people[2], &qna, json!({"upvote": q3})).await;
    command(&app, &host, &qna, "pin", json!({"id": q1})).await;
    command(&app, &host, &qna, "hide_question", json!({"id": q2})).await;
    every_copy_matches(
        &mut [
            (&mut organizer, &app, host.token.as_str(), "organizer"),
            (&mut screen, peer, viewer.as_str(), "big screen"),
            (&mut phone, &app, people[3].token.as_str(), "phone"),
        ],
        &session,
    )
    .await;
    let wall = screen.follower.doc.clone().unwrap();
    let ids: Vec<&serde_json::Value> = wall["questions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| &q["id"])
        .collect();
    assert_eq!(ids, [&q1, &q3], "pinned first, the hidden one gone: {wall}");

    // Word cloud: a flagged word waits in the queue, then is allowed; a word is hidden.
    app.transition(&host, &qna, "closed").await;
    let cloud = activity(
        &app,
        &host,
        &session,
        "word_cloud",
        json!({"prompt": "One word", "max_words": 3}),
        json!({}),
    )
    .await;
    stored(&app, &people[0], &cloud, json!({"words": ["rust", "kale"]})).await;
    stored(
        &app,
        &people[1],
        &cloud,
        json!({"words": ["kale", "speed"]}),
    )
    .await;
    let queued = app.results(&host.token, &cloud).await;
    assert_eq!(queued["moderation_queue"][0]["word"], "kale", "{queued}");
    command(&app, &host, &cloud, "allow_word", json!({"word": "kale"})).await;
    command(&app, &host, &cloud, "hide_word", json!({"word": "speed"})).await;
    stored(&app, &people[2], &cloud, json!({"words": ["rust"]})).await;
    every_copy_matches(
        &mut [
            (&mut organizer, &app, host.token.as_str(), "organizer"),
            (&mut screen, peer, viewer.as_str(), "big screen"),
            (&mut phone, &app, people[3].token.as_str(), "phone"),
        ],
        &session,
    )
    .await;
    let words = organizer.follower.doc.clone().unwrap();
    assert_eq!(words["moderation_queue"], json!([]), "{words}");
    let cloud_words: Vec<&str> = words["words"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["word"].as_str().unwrap())
        .collect();
    assert_eq!(
        cloud_words,
        ["kale", "rust"],
        "allowed, counted twice each; speed hidden"
    );
}

async fn a_long_list_is_capped_in_live_documents_and_paged_with_a_cursor(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let text = activity(
        &app,
        &host,
        &session,
        "open_text",
        json!({"prompt": "Ideas?", "max_answers": 10}),
        json!({}),
    )
    .await;
    let names: Vec<String> = (0..26).map(|n| format!("p{n}")).collect();
    let people = guests(
        &app,
        &session,
        &names.iter().map(String::as_str).collect::<Vec<_>>(),
    )
    .await;
    for index in 0..10 {
        for person in &people {
            stored(
                &app,
                person,
                &text,
                json!({"text": format!("idea {index}"), "index": index}),
            )
            .await;
        }
    }
    let live = app.results(&host.token, &text).await;
    assert_eq!(live["total_answers"], 260);
    assert_eq!(
        live["answers"].as_array().unwrap().len(),
        200,
        "the newest 200"
    );

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..5 {
        let query = after
            .as_ref()
            .map_or(String::new(), |a| format!("&after={a}"));
        let page = json(
            app.call(
                Method::GET,
                format!("/api/v1/activities/{text}/results/answers?limit=100{query}"),
                Some(&host.token),
                None,
            )
            .await,
        )
        .await;
        assert_eq!(page["total"], 260);
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["id"].as_str().unwrap().to_owned()),
        );
        after = page["next"].as_str().map(str::to_owned);
        if after.is_none() {
            break;
        }
    }
    assert_eq!(seen.len(), 260, "every answer once");
    assert_eq!(
        seen.iter().collect::<std::collections::HashSet<_>>().len(),
        260
    );
    let first_page: Vec<&str> = live["answers"]
        .as_array()
        .unwrap()
        .iter()
        .take(100)
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        seen[..100],
        first_page[..],
        "the same order as the live document"
    );

    for (path, status, code) in [
        ("answers?limit=0", StatusCode::BAD_REQUEST, "invalid_query"),
        (
            "answers?after=nonsense",
            StatusCode::BAD_REQUEST,
            "invalid_query",
        ),
        ("questions", StatusCode::NOT_FOUND, "list_not_found"),
    ] {
        let response = app
            .call(
                Method::GET,
                format!("/api/v1/activities/{text}/results/{path}"),
                Some(&host.token),
                None,
            )
            .await;
        assert_eq!(response.status(), status, "{path}");
        assert_envelope(&json(response).await, code);
    }
    let phone = app
        .call(
            Method::GET,
            format!("/api/v1/activities/{text}/results/answers"),
            Some(&people[0].token),
            None,
        )
        .await;
    assert_eq!(phone.status(), StatusCode::FORBIDDEN, "organizers only");
}
