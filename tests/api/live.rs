//! The live stream: snapshot then events, role filtering, resume with Last-Event-ID,
//! coalesced results, server-side timers, participant counts and the shutdown hint.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, assert_envelope, counts, json};

const SOON: Duration = Duration::from_secs(3);

both_backends!(
    a_stream_starts_with_a_snapshot_then_follows_the_session,
    hidden_results_never_reach_viewers_or_participants,
    a_reconnecting_stream_resumes_or_gets_a_fresh_snapshot,
    a_stream_resuming_after_its_room_was_forgotten_gets_a_snapshot,
    a_stream_resuming_after_results_changed_unwatched_ends_with_them,
    the_snapshot_can_be_polled_with_an_etag,
    results_are_coalesced_not_sent_per_vote,
    a_time_limit_closes_the_activity_on_the_server,
    add_time_extends_a_running_timer_and_every_screen_counts_down_from_it,
    a_deadline_survives_a_restart_with_nobody_connected,
    streams_check_their_token_against_the_session,
    a_removed_participants_open_stream_is_told_and_ends,
    shutdown_ends_streams_with_a_reconnect_hint
);

async fn a_stream_starts_with_a_snapshot_then_follows_the_session(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, code) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "Lunch?", "options": ["Pizza", "Sushi"]}),
            json!({}),
        )
        .await;
    let viewer_token = app.viewer_token(&host, &session).await;
    let guest = app.join(&session, "Phone").await;

    let mut organizer = app.stream(&session, &host.token).await;
    let mut viewer = app.stream(&session, &viewer_token).await;
    let mut phone = app.stream(&session, &guest.token).await;
    for (stream, audience) in [
        (&mut organizer, "organizer"),
        (&mut viewer, "viewer"),
        (&mut phone, "participant"),
    ] {
        let first = stream.next(SOON).await.expect("a first event");
        assert_eq!(first.event, "snapshot");
        assert!(first.id.is_some());
        assert_eq!(first.data["audience"], audience);
        assert_eq!(first.data["session"]["join_code"], code.as_str());
        assert!(first.data["activity"].is_null());
    }
    assert_eq!(
        organizer.seen[0].data["agenda"][0]["id"],
        poll.as_str(),
        "the organizer gets the agenda"
    );
    assert!(phone.seen[0].data.get("agenda").is_none());
    assert_eq!(phone.seen[0].data["me"]["nickname"], "Phone");

    app.transition(&host, &poll, "active").await;
    for stream in [&mut organizer, &mut viewer, &mut phone] {
        let event = stream
            .wait_for("activity", SOON, |d| d["activity"]["state"] == "active")
            .await;
        assert_eq!(
            event.data["activity"]["config"]["options"],
            json!(["Pizza", "Sushi"])
        );
    }
    app.vote(&guest, &poll, json!({"options": [1]}), None).await;
    for stream in [&mut organizer, &mut viewer, &mut phone] {
        let event = stream
            .wait_for("results", SOON, |d| d["results"]["total_voters"] == 1)
            .await;
        assert_eq!(event.data["activity_id"], poll.as_str());
        assert_eq!(counts(&event.data["results"]), [0, 1]);
        assert_eq!(
            event.data["results"]["kind"], "poll",
            "the same document as GET /results"
        );
    }
    app.join(&code, "Second").await;
    organizer
        .wait_for("participants", SOON, |d| d["participant_count"] == 2)
        .await;
    viewer
        .wait_for("participants", SOON, |d| d["participant_count"] == 2)
        .await;
}

async fn hidden_results_never_reach_viewers_or_participants(db: TestDb) {
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
    let viewer_token = app.viewer_token(&host, &session).await;
    let guest = app.join(&session, "Voter").await;
    let mut organizer = app.stream(&session, &host.token).await;
    let mut viewer = app.stream(&session, &viewer_token).await;
    let mut phone = app.stream(&session, &guest.token).await;
    app.vote(&guest, &poll, json!({"options": [0]}), None).await;

    organizer
        .wait_for("results", SOON, |d| d["results"]["total_voters"] == 1)
        .await;
    // Give the others time to receive anything they were (wrongly) sent.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for stream in [&mut viewer, &mut phone] {
        while stream.next(Duration::from_millis(200)).await.is_some() {}
        let snapshot = &stream.seen[0];
        assert_eq!(snapshot.event, "snapshot");
        assert!(snapshot.data["results"].is_null(), "{:?}", snapshot.data);
        assert_eq!(snapshot.data["activity"]["results_visible"], false);
        assert!(
            !stream.seen.iter().any(|e| e.event == "results"),
            "hidden results leaked: {:?}",
            stream.seen
        );
    }

    app.call(
        Method::POST,
        format!("/api/v1/activities/{poll}/commands/reveal"),
        Some(&host.token),
        None,
    )
    .await;
    viewer
        .wait_for("results", SOON, |d| d["results"]["total_voters"] == 1)
        .await;
    phone
        .wait_for("results", SOON, |d| d["results"]["total_voters"] == 1)
        .await;
}

async fn a_reconnecting_stream_resumes_or_gets_a_fresh_snapshot(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, code) = app.open_session(&host, None).await;
    let mut first = app.stream(&session, &host.token).await;
    let snapshot = first.next(SOON).await.unwrap();
    let last_id = snapshot.id.clone().unwrap();
    drop(first);

    app.join(&code, "While away").await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut resumed = app.stream_with(&session, &host.token, Some(&last_id)).await;
    // Missed events come first and no snapshot. The session's own opening may still
    // have been on its way when the first stream left, so it can come before the join.
    let missed = resumed
        .wait_for("participants", SOON, |d| d["participant_count"] == 1)
        .await;
    assert_eq!(missed.data["participant_count"], 1);
    assert!(
        resumed
            .seen
            .iter()
            .all(|e| e.event == "session" || e.event == "participants"),
        "{:?}",
        resumed.seen.iter().map(|e| &e.event).collect::<Vec<_>>()
    );

    for unknown in ["ffffffff-1", "garbage", "0"] {
        let mut fresh = app.stream_with(&session, &host.token, Some(unknown)).await;
        assert_eq!(
            fresh.next(SOON).await.unwrap().event,
            "snapshot",
            "{unknown}"
        );
    }
}

async fn a_stream_resuming_after_its_room_was_forgotten_gets_a_snapshot(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _, poll) = app.live_poll(&host).await;
    let guest = app.join(&session, "Voter").await;
    let mut first = app.stream(&session, &host.token).await;
    let last_id = first.next(SOON).await.unwrap().id.unwrap();
    drop(first);
    // Nobody watches: the room goes, and the vote is published to no one.
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.state.hub.sweep();
    app.vote(&guest, &poll, json!({"options": [1]}), None).await;

    let mut resumed = app.stream_with(&session, &host.token, Some(&last_id)).await;
    let event = resumed.next(SOON).await.unwrap();
    assert_eq!(
        event.event, "snapshot",
        "the stream cannot know what it missed"
    );
    assert_eq!(event.data["results"]["total_voters"], 1);
}

async fn a_stream_resuming_after_results_changed_unwatched_ends_with_them(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _, poll) = app.live_poll(&host).await;
    let guests =
        futures_util::future::join_all((0..3).map(|n| app.join(&session, format!("g{n}")))).await;
    let mut first = app.stream(&session, &host.token).await;
    app.vote(&guests[0], &poll, json!({"options": [0]}), None)
        .await;
    let seen = first
        .wait_for("results", SOON, |d| d["results"]["total_voters"] == 1)
        .await;
    let last_id = seen.id.unwrap();
    let follower = first.follower.clone();
    drop(first);
    tokio::time::sleep(Duration::from_millis(200)).await;
    for guest in &guests[1..] {
        app.vote(guest, &poll, json!({"options": [1]}), None).await;
    }
    tokio::time::sleep(Duration::from_millis(400)).await;

    // Whether it resumes or starts again from a snapshot, its copy ends up current.
    let mut resumed = app.stream_with(&session, &host.token, Some(&last_id)).await;
    resumed.follower = follower;
    resumed
        .wait_for("results", SOON, |d| d["results"]["total_voters"] == 3)
        .await;
}

async fn the_snapshot_can_be_polled_with_an_etag(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, code, poll) = app.live_poll(&host).await;
    let guest = app.join(&session, "Poller").await;
    let viewer = app.viewer_token(&host, &session).await;
    let path = app.url(&format!("/api/v1/sessions/{session}/snapshot"));
    let read = |token: &str, tag: Option<&str>| {
        let mut request = app.client.get(&path).bearer_auth(token);
        if let Some(tag) = tag {
            request = request.header(reqwest::header::IF_NONE_MATCH, tag);
        }
        request.send()
    };

    // The same document a new stream starts with, per audience.
    for (token, audience) in [
        (host.token.as_str(), "organizer"),
        (viewer.as_str(), "viewer"),
        (guest.token.as_str(), "participant"),
    ] {
        let mut stream = app.stream(&session, token).await;
        let first = stream.next(SOON).await.unwrap();
        let polled = read(token, None).await.unwrap();
        assert_eq!(polled.status(), StatusCode::OK);
        let polled = json(polled).await;
        assert_eq!(polled["audience"], audience);
        for key in [
            "session",
            "activity",
            "results",
            "me",
            "agenda",
            "reactions",
        ] {
            assert_eq!(polled.get(key), first.data.get(key), "{audience}: {key}");
        }
        assert_eq!(polled["session"]["join_code"], code.as_str());
    }

    // A phone's document does not count who is online (only the organizer's does), so
    // streams coming and going leave its tag alone.
    let first = read(&guest.token, None).await.unwrap();
    let tag = first.headers()[reqwest::header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(json(first).await.get("participants_online").is_none());
    let held = read(&guest.token, Some(&tag)).await.unwrap();
    assert_eq!(held.status(), StatusCode::NOT_MODIFIED);
    assert!(held.bytes().await.unwrap().is_empty());

    // An answer changes the organizer's results; a new activity state changes everyone's.
    let organizer_tag = read(&host.token, None).await.unwrap().headers()[reqwest::header::ETAG]
        .to_str()
        .unwrap()
        .to_owned();
    app.vote(&guest, &poll, json!({"options": [1]}), None).await;
    let after = read(&host.token, Some(&organizer_tag)).await.unwrap();
    assert_eq!(after.status(), StatusCode::OK);
    assert_eq!(json(after).await["results"]["total_voters"], 1);
    app.transition(&host, &poll, "closed").await;
    let closed = read(&guest.token, Some(&tag)).await.unwrap();
    assert_eq!(closed.status(), StatusCode::OK);
    assert_eq!(json(closed).await["activity"]["state"], "closed");

    let anonymous = app.client.get(&path).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_envelope(&json(anonymous).await, "unauthorized");
    let (other, _) = app.open_session(&host, None).await;
    let elsewhere = app
        .client
        .get(app.url(&format!("/api/v1/sessions/{other}/snapshot")))
        .bearer_auth(&guest.token)
        .send()
        .await
        .unwrap();
    assert_eq!(elsewhere.status(), StatusCode::NOT_FOUND);
}

async fn results_are_coalesced_not_sent_per_vote(db: TestDb) {
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
    let guests =
        futures_util::future::join_all((0..40).map(|n| app.join(&session, format!("g{n}")))).await;
    let mut organizer = app.stream(&session, &host.token).await;
    let mut phone = app.stream(&session, &guests[0].token).await;
    let votes = guests
        .iter()
        .enumerate()
        .map(|(n, g)| app.vote(g, &poll, json!({"options": [n % 2]}), None));
    for response in futures_util::future::join_all(votes).await {
        assert_eq!(response.status(), StatusCode::CREATED);
    }
    organizer
        .wait_for("results", SOON, |d| d["results"]["total_voters"] == 40)
        .await;
    phone
        .wait_for("results", SOON, |d| d["results"]["total_voters"] == 40)
        .await;
    let organizer_results = organizer
        .seen
        .iter()
        .filter(|e| e.event == "results")
        .count();
    let phone_results = phone.seen.iter().filter(|e| e.event == "results").count();
    assert!(
        organizer_results < 40,
        "{organizer_results} results events for 40 votes"
    );
    assert!(
        phone_results <= organizer_results,
        "participants get results no more often"
    );
}

async fn a_time_limit_closes_the_activity_on_the_server(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b"]}),
            json!({"time_limit_seconds": 2}),
        )
        .await;
    let mut organizer = app.stream(&session, &host.token).await;
    app.transition(&host, &poll, "active").await;
    let tick = organizer
        .wait_for("timer", SOON, |d| d["activity_id"] == poll.as_str())
        .await;
    let remaining = tick.data["remaining_ms"].as_i64().unwrap();
    assert!((0..=2000).contains(&remaining), "{remaining}");
    assert!(tick.data["server_time"].is_string() && tick.data["deadline_at"].is_string());
    organizer
        .wait_for("activity", Duration::from_secs(5), |d| {
            d["activity"]["state"] == "closed"
        })
        .await;
    let activity = json(
        app.call(
            Method::GET,
            format!("/api/v1/activities/{poll}"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(activity["state"], "closed");
}

async fn add_time_extends_a_running_timer_and_every_screen_counts_down_from_it(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b"]}),
            json!({"time_limit_seconds": 2}),
        )
        .await;
    let untimed = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b"]}),
            json!({}),
        )
        .await;
    let add = |activity: &str, args: serde_json::Value| {
        app.call(
            Method::POST,
            format!("/api/v1/activities/{activity}/commands/add_time"),
            Some(&host.token),
            Some(args),
        )
    };
    let refused = add(&poll, json!({"seconds": 30})).await;
    assert_eq!(
        refused.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "not running yet"
    );
    assert_envelope(&json(refused).await, "invalid_command");

    let mut organizer = app.stream(&session, &host.token).await;
    app.transition(&host, &poll, "active").await;
    let before = json(
        app.call(
            Method::GET,
            format!("/api/v1/activities/{poll}"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    let deadline = |a: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(a["deadline_at"].as_str().unwrap()).unwrap()
    };
    for bad in [
        json!({}),
        json!({"seconds": 0}),
        json!({"seconds": 3601}),
        json!({"seconds": "10"}),
    ] {
        let response = add(&poll, bad.clone()).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let response = add(&poll, json!({"seconds": 30})).await;
    assert_eq!(response.status(), StatusCode::OK);
    let after = json(response).await;
    assert_eq!(
        (deadline(&after) - deadline(&before)).num_seconds(),
        30,
        "{before} {after}"
    );
    // Two more at once: both count (a command never loses another's update).
    let (a, b) = tokio::join!(
        add(&poll, json!({"seconds": 5})),
        add(&poll, json!({"seconds": 5}))
    );
    assert_eq!((a.status(), b.status()), (StatusCode::OK, StatusCode::OK));
    let now = json(
        app.call(
            Method::GET,
            format!("/api/v1/activities/{poll}"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!((deadline(&now) - deadline(&before)).num_seconds(), 40);
    let tick = organizer
        .wait_for("timer", SOON, |d| {
            d["activity_id"] == poll.as_str() && d["remaining_ms"].as_i64().unwrap_or(0) > 30_000
        })
        .await;
    assert_eq!(tick.data["deadline_at"], now["deadline_at"]);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let still = json(
        app.call(
            Method::GET,
            format!("/api/v1/activities/{poll}"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        still["state"], "active",
        "the old deadline passed; the new one holds"
    );

    app.transition(&host, &poll, "closed").await;
    app.transition(&host, &untimed, "active").await;
    let untimed_add = add(&untimed, json!({"seconds": 30})).await;
    assert_eq!(
        untimed_add.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "no timer to extend"
    );
}

async fn a_deadline_survives_a_restart_with_nobody_connected(db: TestDb) {
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
    app.transition(&host, &poll, "active").await;
    let app = app.restart().await;
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let activity = json(
        app.call(
            Method::GET,
            format!("/api/v1/activities/{poll}"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        activity["state"], "closed",
        "closed by the new process from the stored deadline"
    );
}

async fn streams_check_their_token_against_the_session(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let other = app.host("other@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let (elsewhere, _) = app.open_session(&host, None).await;
    let guest = app.join(&session, "G").await;
    let viewer_token = app.viewer_token(&host, &session).await;
    let path = format!("/api/v1/sessions/{session}/events");
    let elsewhere_path = format!("/api/v1/sessions/{elsewhere}/events");
    let cases: [(&str, Option<&str>, StatusCode); 6] = [
        (&path, None, StatusCode::UNAUTHORIZED),
        (&path, Some("cfp_forged"), StatusCode::UNAUTHORIZED),
        (&path, Some(&other.token), StatusCode::NOT_FOUND),
        (&elsewhere_path, Some(&guest.token), StatusCode::NOT_FOUND),
        (&elsewhere_path, Some(&viewer_token), StatusCode::NOT_FOUND),
        (&path, Some("nonsense"), StatusCode::UNAUTHORIZED),
    ];
    for (path, token, status) in cases {
        let response = app.call(Method::GET, path, token, None).await;
        assert_eq!(response.status(), status, "{path} with {token:?}");
        assert!(json(response).await.get("error").is_some());
    }
    // EventSource cannot send headers: the token also works as a query parameter.
    let by_query = app
        .client
        .get(app.url(&format!("{path}?token={}", guest.token)))
        .send()
        .await
        .unwrap();
    assert_eq!(by_query.status(), StatusCode::OK);
    app.call(
        Method::DELETE,
        format!("/api/v1/sessions/{session}/participants/{}", guest.id),
        Some(&host.token),
        None,
    )
    .await;
    let removed = app.call(Method::GET, &path, Some(&guest.token), None).await;
    assert_eq!(removed.status(), StatusCode::FORBIDDEN);
    assert_envelope(&json(removed).await, "participant_removed");
}

async fn a_removed_participants_open_stream_is_told_and_ends(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let ann = app.join(&session, "ann").await;
    let bob = app.join(&session, "bob").await;
    let mut ann_stream = app.stream(&session, &ann.token).await;
    let mut bob_stream = app.stream(&session, &bob.token).await;
    assert_eq!(ann_stream.next(SOON).await.unwrap().event, "snapshot");
    assert_eq!(bob_stream.next(SOON).await.unwrap().event, "snapshot");
    let removed = app
        .call(
            reqwest::Method::DELETE,
            format!("/api/v1/sessions/{session}/participants/{}", ann.id),
            Some(&host.token),
            None,
        )
        .await;
    assert!(removed.status().is_success(), "{}", removed.status());
    let told = ann_stream.wait_for("removed", SOON, |_| true).await;
    assert_eq!(told.data["reason"], "removed");
    assert!(
        ann_stream.next(SOON).await.is_none(),
        "then the stream ends"
    );
    // Everyone else's stream carries on and never hears whom.
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "q", "options": ["a", "b"]}),
            json!({}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    let told = bob_stream
        .wait_for("activity", SOON, |d| d["activity"]["state"] == "active")
        .await;
    assert!(!told.data.to_string().contains(&ann.id));
    assert!(
        bob_stream
            .seen
            .iter()
            .all(|e| e.event != "removed" && !e.data.to_string().contains(&ann.id))
    );
}

async fn shutdown_ends_streams_with_a_reconnect_hint(db: TestDb) {
    let mut app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let mut stream = app.stream(&session, &host.token).await;
    assert_eq!(stream.next(SOON).await.unwrap().event, "snapshot");
    let started = std::time::Instant::now();
    app.stop().await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "an open stream does not hold shutdown up"
    );
    let last = stream.wait_for("shutdown", SOON, |_| true).await;
    assert_eq!(last.data["retry_ms"], 1000);
    assert!(stream.next(SOON).await.is_none(), "then the stream ends");
}

/// Two instances on one PostgreSQL database: changes made on one reach streams on the other.
mod instances {
    use super::*;
    use crate::common::TestDb;

    async fn two_instances() -> Option<(TestApp, TestApp)> {
        let db = TestDb::postgres().await?;
        let a = TestApp::spawn(db).await;
        let b = a.peer().await;
        Some((a, b))
    }

    /// Two instances, an organizer, an open session and a poll (not yet active) with
    /// these options, made on the first instance.
    async fn two_instances_with_a_poll(
        options: &[&str],
    ) -> Option<(TestApp, TestApp, crate::helpers::Host, String, String)> {
        let (a, b) = two_instances().await?;
        let host = a.host("ada@example.org", false).await;
        let (session, _) = a.open_session(&host, None).await;
        let poll = a
            .poll(
                &host,
                &session,
                json!({"question": "q", "options": options}),
                json!({}),
            )
            .await;
        Some((a, b, host, session, poll))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_vote_on_one_instance_reaches_a_stream_on_another_within_a_second() {
        let Some((a, b, host, session, poll)) = two_instances_with_a_poll(&["a", "b", "c"]).await
        else {
            return;
        };
        let viewer_token = a.viewer_token(&host, &session).await;
        let mut screen_on_b = b.stream(&session, &viewer_token).await;
        assert_eq!(screen_on_b.next(SOON).await.unwrap().event, "snapshot");

        a.transition(&host, &poll, "active").await;
        screen_on_b
            .wait_for("activity", SOON, |d| d["activity"]["state"] == "active")
            .await;

        let guests =
            futures_util::future::join_all((0..12).map(|n| a.join(&session, format!("g{n}"))))
                .await;
        screen_on_b
            .wait_for("participants", SOON, |d| d["participant_count"] == 12)
            .await;
        for (n, guest) in guests.iter().enumerate() {
            // Votes land on both instances, as behind a load balancer.
            let instance = if n % 2 == 0 { &a } else { &b };
            assert_eq!(
                instance
                    .vote(guest, &poll, json!({"options": [n % 3]}), None)
                    .await
                    .status(),
                StatusCode::CREATED
            );
        }
        // From the last vote's acknowledgement to the screen on the other instance.
        let voted_at = std::time::Instant::now();
        let event = screen_on_b
            .wait_for("results", SOON, |d| d["results"]["total_voters"] == 12)
            .await;
        assert!(
            voted_at.elapsed() < Duration::from_secs(1),
            "reached instance B in {:?}",
            voted_at.elapsed()
        );
        assert_eq!(counts(&event.data["results"]), [4, 4, 4], "{}", event.data);
        // Both instances converge on the same, exact counts within a second.
        let deadline = std::time::Instant::now() + Duration::from_secs(1);
        for instance in [&a, &b] {
            loop {
                let seen = counts(&instance.results(&host.token, &poll).await);
                if seen == [4, 4, 4] {
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "an instance still shows {seen:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_losing_its_database_connections_an_instance_resyncs() {
        let Some((a, b, host, session, poll)) = two_instances_with_a_poll(&["a", "b"]).await else {
            return;
        };
        a.transition(&host, &poll, "active").await;
        let guest = a.join(&session, "G").await;
        let mut organizer_on_b = b.stream(&session, &host.token).await;
        assert_eq!(organizer_on_b.next(SOON).await.unwrap().event, "snapshot");

        // Cut every connection of both instances, listeners included.
        let admin = sqlx::PgPool::connect(&a.db.raw_url).await.unwrap();
        let cut: Vec<i32> = sqlx::query_scalar(
            "select pid from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() \
             and application_name = 'conflicto'",
        )
        .fetch_all(&admin)
        .await
        .unwrap();
        assert!(cut.len() >= 2, "both listeners were connected: {cut:?}");
        sqlx::query("select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() \
                     and pid <> pg_backend_pid() and application_name = 'conflicto'")
            .execute(&admin)
            .await
            .unwrap();

        // A vote on A still reaches B: the pools and listeners reconnect, then resync.
        let mut stored = false;
        for _ in 0..20 {
            if a.vote(&guest, &poll, json!({"options": [1]}), None)
                .await
                .status()
                == StatusCode::CREATED
            {
                stored = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(stored, "A recovers its database connections");
        organizer_on_b
            .wait_for("results", Duration::from_secs(5), |d| {
                d["results"]["total_voters"] == 1
            })
            .await;
        assert_eq!(counts(&b.results(&host.token, &poll).await), [0, 1]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_round_dropped_from_memory_is_read_again_when_another_instances_votes_reach_its_screen()
     {
        let Some((a, b, host, session, poll)) = two_instances_with_a_poll(&["a", "b"]).await else {
            return;
        };
        let viewer_token = a.viewer_token(&host, &session).await;
        let mut screen_on_b = b.stream(&session, &viewer_token).await;
        assert_eq!(screen_on_b.next(SOON).await.unwrap().event, "snapshot");
        a.transition(&host, &poll, "active").await;
        let (x, y) = (a.join(&session, "X").await, a.join(&session, "Y").await);
        assert_eq!(
            a.vote(&x, &poll, json!({"options": [0]}), None)
                .await
                .status(),
            StatusCode::CREATED
        );
        screen_on_b
            .wait_for("results", SOON, |d| d["results"]["total_voters"] == 1)
            .await;

        crate::helpers::drop_unused_rounds(&b).await;
        assert_eq!(
            a.vote(&y, &poll, json!({"options": [1]}), None)
                .await
                .status(),
            StatusCode::CREATED
        );
        let event = screen_on_b
            .wait_for("results", SOON, |d| d["results"]["total_voters"] == 2)
            .await;
        assert_eq!(
            counts(&event.data["results"]),
            [1, 1],
            "read again whole: {}",
            event.data
        );
    }
}
