//! What the room and the phones see as a session runs and ends: a timed activity counts
//! down on the phone; counts read in the language's plural forms; the ended session's big
//! screen thanks the room and no longer shows how to join; a phone that scans the old code
//! is told the session ended, in its language.

use serde_json::json;

use crate::common::TestDb;
use crate::driver::Driver;
use crate::helpers::TestApp;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_end_thanks_the_room_and_an_old_code_says_so() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let host = app.host("end@example.org", false).await;
    let (session, code) = app.open_session(&host, None).await;
    let key = app.viewer_token(&host, &session).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "Lunch?", "options": ["Pizza", "Soup"]}),
            json!({"time_limit_seconds": 300}),
        )
        .await;
    app.transition(&host, &poll, "active").await;

    // -- One phone joins; the poll's time limit counts down on it.
    let phone = driver.phone("end-phone").await;
    phone.goto(&format!("{base}/join/{code}")).await;
    phone.wait_for("#session-found").await;
    // A nickname of the longest kind allowed: it must not widen the phone's page.
    let long = "Maximiliane-Theresa von Hohenzollern-Sig";
    assert_eq!(long.chars().count(), 40);
    phone.fill("#nickname", long).await;
    phone.click("#join-form button[type=submit]").await;
    phone.wait_text(".activity .activity-title", "A poll").await;
    phone.wait_text(".phone-timer", "Time left").await;
    let left = phone.text(".phone-timer .countdown").await;
    assert!(left.starts_with("4:") || left.starts_with("5:"), "{left:?}");
    phone.shot("50-phone-timer").await;
    assert_eq!(
        phone
            .js(
                "return document.scrollingElement.scrollWidth <= innerWidth",
                vec![]
            )
            .await,
        json!(true),
        "a long nickname makes the phone scroll sideways"
    );

    // -- The big screen counts one person in the singular.
    let screen = driver.browser("end-screen", 1920, 1080).await;
    screen
        .goto(&format!("{base}/present/{session}?key={key}"))
        .await;
    screen.wait_text(".corner-count", "1 person").await;
    screen.check_room("screen-poll-one-person").await;
    assert!(!screen.text(".corner-count").await.contains("people"));

    // -- The end: the screen thanks the room and no longer invites anyone to join.
    app.complete(&host, &session).await;
    screen.wait_text(".end-thanks", "Thank you!").await;
    screen.wait_text(".end-count", "1 person took part").await;
    assert_eq!(
        screen
            .js(
                "return document.querySelectorAll('.qr, .join-code, .join-url, .corner').length",
                vec![]
            )
            .await,
        json!(0),
        "an ended session shows no way to join"
    );
    screen.shot("51-screen-ended").await;
    screen.check_room("screen-ended").await;
    screen.check_accessibility("screen-ended").await;
    phone.wait_text(".done", "The session has ended.").await;

    // -- A latecomer scans the old QR code on a German phone.
    let late = driver.phone("end-late").await;
    late.goto(&format!("{base}/lang/de?next=/join/{code}"))
        .await;
    late.wait_text("#session-ended", "Diese Session ist beendet")
        .await;
    assert_eq!(late.text("h1").await, "Test event");
    late.shot("52-phone-ended-code-de").await;
    late.check_accessibility("phone-ended-code").await;

    for browser in [phone, screen, late] {
        browser.close().await;
    }
}
