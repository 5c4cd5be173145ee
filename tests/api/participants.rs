//! Participants: joining by id or code, nickname rules and suggestions, capacity under
//! concurrency, rejoin with the token, heartbeat, presence, removal and bans.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, assert_envelope, json};

both_backends!(
    people_join_by_id_or_by_code_and_nicknames_follow_the_rules,
    the_nickname_check_answers_before_joining,
    capacity_holds_under_concurrent_joins,
    a_crowd_joining_at_once_is_counted_once_each_and_duplicates_are_refused,
    presence_is_flushed_to_storage,
    presence_is_flushed_a_share_at_a_time_and_whole_in_ten_shares,
    drafts_cannot_be_joined,
    a_token_rejoins_as_the_same_participant_with_their_answers,
    heartbeats_and_the_organizers_list_show_presence,
    joined_online_and_removed_are_counted_one_way,
    removal_ends_a_token_and_a_ban_blocks_the_nickname_too,
    without_a_required_nickname_a_guest_name_is_made_up
);

async fn people_join_by_id_or_by_code_and_nicknames_follow_the_rules(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (id, code) = app.open_session(&host, None).await;
    let by_id = app.join(&id, "  Grace   Hopper ").await;
    assert_eq!(by_id.nickname, "Grace Hopper");
    assert!(by_id.token.starts_with("cfp_"));
    let by_code = app.join(&code.to_lowercase(), "Linus").await;
    assert_ne!(by_id.id, by_code.id);

    let join = |nickname: serde_json::Value| {
        app.call(
            Method::POST,
            format!("/api/v1/sessions/{code}/join"),
            None,
            Some(json!({"nickname": nickname})),
        )
    };
    let taken = join(json!("GRACE hopper")).await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    let taken = json(taken).await;
    assert_envelope(&taken, "nickname_taken");
    assert_eq!(taken["error"]["details"]["suggestion"], "GRACE hopper 2");
    for bad in [
        json!(""),
        json!("   "),
        json!("x".repeat(41)),
        json!("tab\u{0009}bed"),
    ] {
        let response = join(bad.clone()).await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_envelope(&json(response).await, "invalid_nickname");
    }
    let forty = join(json!("y".repeat(40))).await;
    assert_eq!(forty.status(), StatusCode::CREATED);
}

async fn the_nickname_check_answers_before_joining(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (id, code) = app.open_session(&host, None).await;
    app.join(&id, "Ada").await;
    let check = |nick: &str| {
        app.call(
            Method::GET,
            format!("/api/v1/sessions/{code}/nicknames/validate?nickname={nick}"),
            None,
            None,
        )
    };
    let free = json(check("Babbage").await).await;
    assert_eq!(
        (free["valid"].as_bool(), free["available"].as_bool()),
        (Some(true), Some(true))
    );
    let taken = json(check("ada").await).await;
    assert_eq!(
        (taken["valid"].as_bool(), taken["available"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(taken["suggestion"], "ada 2");
    let invalid = json(check("%20").await).await;
    assert_eq!(invalid["valid"], false);
}

async fn capacity_holds_under_concurrent_joins(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (id, _) = app.open_session(&host, Some(5)).await;
    let attempts = (0..20).map(|n| {
        app.call(
            Method::POST,
            format!("/api/v1/sessions/{id}/join"),
            None,
            Some(json!({"nickname": format!("p{n}")})),
        )
    });
    let results = futures_util::future::join_all(attempts).await;
    let joined = results
        .iter()
        .filter(|r| r.status() == StatusCode::CREATED)
        .count();
    let full = results
        .iter()
        .filter(|r| r.status() == StatusCode::CONFLICT)
        .count();
    assert_eq!((joined, full), (5, 15));
    let session = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{id}"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(session["participant_count"], 5);
    let more = app
        .call(
            Method::POST,
            &format!("/api/v1/sessions/{id}/join"),
            None,
            Some(json!({"nickname": "late"})),
        )
        .await;
    assert_envelope(&json(more).await, "session_full");
}

async fn a_crowd_joining_at_once_is_counted_once_each_and_duplicates_are_refused(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (id, _) = app.open_session(&host, Some(1_000)).await;
    // 120 joins at once, each of 60 nicknames twice (in differing case): joins share
    // commits, so both holders of a nickname may land in one batch.
    let attempts = (0..120).map(|n| {
        let nickname = if n % 2 == 0 {
            format!("crowd {}", n / 2)
        } else {
            format!("CROWD {}", n / 2)
        };
        app.call(
            Method::POST,
            format!("/api/v1/sessions/{id}/join"),
            None,
            Some(json!({"nickname": nickname})),
        )
    });
    let results = futures_util::future::join_all(attempts).await;
    let mut joined = 0;
    let mut taken = 0;
    for result in results {
        match result.status() {
            StatusCode::CREATED => joined += 1,
            StatusCode::CONFLICT => {
                assert_envelope(&json(result).await, "nickname_taken");
                taken += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!((joined, taken), (60, 60));
    let session = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{id}"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(session["participant_count"], 60);
    let list = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{id}/participants?limit=200"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(list["total"], 60);
}

async fn presence_is_flushed_to_storage(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (id, _) = app.open_session(&host, None).await;
    let mut people = Vec::new();
    // More than one flush statement's worth.
    for n in 0..(conflicto::storage::PRESENCE_CHUNK + 10) {
        people.push(app.join(&id, &format!("p{n}")).await);
    }
    let store = app.state.store.as_ref();
    // Each person's own time: the app's flusher may have written some joins earlier than
    // others.
    let mut joined_at = Vec::new();
    for person in &people {
        joined_at.push(
            store
                .participant(person.id.parse().unwrap())
                .await
                .unwrap()
                .unwrap()
                .last_seen_at,
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    for person in &people {
        let beat = app
            .call(
                Method::POST,
                &format!("/api/v1/participants/{}/heartbeat", person.id),
                Some(&person.token),
                None,
            )
            .await;
        assert_eq!(beat.status(), StatusCode::OK);
    }
    app.state.presence.flush(store).await;
    for (person, joined_at) in [
        (&people[0], joined_at[0]),
        (people.last().unwrap(), *joined_at.last().unwrap()),
    ] {
        let stored = store
            .participant(person.id.parse().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(
            stored.last_seen_at > joined_at,
            "{}: {} after {}",
            person.nickname,
            stored.last_seen_at,
            joined_at
        );
    }
}

async fn presence_is_flushed_a_share_at_a_time_and_whole_in_ten_shares(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (id, _) = app.open_session(&host, None).await;
    let mut people = Vec::new();
    for n in 0..200 {
        people.push(app.join(&id, &format!("p{n}")).await);
    }
    let store = app.state.store.as_ref();
    // Whatever joining left pending is written first, so only the touches below remain.
    app.state.presence.flush(store).await;
    // Each person's own time: the app's flusher may have written some joins earlier than
    // others.
    let mut joined_at = Vec::new();
    for person in &people {
        joined_at.push(
            store
                .participant(person.id.parse().unwrap())
                .await
                .unwrap()
                .unwrap()
                .last_seen_at,
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    // A book of its own: the app's flusher writes a share of its book every second, and
    // on a busy machine it could write every share while this test reads.
    let book = conflicto::participants::presence::PresenceBook::default();
    for person in &people {
        book.touch(person.id.parse().unwrap());
    }
    let written = || async {
        let mut written = 0;
        for (person, joined_at) in people.iter().zip(&joined_at) {
            let stored = store
                .participant(person.id.parse().unwrap())
                .await
                .unwrap()
                .unwrap();
            if stored.last_seen_at > *joined_at {
                written += 1;
            }
        }
        written
    };
    book.flush_share(store, 3).await;
    let after_one = written().await;
    // 200 random ids in ten shares: one share holds some of them and never all.
    assert!(
        after_one > 0 && after_one < people.len(),
        "one share wrote {after_one} of {}",
        people.len()
    );
    for share in (0..10).filter(|share| *share != 3) {
        book.flush_share(store, share).await;
    }
    assert_eq!(
        written().await,
        people.len(),
        "ten shares write everyone once"
    );
}

async fn drafts_cannot_be_joined(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let id = app.session(&host, json!({"title": "Not yet"})).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = app
        .call(
            Method::POST,
            &format!("/api/v1/sessions/{id}/join"),
            None,
            Some(json!({"nickname": "Early"})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_envelope(&json(response).await, "session_not_open");
    let unknown = app
        .call(
            Method::POST,
            "/api/v1/sessions/QQQQQQ/join",
            None,
            Some(json!({"nickname": "x"})),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
}

async fn a_token_rejoins_as_the_same_participant_with_their_answers(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (id, _) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &id,
            json!({"question": "?", "options": ["a", "b"]}),
            json!({}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    let guest = app.join(&id, "Phone").await;
    assert_eq!(
        app.vote(&guest, &poll, json!({"options": [1]}), None)
            .await
            .status(),
        StatusCode::CREATED
    );

    let again = app
        .call(
            Method::POST,
            &format!("/api/v1/sessions/{id}/join"),
            None,
            Some(json!({"token": guest.token})),
        )
        .await;
    assert_eq!(again.status(), StatusCode::OK);
    let again = json(again).await;
    assert_eq!(again["participant_id"], guest.id.as_str());
    assert_eq!(again["nickname"], "Phone");
    assert_eq!(again["rejoined"], true);
    let via_header = app
        .call(
            Method::POST,
            &format!("/api/v1/sessions/{id}/join"),
            Some(&guest.token),
            Some(json!({})),
        )
        .await;
    assert_eq!(json(via_header).await["participant_id"], guest.id.as_str());

    let me = json(
        app.call(
            Method::GET,
            "/api/v1/participants/me",
            Some(&guest.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(me["participant_id"], guest.id.as_str());
    assert_eq!(me["responses"][0]["answer"], json!({"options": [1]}));
    let mine = json(
        app.call(
            Method::GET,
            &format!("/api/v1/activities/{poll}/responses/me"),
            Some(&guest.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(mine["items"][0]["answer"], json!({"options": [1]}));
    let count = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{id}"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        count["participant_count"], 1,
        "rejoining does not count twice"
    );
}

async fn heartbeats_and_the_organizers_list_show_presence(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (id, _) = app.open_session(&host, None).await;
    let a = app.join(&id, "A").await;
    let b = app.join(&id, "B").await;
    let beat = app
        .call(
            Method::POST,
            &format!("/api/v1/participants/{}/heartbeat", a.id),
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(beat.status(), StatusCode::OK);
    assert_eq!(json(beat).await["presence"], "online");
    let other = app
        .call(
            Method::POST,
            &format!("/api/v1/participants/{}/heartbeat", b.id),
            Some(&a.token),
            None,
        )
        .await;
    assert_eq!(
        other.status(),
        StatusCode::FORBIDDEN,
        "nobody beats for someone else"
    );
    let list = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{id}/participants"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(list["total"], 2);
    let items = list["items"].as_array().unwrap();
    assert_eq!(
        items
            .iter()
            .map(|p| p["nickname"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["A", "B"]
    );
    assert!(
        items
            .iter()
            .all(|p| p["presence"] == "online" && p["status"] == "active")
    );
}

/// "Joined" leaves out the removed, "online" is joined and in touch within 30 s by the times
/// in storage, and the list's counts, its dots and the store's count say the same.
async fn joined_online_and_removed_are_counted_one_way(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (id, _) = app.open_session(&host, None).await;
    let ann = app.join(&id, "Ann").await;
    app.join(&id, "Bob").await;
    let cem = app.join(&id, "Cem").await;
    let removed = app
        .call(
            Method::DELETE,
            &format!("/api/v1/sessions/{id}/participants/{}", cem.id),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(removed.status(), StatusCode::NO_CONTENT);
    let listed = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{id}/participants"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(listed["total"], 3, "the removed stay listed");
    assert_eq!(listed["joined"], 2, "but are not counted as joined");
    assert_eq!(listed["online"], 2, "nor as online, though seen just now");
    let online_dots = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "active" && p["presence"] == "online")
        .count();
    assert_eq!(online_dots, 2);

    // Contact times decide, on either engine: later than every contact, nobody is online;
    // a contact a minute ahead makes only Ann online then.
    let store = app.state.store.as_ref();
    let session: conflicto::ids::SessionId = id.parse().unwrap();
    let now = chrono::Utc::now();
    let ahead = now + chrono::Duration::seconds(60);
    assert_eq!(
        store
            .count_present(session, now - chrono::Duration::seconds(30))
            .await
            .unwrap(),
        2
    );
    assert_eq!(store.count_present(session, ahead).await.unwrap(), 0);
    store
        .record_presence(&[
            (ann.id.parse().unwrap(), ahead),
            (cem.id.parse().unwrap(), ahead),
        ])
        .await
        .unwrap();
    assert_eq!(
        store.count_present(session, ahead).await.unwrap(),
        1,
        "Ann, not the removed Cem"
    );
}

async fn removal_ends_a_token_and_a_ban_blocks_the_nickname_too(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (id, _) = app.open_session(&host, None).await;
    let kicked = app.join(&id, "Kicked").await;
    let banned = app.join(&id, "Troll").await;
    let remove = |who: &str, ban: bool| {
        app.call(
            Method::DELETE,
            format!("/api/v1/sessions/{id}/participants/{who}?ban={ban}"),
            Some(&host.token),
            None,
        )
    };
    assert_eq!(
        remove(&kicked.id, false).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        remove(&banned.id, true).await.status(),
        StatusCode::NO_CONTENT
    );

    let me = app
        .call(
            Method::GET,
            "/api/v1/participants/me",
            Some(&kicked.token),
            None,
        )
        .await;
    assert_eq!(me.status(), StatusCode::FORBIDDEN);
    assert_envelope(&json(me).await, "participant_removed");

    // A removed participant may come back, as someone new; the nickname is free again.
    let back = app.join(&id, "Kicked").await;
    assert_ne!(back.id, kicked.id);

    let retry = app
        .call(
            Method::POST,
            &format!("/api/v1/sessions/{id}/join"),
            None,
            Some(json!({"token": banned.token, "nickname": "Other"})),
        )
        .await;
    assert_eq!(
        retry.status(),
        StatusCode::FORBIDDEN,
        "a banned token cannot rejoin"
    );
    let same_name = app
        .call(
            Method::POST,
            &format!("/api/v1/sessions/{id}/join"),
            None,
            Some(json!({"nickname": "TROLL"})),
        )
        .await;
    assert_eq!(
        same_name.status(),
        StatusCode::FORBIDDEN,
        "a banned nickname cannot be reused"
    );
    assert_envelope(&json(same_name).await, "banned");

    let session = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{id}"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(session["participant_count"], 1, "only the newcomer counts");
    let missing = remove("00000000-0000-0000-0000-000000000000", false).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

async fn without_a_required_nickname_a_guest_name_is_made_up(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let session = app
        .session(
            &host,
            json!({"title": "Anon", "settings": {"require_nickname": false}}),
        )
        .await;
    let id = session["id"].as_str().unwrap();
    app.call(
        Method::PATCH,
        &format!("/api/v1/sessions/{id}"),
        Some(&host.token),
        Some(json!({"status": "active"})),
    )
    .await;
    let joined = app
        .call(
            Method::POST,
            &format!("/api/v1/sessions/{id}/join"),
            None,
            Some(json!({})),
        )
        .await;
    assert_eq!(joined.status(), StatusCode::CREATED);
    assert!(
        json(joined).await["nickname"]
            .as_str()
            .unwrap()
            .starts_with("Guest ")
    );
}
