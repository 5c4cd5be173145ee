//! Every host command changes what the phones and the big screen show, live: the organizer
//! locks, unlocks, adds time, hides, reveals and starts a new round of a poll; approves a
//! held answer; pins, marks and hides a question; arms, judges and disarms the buzzers. The
//! pages are never reloaded (a mark set at the start is still there at the end).

use serde_json::json;

use crate::common::TestDb;
use crate::driver::{Browser, Driver};
use crate::helpers::TestApp;

/// Waits until no element matching `css` shows `text`.
async fn wait_without(page: &Browser, css: &str, text: &str) {
    page.wait_until(
        &format!("`{css}` still shows {text:?}"),
        "return ![...document.querySelectorAll(arguments[0])].some((e) => e.offsetParent !== null && e.innerText.includes(arguments[1]));",
        vec![json!(css), json!(text)],
    )
    .await;
}

/// The seconds a `m:ss` countdown in `css` shows.
async fn seconds_left(page: &Browser, css: &str) -> u64 {
    let text = page.wait_text(css, ":").await;
    let (m, s) = text
        .trim()
        .rsplit(' ')
        .next()
        .and_then(|clock| clock.split_once(':'))
        .expect("m:ss");
    m.parse::<u64>().unwrap() * 60 + s.parse::<u64>().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_host_command_reaches_phone_and_screen_without_a_reload() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let host = app.host("commands@example.org", false).await;
    let (session, code) = app.open_session(&host, Some(50)).await;
    let key = app.viewer_token(&host, &session).await;

    let screen = driver.browser("commands-screen", 1280, 720).await;
    screen
        .goto(&format!("{base}/present/{session}?key={key}"))
        .await;
    screen.wait_for(".join-code").await;
    let phone = driver.phone("commands-phone").await;
    phone.goto(&format!("{base}/join/{code}")).await;
    phone.wait_text("#session-found", "Test event").await;
    phone.fill("#nickname", "ann").await;
    phone.click("#join-form button[type=submit]").await;
    phone.wait_text(".who", "You are ann").await;
    for page in [&screen, &phone] {
        page.js("window.unreloaded = true; return true;", vec![])
            .await;
    }

    // A timed poll with hidden results.
    let poll = app
        .activity(
            &host,
            &session,
            "poll",
            json!({"question": "Lunch?", "options": ["Pizza", "Sushi"]}),
            json!({"time_limit_seconds": 60, "results_visibility": "hidden"}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    screen.wait_text(".screen-question", "Lunch?").await;
    screen
        .wait_text(".screen-results", "Results come later")
        .await;
    phone.wait_text(".answer legend", "Lunch?").await;
    phone.click_text(".answer label", "Pizza").await;
    phone.click_text(".answer button", "Vote").await;
    phone.wait_text(".notice.ok", "Your vote is counted").await;

    app.command(&host, &poll, "reveal", json!({})).await;
    screen.wait_text(".screen-results", "1 · 100%").await;
    app.command(&host, &poll, "hide", json!({})).await;
    screen
        .wait_text(".screen-results", "Results come later")
        .await;

    app.command(&host, &poll, "lock", json!({})).await;
    phone
        .wait_text(".answer .notice.info", "Voting is locked")
        .await;
    screen.wait_text(".kind-label", "VOTING IS LOCKED").await;
    app.command(&host, &poll, "unlock", json!({})).await;
    wait_without(&phone, ".answer", "Voting is locked").await;
    phone.wait_text(".answer button", "Change my vote").await;
    wait_without(&screen, ".kind-label", "VOTING IS LOCKED").await;

    let before = seconds_left(&screen, ".countdown.big").await;
    assert!(before <= 60, "a minute at most: {before}");
    app.command(&host, &poll, "add_time", json!({"seconds": 120}))
        .await;
    screen.wait_text(".countdown.big", "2:").await;
    phone.wait_text(".phone-timer", "2:").await;
    assert!(seconds_left(&phone, ".phone-timer").await > 120);

    app.command(&host, &poll, "reveal", json!({})).await;
    screen.wait_text(".screen-results", "1 voted").await;
    app.command(&host, &poll, "new_round", json!({})).await;
    // A new round starts as the activity is set: results hidden again.
    screen
        .wait_text(".screen-results", "Results come later")
        .await;
    wait_without(&phone, ".answer", "Your vote is counted").await;
    phone.wait_text(".answer button", "Vote").await;
    wait_without(&phone, ".answer button", "Change my vote").await;
    app.transition(&host, &poll, "closed").await;

    // Open text held for approval.
    let wall = app
        .activity(
            &host,
            &session,
            "open_text",
            json!({"prompt": "One idea", "moderation": true}),
            json!({}),
        )
        .await;
    app.transition(&host, &wall, "active").await;
    phone.wait_text(".answer label", "One idea").await;
    phone.fill("#open-text", "Fewer meetings").await;
    phone.click_text(".answer button", "Send").await;
    phone.wait_text(".mine", "waiting for approval").await;
    screen.wait_text(".screen-question", "One idea").await;
    wait_without(&screen, ".screen-results", "Fewer meetings").await;
    let held = app.results(&host.token, &wall).await["moderation_queue"][0]["id"].clone();
    app.command(&host, &wall, "approve", json!({"id": held}))
        .await;
    screen.wait_text(".cards", "Fewer meetings").await;
    phone.wait_text(".mine", "shown").await;
    app.transition(&host, &wall, "closed").await;

    // Questions: pin, mark answered, hide.
    let qna = app
        .activity(
            &host,
            &session,
            "qna",
            json!({"topic": "Ask us"}),
            json!({}),
        )
        .await;
    app.transition(&host, &qna, "active").await;
    phone.wait_text(".activity .lead", "Ask us").await;
    phone.fill("#question", "When is lunch?").await;
    phone.click_text(".answer button", "Ask").await;
    phone.wait_text(".notice.ok", "on the wall").await;
    screen.wait_text(".wall", "When is lunch?").await;
    let question = app.results(&host.token, &qna).await["questions"][0]["id"].clone();
    app.command(&host, &qna, "pin", json!({"id": question}))
        .await;
    screen.wait_text(".wall .badge", "pinned").await;
    app.command(&host, &qna, "mark_answered", json!({"id": question}))
        .await;
    screen.wait_text(".wall .badge.done", "answered").await;
    phone.wait_for(".phone-wall li.answered").await;
    app.command(&host, &qna, "hide_question", json!({"id": question}))
        .await;
    screen
        .wait_text(".screen-results", "No questions yet")
        .await;
    wait_without(&phone, ".phone-wall", "When is lunch?").await;
    app.transition(&host, &qna, "closed").await;

    // Buzzers: arm, buzz, judge, disarm, arm again.
    let buzzer = app
        .activity(
            &host,
            &session,
            "buzzer",
            json!({"prompt": "Name a planet"}),
            json!({}),
        )
        .await;
    app.transition(&host, &buzzer, "active").await;
    phone
        .wait_text(".activity .notice", "Wait for the organizer")
        .await;
    screen.wait_text(".armed-state", "not armed").await;
    app.command(&host, &buzzer, "arm", json!({})).await;
    screen.wait_text(".armed-state", "buzz now").await;
    wait_without(&phone, ".activity", "Wait for the organizer").await;
    phone.click(".buzz-button").await;
    phone
        .wait_text(".notice.ok", "You buzzed in position 1")
        .await;
    screen.wait_text(".buzzes", "ann").await;
    let buzzed = app.results(&host.token, &buzzer).await["buzzes"][0]["participant_id"].clone();
    app.command(
        &host,
        &buzzer,
        "judge",
        json!({"participant_id": buzzed, "correct": true}),
    )
    .await;
    screen.wait_for(".buzzes .buzz.right").await;
    screen.wait_text(".scores", "ann").await;
    app.command(&host, &buzzer, "disarm", json!({})).await;
    screen.wait_text(".armed-state", "not armed").await;
    phone.wait_for(".buzz-button[disabled]").await;
    app.command(&host, &buzzer, "arm", json!({"prompt": "Name a moon"}))
        .await;
    screen.wait_text(".screen-question", "Name a moon").await;
    phone.wait_text(".activity .lead", "Name a moon").await;
    wait_without(&phone, ".activity", "You buzzed").await;
    phone
        .wait_until(
            "the buzzer is armed again",
            "const b = document.querySelector('.buzz-button'); return !!b && !b.disabled;",
            vec![],
        )
        .await;
    screen.check_room("commands-buzzer").await;

    for page in [&screen, &phone] {
        assert_eq!(
            page.js("return window.unreloaded === true;", vec![]).await,
            json!(true),
            "no page was reloaded"
        );
    }
    screen.close().await;
    phone.close().await;
}
