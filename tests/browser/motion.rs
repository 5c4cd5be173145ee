//! The big screen in motion: a wall too long for the screen turns its pages, entries slide
//! to their new places as results change, and nothing moves for a viewer who asked for
//! reduced motion.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::TestDb;
use crate::crowd::join;
use crate::driver::{Browser, Driver};
use crate::helpers::{Guest, Host, TestApp, json as body_of};

/// Counts the animations the page starts from now on (the Web Animations API).
async fn count_animations(screen: &Browser) {
    screen
        .js(
            "window.moves = 0;
             const animate = Element.prototype.animate;
             Element.prototype.animate = function (...args) { window.moves += 1; return animate.apply(this, args); };
             return true;",
            vec![],
        )
        .await;
}

async fn ask(app: &TestApp, guest: &Guest, qna: &str, text: &str) -> String {
    let response = app
        .vote(guest, qna, json!({"ask": {"text": text}}), None)
        .await;
    body_of(response).await["answer"]["ask"]["id"]
        .as_str()
        .expect("asked")
        .to_owned()
}

/// A Q&A wall where the last of three questions is voted to the top while the screen
/// watches; returns how many animations the screen started.
async fn question_climbs(app: &TestApp, host: &Host, screen: &Browser) -> Value {
    let (session, _) = app.open_session(host, Some(100)).await;
    let key = app.viewer_token(host, &session).await;
    let guests = [
        app.join(&session, "Ann").await,
        app.join(&session, "Bob").await,
        app.join(&session, "Cem").await,
    ];
    let qna = app
        .activity(host, &session, "qna", json!({"topic": "Ask us"}), json!({}))
        .await;
    app.transition(host, &qna, "active").await;
    ask(app, &guests[0], &qna, "First question").await;
    ask(app, &guests[1], &qna, "Second question").await;
    let third = ask(app, &guests[2], &qna, "Third question").await;
    screen
        .goto(&format!("{}/present/{session}?key={key}", app.base))
        .await;
    screen.wait_text(".wall", "Third question").await;
    count_animations(screen).await;
    for guest in &guests[..2] {
        app.vote(guest, &qna, json!({"upvote": third}), None).await;
    }
    screen
        .wait_text(".wall li:first-child", "Third question")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    screen.js("return window.moves;", vec![]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn results_move_and_hold_still_under_reduced_motion() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let host = app.host("motion@example.org", false).await;

    let screen = driver.browser("motion", 1920, 1080).await;
    let moves = question_climbs(&app, &host, &screen).await;
    assert!(
        moves.as_u64().is_some_and(|n| n >= 1),
        "the climbing question slides to the top: {moves}"
    );
    screen.close().await;

    let still = driver
        .browser_with("still", 1920, 1080, &["--force-prefers-reduced-motion"])
        .await;
    let moves = question_climbs(&app, &host, &still).await;
    assert_eq!(moves, json!(0), "nothing moves under reduced motion");
    let transition = still
        .js(
            "return getComputedStyle(document.querySelector('.question')).transitionDuration;",
            vec![],
        )
        .await;
    assert_eq!(transition, json!("0s"));
    still.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wall_too_long_for_the_screen_turns_its_pages() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let host = app.host("pages@example.org", false).await;
    let (session, _) = app.open_session(&host, Some(100)).await;
    let key = app.viewer_token(&host, &session).await;
    let wall = app
        .activity(
            &host,
            &session,
            "open_text",
            json!({"prompt": "One change for next quarter"}),
            json!({}),
        )
        .await;
    app.transition(&host, &wall, "active").await;
    for n in 0..30 {
        let guest = join(&app, &session, &format!("Guest {n}")).await;
        let response = app
            .vote(
                &guest,
                &wall,
                json!({"text": format!("Idea number {n}")}),
                None,
            )
            .await;
        assert!(response.status().is_success());
    }
    let screen = driver.browser("pages", 1280, 720).await;
    screen
        .goto(&format!("{}/present/{session}?key={key}", app.base))
        .await;
    let first = screen.wait_text(".cards .more", " of 30").await;
    assert!(first.starts_with("1–"), "the first page: {first}");
    screen.check_room("pages-first").await;
    // The next page follows within the page time (10 s) and starts after the first.
    let shown = first
        .trim_start_matches("1–")
        .split(' ')
        .next()
        .and_then(|n| n.parse::<usize>().ok())
        .expect("a page's end");
    let next = format!("{}–", shown + 1);
    screen.wait_text(".cards .more", &next).await;
    let top = screen
        .text(".cards li:not([style*=\"none\"]) .card-text")
        .await;
    assert_eq!(
        top,
        format!("Idea number {}", 29 - shown),
        "newest first, page 2"
    );
    screen.check_room("pages-second").await;
    screen.shot("screen-open-text-page-2").await;
    screen.close().await;
}
