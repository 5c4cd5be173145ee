//! Templates over HTTP: saving sessions as numbered immutable versions with change logs,
//! variants, sessions made from a version, the definition format's import and export
//! (round-tripped for every kind), the quiz CSV import, and who may see what.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{Host, TestApp, assert_envelope, json};

/// One activity of every kind, with a configuration that is not all defaults.
fn every_kind() -> Vec<Value> {
    vec![
        json!({"kind": "poll", "title": "Lunch?", "config": {"question": "Where?", "options": ["Pizza", "Salad"], "multiple": true}}),
        json!({"kind": "rating", "title": "Rate the talk", "config": {"question": "How was it?", "min": 0, "max": 10}, "time_limit_seconds": 90}),
        json!({"kind": "word_cloud", "title": "One word", "config": {"prompt": "Describe us", "stopwords": "de", "phrases": true}}),
        json!({"kind": "open_text", "title": "Ideas", "config": {"prompt": "Your idea", "max_answers": 3, "moderation": true}}),
        json!({"kind": "qna", "title": "Ask", "config": {"topic": "Roadmap", "moderation": true, "sort": "recent"}}),
        json!({"kind": "poker", "title": "Estimate", "config": {"story": "Login", "deck": "custom", "custom_cards": ["S", "M", "L"]}}),
        json!({"kind": "quiz", "title": "Trivia", "config": {"questions": [{"question": "2+2?", "choices": ["3", "4"], "correct": [1], "points": 500}], "scoring": "correctness"}}),
        json!({"kind": "buzzer", "title": "Buzz", "config": {"prompt": "First!", "lockout_ms": 0, "points_wrong": -1}, "results_visibility": "hidden"}),
    ]
}

async fn call(
    app: &TestApp,
    host: &Host,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let response = app.call(method, path, Some(&host.token), body).await;
    let status = response.status();
    let text = response.text().await.unwrap();
    (
        status,
        if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        },
    )
}

/// A session with one activity of every kind; returns its id.
async fn session_with_every_kind(app: &TestApp, host: &Host) -> String {
    let session = app
        .session(
            host,
            json!({"title": "All hands", "description": "Q3", "max_participants": 300,
                              "settings": {"allow_late_join": false, "banned_words": ["foo"]}}),
        )
        .await;
    let id = session["id"].as_str().unwrap().to_owned();
    for activity in every_kind() {
        let (status, body) = call(
            app,
            host,
            Method::POST,
            &format!("/api/v1/sessions/{id}/activities"),
            Some(activity),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    id
}

async fn definition_of(app: &TestApp, host: &Host, session: &str) -> Value {
    let (status, body) = call(
        app,
        host,
        Method::GET,
        &format!("/api/v1/sessions/{session}/definition"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

async fn create_template(app: &TestApp, host: &Host, body: Value) -> Value {
    let (status, body) = call(app, host, Method::POST, "/api/v1/templates/", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

fn ids(body: &Value, field: &str) -> Vec<Value> {
    body[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].clone())
        .collect()
}

both_backends!(
    every_kind_round_trips_through_templates_import_and_export,
    versions_are_numbered_immutable_and_carry_a_change_log,
    variants_override_texts_and_sessions_record_them,
    bad_definitions_are_refused_naming_the_field,
    templates_belong_to_their_owner_and_outlive_nothing_they_should_not,
    a_quiz_is_read_from_a_csv_file
);

async fn every_kind_round_trips_through_templates_import_and_export(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let original = session_with_every_kind(&app, &host).await;
    // How it is paced and its teams are part of the session; when it is open is not.
    let teams = json!({"names": ["Red", "Blue"], "assign": "auto", "scoring": "average"});
    app.patch_session(
        &host,
        &original,
        json!({"pace": "self_paced", "teams": teams, "hours": {"closes_at": "2099-01-01T00:00:00Z"}}),
    )
    .await;
    let exported = definition_of(&app, &host, &original).await;
    assert_eq!(exported["pace"], "self_paced");
    assert_eq!(exported["teams"], teams);
    assert!(exported.get("hours").is_none() && exported.get("closes_at").is_none());
    assert_eq!(exported["format"], "conflicto.session-definition");
    assert_eq!(exported["format_version"], 1);
    assert_eq!(exported["activities"].as_array().unwrap().len(), 8);
    assert_eq!(exported["settings"]["banned_words"], json!(["foo"]));
    assert_eq!(
        definition_of(&app, &host, &original).await,
        exported,
        "exporting twice gives the same keys"
    );

    let template = create_template(
        &app,
        &host,
        json!({"name": "All hands", "note": "first cut", "session_id": original}),
    )
    .await;
    let tid = template["id"].as_str().unwrap();
    assert_eq!(template["latest_version"], 1);
    assert_eq!(template["versions"][0]["version"], 1);
    assert_eq!(template["versions"][0]["note"], "first cut");
    assert_eq!(template["versions"][0]["activities"], 8);
    assert_eq!(
        template["versions"][0]["source_session_id"],
        original.as_str()
    );
    let (_, stored) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/templates/{tid}/versions/1"),
        None,
    )
    .await;
    assert_eq!(
        stored, exported,
        "the version holds the session as exported"
    );
    let (_, saved) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/sessions/{original}"),
        None,
    )
    .await;
    assert_eq!(
        saved["template"],
        json!({"template_id": tid, "version": 1, "variant": null})
    );

    // A session made from the version, and one imported from the document, export the
    // same document again: every kind's configuration and every key survive.
    let (status, made) = call(
        &app,
        &host,
        Method::POST,
        &format!("/api/v1/templates/{tid}/sessions"),
        Some(json!({})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["status"], "draft");
    assert_eq!(
        made["template"],
        json!({"template_id": tid, "version": 1, "variant": null})
    );
    assert_ne!(made["join_code"], saved["join_code"]);
    assert_eq!(
        (&made["pace"], &made["teams"], &made["closes_at"]),
        (&json!("self_paced"), &teams, &Value::Null)
    );
    assert_eq!(
        definition_of(&app, &host, made["id"].as_str().unwrap()).await,
        exported
    );
    let (status, imported) = call(
        &app,
        &host,
        Method::POST,
        "/api/v1/sessions/import",
        Some(exported.clone()),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{imported}");
    assert_eq!(imported["template"], Value::Null);
    assert_eq!(
        definition_of(&app, &host, imported["id"].as_str().unwrap()).await,
        exported
    );
    let (_, activities) = call(
        &app,
        &host,
        Method::GET,
        &format!(
            "/api/v1/sessions/{}/activities",
            imported["id"].as_str().unwrap()
        ),
        None,
    )
    .await;
    let positions: Vec<i64> = activities["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["position"].as_i64().unwrap())
        .collect();
    assert_eq!(positions, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert!(
        activities["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["state"] == "draft")
    );

    // A title of its own.
    let (_, titled) = call(
        &app,
        &host,
        Method::POST,
        &format!("/api/v1/templates/{tid}/sessions"),
        Some(json!({"version": 1, "title": "All hands, March"})),
    )
    .await;
    assert_eq!(titled["title"], "All hands, March");
}

async fn versions_are_numbered_immutable_and_carry_a_change_log(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let session = session_with_every_kind(&app, &host).await;
    let template =
        create_template(&app, &host, json!({"name": "Retro", "session_id": session})).await;
    let tid = template["id"].as_str().unwrap().to_owned();
    let (_, first) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/templates/{tid}/versions/1"),
        None,
    )
    .await;

    // Edit the poll, remove the rating, add an activity, move the buzzer to the front.
    let (_, activities) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/sessions/{session}/activities"),
        None,
    )
    .await;
    let items = activities["items"].as_array().unwrap().clone();
    let id_of = |kind: &str| {
        items.iter().find(|a| a["kind"] == kind).unwrap()["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let key_of = |kind: &str| {
        items.iter().find(|a| a["kind"] == kind).unwrap()["template_key"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (status, _) = call(&app, &host, Method::PATCH, &format!("/api/v1/activities/{}", id_of("poll")),
        Some(json!({"title": "Lunch today?", "config": {"question": "Where?", "options": ["Pizza", "Sushi"], "multiple": true}}))).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = call(
        &app,
        &host,
        Method::DELETE,
        &format!("/api/v1/activities/{}", id_of("rating")),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, added) = call(&app, &host, Method::POST, &format!("/api/v1/sessions/{session}/activities"),
        Some(json!({"kind": "poll", "title": "Coffee?", "config": {"question": "Coffee?", "options": ["Yes", "No"]}}))).await;
    let mut order: Vec<String> = vec![id_of("buzzer")];
    order.extend(
        items
            .iter()
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .filter(|id| *id != id_of("buzzer") && *id != id_of("rating")),
    );
    order.push(added["id"].as_str().unwrap().to_owned());
    let (status, body) = call(
        &app,
        &host,
        Method::POST,
        &format!("/api/v1/sessions/{session}/activities/reorder"),
        Some(json!({"activity_ids": order})),
    )
    .await;
    assert!(status.is_success(), "{status} {body}");

    let (status, second) = call(
        &app,
        &host,
        Method::POST,
        &format!("/api/v1/templates/{tid}/versions"),
        Some(json!({"session_id": session, "note": "lunch options"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(second["version"], 2);
    let changes = second["changes"].as_array().unwrap();
    let find = |change: &str, key: &str| {
        changes
            .iter()
            .find(|c| c["change"] == change && c["key"] == key)
            .cloned()
    };
    let poll = find("edited", &key_of("poll")).expect("the poll is edited");
    assert_eq!(
        poll["fields"],
        json!(["config.options[1]", "title"]),
        "{poll}"
    );
    assert_eq!(
        find("removed", &key_of("rating")).expect("the rating is removed")["title"],
        "Rate the talk"
    );
    let coffee = changes
        .iter()
        .find(|c| c["change"] == "added")
        .expect("one is added");
    assert_eq!(coffee["title"], "Coffee?");
    assert_eq!(
        find("edited", &key_of("buzzer")).expect("the buzzer moved")["fields"],
        json!(["position"])
    );
    assert_eq!(changes.len(), 4, "nothing else changed: {changes:?}");

    // The same log from the changes endpoint; version 1 is unchanged.
    let (_, log) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/templates/{tid}/versions/2/changes?from=1"),
        None,
    )
    .await;
    assert_eq!(log["changes"], second["changes"]);
    let (_, again) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/templates/{tid}/versions/1"),
        None,
    )
    .await;
    assert_eq!(again, first, "a version never changes");
    let (_, reverse) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/templates/{tid}/versions/1/changes?from=2"),
        None,
    )
    .await;
    assert!(
        reverse["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["change"] == "added" && c["title"] == "Rate the talk")
    );

    // Saves racing each other get distinct numbers.
    let versions_path = format!("/api/v1/templates/{tid}/versions");
    let saves = (0..5).map(|n| {
        call(
            &app,
            &host,
            Method::POST,
            &versions_path,
            Some(json!({"session_id": session, "note": format!("race {n}")})),
        )
    });
    let mut numbers: Vec<i64> = futures_util::future::join_all(saves)
        .await
        .into_iter()
        .map(|(status, body)| {
            assert_eq!(status, StatusCode::CREATED, "{body}");
            body["version"].as_i64().unwrap()
        })
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, [3, 4, 5, 6, 7]);
    let (_, detail) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/templates/{tid}"),
        None,
    )
    .await;
    assert_eq!(detail["latest_version"], 7);
    assert_eq!(
        ids(&detail, "versions"),
        [7, 6, 5, 4, 3, 2, 1].map(Value::from),
        "newest first"
    );
    assert!(
        detail["versions"][0]["changes"]
            .as_array()
            .unwrap()
            .is_empty(),
        "saving the same session again changes nothing"
    );
    let (status, body) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/templates/{tid}/versions/8"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_envelope(&body, "version_not_found");
}

async fn variants_override_texts_and_sessions_record_them(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let document = json!({
        "format": "conflicto.session-definition", "format_version": 1,
        "title": "Onboarding", "description": "Day one",
        "activities": [
            {"key": "mood", "kind": "poll", "title": "How are you?", "config": {"question": "Today?", "options": ["Good", "Tired"]}},
            {"key": "quiz", "kind": "quiz", "title": "Company quiz", "config": {"questions": [{"question": "Founded?", "choices": ["1999", "2004"], "correct": [0]}]}}
        ],
        "variants": {
            "de-DE": {"title": "Einarbeitung", "activities": {
                "mood": {"title": "Wie geht's?", "config": {"options": ["Gut", "Müde"]}},
                "quiz": {"config": {"questions": [{"question": "Gegründet?", "correct": [1]}]}, "time_limit_seconds": 60}
            }},
            "bavaria": {"activities": {"mood": {"config": {"options": ["Guad", "Miad"]}}}}
        }
    });
    let template = create_template(
        &app,
        &host,
        json!({"name": "Onboarding", "definition": document}),
    )
    .await;
    let tid = template["id"].as_str().unwrap().to_owned();
    assert_eq!(
        template["versions"][0]["variants"],
        json!(["bavaria", "de-DE"])
    );

    let (status, german) = call(
        &app,
        &host,
        Method::POST,
        &format!("/api/v1/templates/{tid}/sessions"),
        Some(json!({"variant": "de-DE"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{german}");
    assert_eq!(german["title"], "Einarbeitung");
    assert_eq!(
        german["template"],
        json!({"template_id": tid, "version": 1, "variant": "de-DE"})
    );
    let german_id = german["id"].as_str().unwrap().to_owned();
    let shown = definition_of(&app, &host, &german_id).await;
    assert_eq!(shown["activities"][0]["title"], "Wie geht's?");
    assert_eq!(
        shown["activities"][0]["config"]["options"],
        json!(["Gut", "Müde"])
    );
    assert_eq!(
        shown["activities"][0]["config"]["question"], "Today?",
        "what the variant does not override stays"
    );
    assert_eq!(
        shown["activities"][1]["config"]["questions"][0]["question"],
        "Gegründet?"
    );
    assert_eq!(
        shown["activities"][1]["config"]["questions"][0]["choices"],
        json!(["1999", "2004"])
    );
    assert_eq!(
        shown["activities"][1]["config"]["questions"][0]["correct"],
        json!([1])
    );
    assert_eq!(shown["activities"][1]["time_limit_seconds"], 60);

    let (_, resolved) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/templates/{tid}/versions/1?variant=bavaria"),
        None,
    )
    .await;
    assert_eq!(resolved["title"], "Onboarding");
    assert_eq!(
        resolved["activities"][0]["config"]["options"],
        json!(["Guad", "Miad"])
    );
    assert!(resolved.get("variants").is_none());
    let (status, body) = call(
        &app,
        &host,
        Method::POST,
        &format!("/api/v1/templates/{tid}/sessions"),
        Some(json!({"variant": "fr-FR"})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_envelope(&body, "variant_not_found");
    assert_eq!(
        body["error"]["details"]["variants"],
        json!(["bavaria", "de-DE"])
    );

    // A session made from a variant is not saved over the base.
    let (status, body) = call(
        &app,
        &host,
        Method::POST,
        &format!("/api/v1/templates/{tid}/versions"),
        Some(json!({"session_id": german_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_envelope(&body, "made_from_variant");

    // Saved from a base session, the variants carry over where they still fit: the poll
    // got a third option, so its overrides no longer fit; the quiz's still do.
    let (_, base) = call(
        &app,
        &host,
        Method::POST,
        &format!("/api/v1/templates/{tid}/sessions"),
        Some(json!({})),
    )
    .await;
    let base_id = base["id"].as_str().unwrap();
    let (_, activities) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/sessions/{base_id}/activities"),
        None,
    )
    .await;
    let poll = activities["items"][0]["id"].as_str().unwrap();
    call(
        &app,
        &host,
        Method::PATCH,
        &format!("/api/v1/activities/{poll}"),
        Some(json!({"config": {"question": "Today?", "options": ["Good", "Tired", "Great"]}})),
    )
    .await;
    let (status, second) = call(
        &app,
        &host,
        Method::POST,
        &format!("/api/v1/templates/{tid}/versions"),
        Some(json!({"session_id": base_id})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(second["variants"], json!(["bavaria", "de-DE"]));
    let (_, v2) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/templates/{tid}/versions/2"),
        None,
    )
    .await;
    assert!(
        v2["variants"]["de-DE"]["activities"].get("mood").is_none(),
        "{v2}"
    );
    assert!(
        v2["variants"]["de-DE"]["activities"].get("quiz").is_some(),
        "{v2}"
    );
    assert!(
        second["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["target"] == "variant" && c["key"] == "de-DE" && c["change"] == "edited")
    );
}

async fn bad_definitions_are_refused_naming_the_field(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let valid = json!({"format": "conflicto.session-definition", "format_version": 1, "title": "T",
        "activities": [{"kind": "poll", "title": "P", "config": {"question": "Q", "options": ["a", "b"]}}]});
    let with = |pointer: &str, value: Value| {
        let mut document = valid.clone();
        let (parent, last) = pointer.rsplit_once('/').unwrap();
        match document.pointer_mut(parent).unwrap() {
            Value::Array(items) => items[last.parse::<usize>().unwrap()] = value,
            other => {
                other[last] = value;
            }
        }
        document
    };
    let cases = [
        (with("/format", json!("something else")), "format"),
        (with("/format_version", json!(2)), "format_version"),
        (with("/title", json!("")), "title"),
        (
            with("/activities/0/kind", json!("survey")),
            "activities[0].kind",
        ),
        (
            with(
                "/activities/0/config",
                json!({"question": "Q", "options": ["a"]}),
            ),
            "activities[0].config.options",
        ),
        (with("/activities/0/title", json!(7)), "activities[0].title"),
        (
            with("/activities/0/time_limit_seconds", json!(0)),
            "activities[0].time_limit_seconds",
        ),
        (
            with(
                "/activities/0",
                json!({"kind": "poker", "title": "P", "config": {}, "results_visibility": "live"}),
            ),
            "activities[0].results_visibility",
        ),
        (
            with("/settings", json!({"banned_words": ["x".repeat(51)]})),
            "settings.banned_words[0]",
        ),
        (
            with("/max_participants", json!(1_000_000)),
            "max_participants",
        ),
        (
            with("/activities/0/colour", json!("red")),
            "activities[0].colour",
        ),
        (with("/teams", json!({"names": ["Solo"]})), "teams.names"),
        (with("/teams", json!([["A", "B"]])), "teams"),
        (with("/pace", json!("fast")), "pace"),
    ];
    for (document, field) in cases {
        for (path, body) in [
            ("/api/v1/sessions/import", document.clone()),
            (
                "/api/v1/templates/",
                json!({"name": "Broken", "definition": document.clone()}),
            ),
        ] {
            let (status, body) = call(&app, &host, Method::POST, path, Some(body)).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{path} {field}: {body}"
            );
            assert_envelope(&body, "invalid_definition");
            assert_eq!(body["error"]["details"]["field"], field, "{path}: {body}");
            if field == "activities[0].config.options" {
                // A rule the activity's checks found keeps its code and limits.
                assert_eq!(body["error"]["details"]["rule"], "count", "{body}");
                assert_eq!(body["error"]["details"]["params"]["min"], 2, "{body}");
            }
        }
    }
    let (_, sessions) = call(&app, &host, Method::GET, "/api/v1/sessions/", None).await;
    assert_eq!(sessions["total"], 0, "a refused import creates nothing");
    let (_, templates) = call(&app, &host, Method::GET, "/api/v1/templates/", None).await;
    assert_eq!(templates["items"], json!([]));

    let (status, body) = call(&app, &host, Method::POST, "/api/v1/templates/", Some(json!({"name": "Both", "definition": valid, "session_id": "0191b1a2-0000-7000-8000-000000000000"}))).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"]["field"], "session_id");
    let (status, body) = call(
        &app,
        &host,
        Method::POST,
        "/api/v1/templates/",
        Some(json!({"name": "Neither"})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    create_template(&app, &host, json!({"name": "Taken", "definition": valid})).await;
    let (status, body) = call(
        &app,
        &host,
        Method::POST,
        "/api/v1/templates/",
        Some(json!({"name": "Taken", "definition": valid})),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_envelope(&body, "template_name_taken");
    let (status, body) = call(
        &app,
        &host,
        Method::POST,
        "/api/v1/templates/",
        Some(json!({"name": " ", "definition": valid})),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["details"]["field"], "name");
    let malformed = app
        .client
        .post(app.url("/api/v1/sessions/import"))
        .bearer_auth(&host.token)
        .header("content-type", "application/json")
        .body("{\"format\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    assert_envelope(&json(malformed).await, "malformed_json");
}

async fn templates_belong_to_their_owner_and_outlive_nothing_they_should_not(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let ada = app.host("ada@example.org", false).await;
    let bob = app.host("bob@example.org", false).await;
    let admin = app.host("root@example.org", true).await;
    let session = session_with_every_kind(&app, &ada).await;
    let template =
        create_template(&app, &ada, json!({"name": "Mine", "session_id": session})).await;
    let tid = template["id"].as_str().unwrap().to_owned();
    for (method, path, body) in [
        (Method::GET, format!("/api/v1/templates/{tid}"), None),
        (
            Method::PATCH,
            format!("/api/v1/templates/{tid}"),
            Some(json!({"name": "Yours"})),
        ),
        (Method::DELETE, format!("/api/v1/templates/{tid}"), None),
        (
            Method::GET,
            format!("/api/v1/templates/{tid}/versions/1"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/templates/{tid}/sessions"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/templates/{tid}/versions"),
            Some(json!({"session_id": session})),
        ),
    ] {
        let (status, body) = call(&app, &bob, method.clone(), &path, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}");
        assert_envelope(&body, "template_not_found");
    }
    let (status, body) = call(
        &app,
        &bob,
        Method::POST,
        "/api/v1/templates/",
        Some(json!({"name": "Stolen", "session_id": session})),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_envelope(&body, "session_not_found");
    let (_, list) = call(&app, &bob, Method::GET, "/api/v1/templates/", None).await;
    assert_eq!(list["items"], json!([]));
    let (_, list) = call(&app, &admin, Method::GET, "/api/v1/templates/", None).await;
    assert_eq!(
        list["items"][0]["id"],
        tid.as_str(),
        "an admin sees every template"
    );
    let unauthenticated = app
        .call(Method::GET, "/api/v1/templates/", None, None)
        .await;
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);

    let (status, renamed) = call(
        &app,
        &ada,
        Method::PATCH,
        &format!("/api/v1/templates/{tid}"),
        Some(json!({"name": "Ours", "description": "shared"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{renamed}");
    assert_eq!(renamed["name"], "Ours");
    assert_eq!(renamed["latest_version"], 1);

    let (_, made) = call(
        &app,
        &ada,
        Method::POST,
        &format!("/api/v1/templates/{tid}/sessions"),
        Some(json!({})),
    )
    .await;
    let (status, _) = call(
        &app,
        &ada,
        Method::DELETE,
        &format!("/api/v1/templates/{tid}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = call(
        &app,
        &ada,
        Method::GET,
        &format!("/api/v1/templates/{tid}"),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, kept) = call(
        &app,
        &ada,
        Method::GET,
        &format!("/api/v1/sessions/{}", made["id"].as_str().unwrap()),
        None,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "sessions made from a deleted template stay"
    );
    assert_eq!(kept["template"]["version"], 1);
    assert_eq!(kept["activities"].as_array().unwrap().len(), 8);
}

async fn a_quiz_is_read_from_a_csv_file(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let session = app.session(&host, json!({"title": "Trivia night"})).await;
    let id = session["id"].as_str().unwrap();
    let send = |body: &'static str, content_type: &'static str, query: &'static str| {
        app.client
            .post(app.url(&format!("/api/v1/sessions/{id}/activities/csv/quiz{query}")))
            .bearer_auth(&host.token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let csv = "question;choice1;choice2;choice3;correct;time_limit_seconds\n\
               Hauptstadt von Bayern?;München;Nürnberg;Augsburg;1;15\n\
               Welche sind Flüsse?;Isar;Zugspitze;Donau;1 3;\n";
    let response = send(
        csv,
        "text/csv; charset=utf-8",
        "?title=Bayern-Quiz&scoring=correctness",
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let quiz = json(response).await;
    assert_eq!(quiz["kind"], "quiz");
    assert_eq!(quiz["title"], "Bayern-Quiz");
    assert_eq!(quiz["config"]["scoring"], "correctness");
    assert_eq!(
        quiz["config"]["questions"][0]["choices"],
        json!(["München", "Nürnberg", "Augsburg"])
    );
    assert_eq!(quiz["config"]["questions"][0]["time_limit_seconds"], 15);
    assert_eq!(quiz["config"]["questions"][1]["correct"], json!([0, 2]));
    assert_eq!(
        quiz["config"]["questions"][1]["time_limit_seconds"], 20,
        "the default"
    );

    let response = send(
        "question,choice1,choice2,correct\nq,a,b,1\nq2,a,b,4\n",
        "text/csv",
        "",
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(response).await;
    assert_envelope(&body, "invalid_csv");
    assert_eq!(body["error"]["details"]["field"], "line 3, column correct");
    let response = send(
        "question,choice1,choice2,correct\nq,a,b,1\n",
        "application/json",
        "",
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_envelope(&json(response).await, "unsupported_media_type");
    // Only a kind that says it takes CSV is made from one.
    let response = app
        .client
        .post(app.url(&format!("/api/v1/sessions/{id}/activities/csv/poll")))
        .bearer_auth(&host.token)
        .header("content-type", "text/csv")
        .body("question,choice1\nq,a\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_envelope(&json(response).await, "kind_not_found");
    let types = json(
        app.call(Method::GET, "/api/v1/activities/types", None, None)
            .await,
    )
    .await;
    let takes_csv: Vec<&str> = types["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|k| k["csv_import"] == true)
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(takes_csv, ["quiz"]);
    let (_, activities) = call(
        &app,
        &host,
        Method::GET,
        &format!("/api/v1/sessions/{id}/activities"),
        None,
    )
    .await;
    assert_eq!(
        activities["items"].as_array().unwrap().len(),
        1,
        "refused files add nothing"
    );
}
