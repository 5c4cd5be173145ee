//! Responses: acknowledged only when stored, validated by the kind, refused when the
//! activity is not active, idempotent by client_request_id, counted per voter, exact under
//! concurrency, and rebuilt from the database after a restart.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, assert_envelope, counts, json};

both_backends!(
    answers_and_presence_flushes_running_together_never_fail,
    votes_count_voters_and_a_changed_vote_moves,
    invalid_answers_and_inactive_activities_are_refused,
    a_retried_request_is_answered_but_never_counted_twice,
    concurrent_and_duplicate_submissions_give_exact_totals,
    one_participants_queued_answers_commit_in_the_order_they_came,
    a_round_dropped_from_memory_is_read_again_whole_when_next_needed,
    rounds_keep_their_answers_apart
);

async fn answers_and_presence_flushes_running_together_never_fail(db: TestDb) {
    // An answer batch holds its participants' rows while it commits, and a presence
    // flush updates the same rows. On PostgreSQL, holding them `for share` made the two
    // deadlock under load (seen in the 50,000-participant run), and the batch's answers
    // got 500. This run did not reproduce that deadlock here before the fix; it guards
    // the combination on both engines.
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
    let mut people = Vec::new();
    for n in 0..600 {
        people.push(app.join(&session, format!("p{n}")).await);
    }
    let store = app.state.store.clone();
    for round in 0..12 {
        for person in &people {
            app.state.presence.touch(person.id.parse().unwrap());
        }
        let flushing = {
            let (presence, store) = (app.state.presence.clone(), store.clone());
            tokio::spawn(async move { presence.flush(store.as_ref()).await })
        };
        let votes = futures_util::future::join_all(
            people
                .iter()
                .map(|p| app.vote(p, &poll, json!({"options": [round % 2]}), None)),
        )
        .await;
        flushing.await.unwrap();
        for vote in votes {
            assert_eq!(
                vote.status(),
                StatusCode::CREATED,
                "round {round}: {}",
                vote.text().await.unwrap()
            );
        }
    }
    let results = app.results(&host.token, &poll).await;
    assert_eq!(
        counts(&results),
        [0, 600],
        "the last round's answers, each once"
    );
}

async fn votes_count_voters_and_a_changed_vote_moves(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b", "c"], "multiple": true, "max_picks": 2}),
            json!({}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    let x = app.join(&session, "X").await;
    let y = app.join(&session, "Y").await;
    let stored = app.vote(&x, &poll, json!({"options": [2, 0]}), None).await;
    assert_eq!(stored.status(), StatusCode::CREATED);
    assert_eq!(
        json(stored).await["answer"],
        json!({"options": [0, 2]}),
        "normalised"
    );
    app.vote(&y, &poll, json!({"options": [0]}), None).await;
    let results = app.results(&host.token, &poll).await;
    assert_eq!(results["total_voters"], 2);
    assert_eq!(counts(&results), [2, 0, 1]);
    assert_eq!(results["options"][0]["percent"], 100.0);
    assert_eq!(results["options"][2]["label"], "c");

    app.vote(&x, &poll, json!({"options": [1]}), None).await;
    let results = app.results(&host.token, &poll).await;
    assert_eq!(
        results["total_voters"], 2,
        "a changed vote is not a second voter"
    );
    assert_eq!(counts(&results), [1, 1, 0]);
}

async fn invalid_answers_and_inactive_activities_are_refused(db: TestDb) {
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
    let guest = app.join(&session, "G").await;

    let early = app.vote(&guest, &poll, json!({"options": [0]}), None).await;
    assert_eq!(early.status(), StatusCode::CONFLICT);
    assert_envelope(&json(early).await, "activity_not_active");

    app.transition(&host, &poll, "active").await;
    for bad in [
        json!({"options": [5]}),
        json!({"options": [0, 1]}),
        json!({"options": []}),
        json!({"choice": 0}),
        json!("a"),
        json!({"options": [-1]}),
    ] {
        let response = app.vote(&guest, &poll, bad.clone(), None).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_envelope(&json(response).await, "invalid_answer");
    }
    let long_id = app
        .vote(
            &guest,
            &poll,
            json!({"options": [0]}),
            Some(&"k".repeat(65)),
        )
        .await;
    assert_eq!(long_id.status(), StatusCode::UNPROCESSABLE_ENTITY);

    app.transition(&host, &poll, "closed").await;
    let late = app.vote(&guest, &poll, json!({"options": [0]}), None).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    assert_eq!(
        app.results(&host.token, &poll).await["total_voters"],
        0,
        "nothing refused was counted"
    );
}

async fn a_retried_request_is_answered_but_never_counted_twice(db: TestDb) {
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
    let guest = app.join(&session, "Retrier").await;
    assert_eq!(
        app.vote(&guest, &poll, json!({"options": [0]}), Some("req-1"))
            .await
            .status(),
        StatusCode::CREATED
    );
    let replay = app
        .vote(&guest, &poll, json!({"options": [0]}), Some("req-1"))
        .await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(json(replay).await["replayed"], true);
    assert_eq!(
        app.vote(&guest, &poll, json!({"options": [1]}), Some("req-2"))
            .await
            .status(),
        StatusCode::CREATED
    );
    // A late retry of the first request must not undo the change.
    let stale = app
        .vote(&guest, &poll, json!({"options": [0]}), Some("req-1"))
        .await;
    assert_eq!(stale.status(), StatusCode::OK);
    assert_eq!(counts(&app.results(&host.token, &poll).await), [0, 1]);
}

async fn concurrent_and_duplicate_submissions_give_exact_totals(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b", "c", "d"]}),
            json!({}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    let voters =
        futures_util::future::join_all((0..60).map(|n| app.join(&session, format!("voter {n}"))))
            .await;

    // Each voter: a first vote sent three times at once with one request id, and a final
    // vote (with another id) sent twice. Everything races everything.
    let mut requests = Vec::new();
    for (n, voter) in voters.iter().enumerate() {
        let first = n % 4;
        let last = (n * 7 + 1) % 4;
        for _ in 0..3 {
            requests.push((voter, first, format!("first-{n}"), false));
        }
        for _ in 0..2 {
            requests.push((voter, last, format!("last-{n}"), true));
        }
    }
    // Send the first votes before the last ones, as a phone would, but all concurrently.
    let firsts = requests
        .iter()
        .filter(|r| !r.3)
        .map(|(v, o, id, _)| app.vote(v, &poll, json!({"options": [o]}), Some(id)));
    let first_results = futures_util::future::join_all(firsts).await;
    let lasts = requests
        .iter()
        .filter(|r| r.3)
        .map(|(v, o, id, _)| app.vote(v, &poll, json!({"options": [o]}), Some(id)));
    let last_results = futures_util::future::join_all(lasts).await;

    let all: Vec<StatusCode> = first_results
        .iter()
        .chain(&last_results)
        .map(reqwest::Response::status)
        .collect();
    assert!(
        all.iter()
            .all(|s| *s == StatusCode::CREATED || *s == StatusCode::OK),
        "{all:?}"
    );
    let created = all.iter().filter(|s| **s == StatusCode::CREATED).count();
    assert_eq!(created, 120, "exactly one stored per request id");

    let mut expected = [0u64; 4];
    for n in 0..60 {
        expected[(n * 7 + 1) % 4] += 1;
    }
    let results = app.results(&host.token, &poll).await;
    assert_eq!(results["total_voters"], 60);
    assert_eq!(counts(&results), expected);

    // And storage agrees with memory: rebuild from the database after a restart.
    let app = app.restart().await;
    let results = app.results(&host.token, &poll).await;
    assert_eq!(results["total_voters"], 60);
    assert_eq!(counts(&results), expected);
    let rows = app
        .state
        .store
        .responses_of_session(session.parse().unwrap())
        .await
        .unwrap();
    assert_eq!(rows.len(), 60, "one row per voter");
}

async fn one_participants_queued_answers_commit_in_the_order_they_came(db: TestDb) {
    // Each voter changes their vote six times without waiting for the acknowledgements,
    // interleaved with everyone else's. Whatever batches the writer forms, and however
    // many commit at once, each voter's last vote is the one that counts, in memory and
    // in storage.
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b", "c", "d"]}),
            json!({}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    let mut voters = Vec::new();
    for n in 0..80 {
        voters.push(app.join(&session, format!("v{n}")).await);
    }
    // One acknowledged vote first, so the round is loaded and no submission waits on the way.
    assert_eq!(
        app.vote(&voters[0], &poll, json!({"options": [3]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    let activity = app
        .state
        .store
        .activity(poll.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    let choice = |voter: usize, change: usize| (voter * 5 + change * 3) % 4;
    let state = &app.state;
    // Read the session's content filter now, so that each submission below, polled once,
    // goes straight to the writer.
    state.live.moderator(activity.session_id).await.unwrap();
    let submissions = tokio::task::unconstrained(async {
        let mut waiting = Vec::new();
        for change in 0..6 {
            for (n, voter) in voters.iter().enumerate() {
                let author = conflicto::responses::Author {
                    id: voter.id.parse().unwrap(),
                    nickname: voter.nickname.as_str().into(),
                    team: None,
                };
                let mut submitting = Box::pin(conflicto::responses::submit(
                    &state.live,
                    &activity,
                    author,
                    json!({"options": [choice(n, change)]}),
                    None,
                ));
                // Polled once here, in this order, it hands its job to the writer.
                assert!(futures_util::poll!(submitting.as_mut()).is_pending());
                waiting.push(submitting);
            }
        }
        futures_util::future::join_all(waiting).await
    })
    .await;
    assert!(
        submissions.iter().all(Result::is_ok),
        "every submission stored"
    );

    let mut expected = [0u64; 4];
    for n in 0..voters.len() {
        expected[choice(n, 5)] += 1;
    }
    assert_eq!(
        counts(&app.results(&host.token, &poll).await),
        expected,
        "in memory"
    );
    let app = app.restart().await;
    assert_eq!(
        counts(&app.results(&host.token, &poll).await),
        expected,
        "in storage"
    );
}

async fn a_round_dropped_from_memory_is_read_again_whole_when_next_needed(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b", "c"]}),
            json!({}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    let mut organizer = app.stream(&session, &host.token).await;
    let guests = [
        app.join(&session, "X").await,
        app.join(&session, "Y").await,
        app.join(&session, "Z").await,
    ];
    for (n, guest) in guests.iter().take(2).enumerate() {
        assert_eq!(
            app.vote(
                guest,
                &poll,
                json!({"options": [n]}),
                Some(&format!("first-{n}"))
            )
            .await
            .status(),
            StatusCode::CREATED
        );
    }
    organizer
        .wait_for("results", std::time::Duration::from_secs(3), |d| {
            d["results"]["total_voters"] == 2
        })
        .await;

    crate::helpers::drop_unused_rounds(&app).await;
    assert_eq!(
        counts(&app.results(&host.token, &poll).await),
        [1, 1, 0],
        "read from storage"
    );

    crate::helpers::drop_unused_rounds(&app).await;
    // An answer to a dropped round: a changed vote moves, a replay is not counted again.
    assert_eq!(
        app.vote(&guests[0], &poll, json!({"options": [2]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        app.vote(&guests[1], &poll, json!({"options": [1]}), Some("first-1"))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        app.vote(&guests[2], &poll, json!({"options": [2]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    let event = organizer
        .wait_for("results", std::time::Duration::from_secs(3), |d| {
            d["results"]["total_voters"] == 3
        })
        .await;
    assert_eq!(counts(&event.data["results"]), [0, 1, 2]);
    assert_eq!(counts(&app.results(&host.token, &poll).await), [0, 1, 2]);
}

async fn rounds_keep_their_answers_apart(db: TestDb) {
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
    let guest = app.join(&session, "Twice").await;
    app.vote(&guest, &poll, json!({"options": [0]}), None).await;
    app.transition(&host, &poll, "closed").await;
    app.transition(&host, &poll, "active").await;
    let round_two = app.results(&host.token, &poll).await;
    assert_eq!(
        (
            round_two["round"].as_i64(),
            round_two["total_voters"].as_u64()
        ),
        (Some(2), Some(0))
    );
    app.vote(&guest, &poll, json!({"options": [1]}), None).await;
    assert_eq!(counts(&app.results(&host.token, &poll).await), [0, 1]);
    let summary = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{session}/summary"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    let rounds = &summary["activities"][0]["rounds"];
    assert_eq!(counts(&rounds[0]["results"]), [1, 0], "round one is kept");
    assert_eq!(counts(&rounds[1]["results"]), [0, 1]);
}

both_backends!(answers_after_the_deadline_are_refused);

async fn answers_after_the_deadline_are_refused(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b"]}),
            json!({"time_limit_seconds": 1}),
        )
        .await;
    let active = app.transition(&host, &poll, "active").await;
    assert!(active["deadline_at"].is_string());
    let guest = app.join(&session, "Slow").await;
    assert_eq!(
        app.vote(&guest, &poll, json!({"options": [0]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let late = app.vote(&guest, &poll, json!({"options": [1]}), None).await;
    assert_eq!(late.status(), StatusCode::CONFLICT);
    // Refused either by the deadline check or because the timer already closed it.
    let message = assert_envelope(&json(late).await, "activity_not_active");
    assert!(
        message.contains("time is up") || message.contains("closed"),
        "{message}"
    );
    assert_eq!(
        counts(&app.results(&host.token, &poll).await),
        [1, 0],
        "the late change did not count"
    );
}
