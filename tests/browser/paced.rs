//! A self-paced session through the pages: two phones go through a poll and a two-question
//! quiz at their own pace with Back and Next, the run view shows where everyone is, the
//! closing time ends it on the phones, and switching to live hands the room back to the
//! presenter. Screenshots `82`–`87`.

use serde_json::json;

use crate::common::TestDb;
use crate::driver::{Browser, Driver};
use crate::helpers::{PASSWORD, TestApp};

const EMAIL: &str = "paced@example.org";

async fn join(phone: &Browser, base: &str, code: &str, nickname: &str) {
    phone.goto(&format!("{base}/join/{code}")).await;
    phone.wait_text("#session-found", "Homework").await;
    phone.fill("#nickname", nickname).await;
    phone.click("#join-form button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_paced_course_goes_at_each_phones_pace() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let host = app.host(EMAIL, false).await;
    let session = app
        .session(
            &host,
            json!({"title": "Homework", "pace": "self_paced", "hours": {"closes_at": "2099-06-30T18:00:00Z"}}),
        )
        .await;
    let id = session["id"].as_str().unwrap().to_owned();
    let code = session["join_code"].as_str().unwrap().to_owned();
    app.poll(
        &host,
        &id,
        json!({"question": "Did you read the chapter?", "options": ["Yes", "Not yet"]}),
        json!({"title": "Warm-up"}),
    )
    .await;
    let question = |text: &str, choices: [&str; 3]| json!({"question": text, "choices": choices, "correct": [1], "time_limit_seconds": 60});
    app.activity(
        &host,
        &id,
        "quiz",
        json!({"questions": [
            question("Which gas do plants take in?", ["Oxygen", "Carbon dioxide", "Helium"]),
            question("Where does photosynthesis happen?", ["Roots", "Chloroplasts", "Seeds"]),
        ]}),
        json!({"title": "Chapter quiz"}),
    )
    .await;
    app.patch_session(&host, &id, json!({"status": "active"}))
        .await;

    // -- The builder shows how the session is paced.
    let org = driver.browser("paced", 1366, 900).await;
    org.sign_in(
        &format!("{base}/login?next=/organizer/sessions/{id}"),
        EMAIL,
        PASSWORD,
    )
    .await;
    org.wait_for("#s-pace").await;
    let pace = org
        .js("return document.querySelector('#s-pace').value", vec![])
        .await;
    assert_eq!(pace, "self_paced");

    // -- Ann goes through the course: the poll, then each quiz question on her own clock.
    let ann = driver.phone("paced-ann").await;
    join(&ann, &base, &code, "Ann").await;
    ann.wait_text("#course-step", "Step 1 of 3").await;
    ann.wait_text(".activity-title", "Warm-up").await;
    ann.click("#poll-0").await;
    ann.click(".answer button[type=submit]").await;
    ann.wait_for(".notice.ok").await;
    ann.shot("82-course-poll-phone").await;
    ann.check_accessibility("course-phone").await;
    ann.click_text("#course-next", "Next").await;
    ann.wait_text("#course-step", "Step 2 of 3").await;
    ann.wait_text(".activity", "Which gas do plants take in?")
        .await;
    ann.wait_for(".countdown").await;
    // One pick sends a single-answer question.
    ann.click_text(".activity label", "Carbon dioxide").await;
    // Going alone, she learns at once how she did, with her score so far.
    ann.wait_text(".notice.ok", "Right! +").await;
    ann.wait_text(".you", "Your score:").await;
    ann.shot("83-course-quiz-phone").await;
    // Back from the quiz's first question goes to the poll, whose vote can change.
    let back_enabled = ann
        .js(
            "return !document.querySelector('#course-back').disabled",
            vec![],
        )
        .await;
    assert_eq!(back_enabled, true);
    ann.click_text("#course-next", "Next").await;
    ann.wait_text(".activity", "Where does photosynthesis happen?")
        .await;
    // The question before is a quiz's: its answer is final, so there is no way back.
    let back_disabled = ann
        .js(
            "return document.querySelector('#course-back').disabled",
            vec![],
        )
        .await;
    assert_eq!(back_disabled, true);
    ann.wait_text("#course-next", "Finish").await;
    ann.click_text(".activity label", "Roots").await;
    ann.wait_text(".notice.ok", "Not this time.").await;
    let marked = ann
        .js(
            "return [...document.querySelectorAll('.activity label')].filter((l) => l.textContent.includes('✓')).map((l) => l.textContent)",
            vec![],
        )
        .await;
    assert_eq!(marked, json!(["◆ Chloroplasts ✓ correct answer"]));
    ann.shot("83b-course-quiz-wrong-phone").await;
    ann.click_text("#course-next", "Finish").await;
    ann.wait_for("#course-done").await;
    ann.shot("84-course-done-phone").await;

    // A reload comes back where she was: done.
    ann.goto(&format!("{base}/join/{code}")).await;
    ann.wait_for("#course-done").await;

    // -- Bob starts and stays on the first step.
    let bob = driver.phone("paced-bob").await;
    join(&bob, &base, &code, "Bob").await;
    bob.wait_text("#course-step", "Step 1 of 3").await;

    // -- The run view shows where everyone is, and the quiz's results.
    org.goto(&format!("{base}/organizer/sessions/{id}/run"))
        .await;
    org.wait_text("#progress-summary", "2 of 2 started · 1 finished")
        .await;
    org.click_text(".progress-row button", "Results").await;
    org.wait_for(".run-results").await;
    org.shot("85-course-progress-run").await;
    org.check_accessibility("course-run").await;
    let results = app
        .read(&host.token, &format!("/api/v1/sessions/{id}/progress"))
        .await;
    assert_eq!(results["finished"], 1);

    // -- The big screen invites the room to go at its own pace and shows how far it is.
    let key = app.viewer_token(&host, &id).await;
    let screen = driver.browser("paced-screen", 1920, 1080).await;
    screen.goto(&format!("{base}/present/{id}?key={key}")).await;
    screen
        .wait_text("#screen-progress", "2 of 2 started · 1 finished")
        .await;
    screen
        .wait_text(".join-course", "Open until Jun 30, 2099")
        .await;
    screen.shot("85b-course-progress-screen").await;
    screen.check_accessibility("course-screen").await;
    for (width, height) in [(1280, 720), (1920, 1080), (3840, 2160)] {
        screen.viewport(width, height).await;
        tokio::time::sleep(std::time::Duration::from_millis(900)).await;
        screen.check_room(&format!("course-{width}x{height}")).await;
    }

    // -- The closing time passes: Bob's phone shows the end.
    let closes = chrono::Utc::now() - chrono::Duration::seconds(1);
    app.patch_session(&host, &id, json!({"hours": {"closes_at": closes}}))
        .await;
    bob.wait_text("#course-closed", "closed").await;
    bob.shot("86-course-closed-phone").await;
    screen
        .wait_text(".join-course", "This session has closed")
        .await;
    screen.close().await;

    // -- Switched to live from the run view, the phones follow the presenter again.
    org.click_text("#switch-pace", "Switch to live").await;
    org.wait_text("#switch-pace", "Switch to self-paced").await;
    bob.wait_text(".waiting", "Waiting for the next activity")
        .await;
    org.click_text("#next", "Next activity").await;
    bob.wait_text(".activity-title", "Warm-up").await;
    bob.shot("87-course-live-again-phone").await;
    bob.close().await;
    ann.close().await;
    org.close().await;
}
