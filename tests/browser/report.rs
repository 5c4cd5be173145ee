//! The report is complete and honest: every quiz question and every buzzer question, each
//! text with where moderation left it (a rejected one marked and left out of the counts
//! unless the organizer includes it), and no live-control text.

use serde_json::json;

use crate::common::TestDb;
use crate::driver::Driver;
use crate::helpers::{PASSWORD, TestApp};

const EMAIL: &str = "report@example.org";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_covers_every_question_and_marks_rejected_texts() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let host = app.host(EMAIL, false).await;
    let (session, _) = app.open_session(&host, Some(50)).await;
    let people = [
        app.join(&session, "Ann").await,
        app.join(&session, "Bob").await,
        app.join(&session, "Cem").await,
    ];

    // Texts: one approved, one rejected, one never approved.
    let texts = app
        .activity(
            &host,
            &session,
            "open_text",
            json!({"prompt": "One change", "moderation": true}),
            json!({}),
        )
        .await;
    app.transition(&host, &texts, "active").await;
    for (guest, text) in people
        .iter()
        .zip(["More demos", "This company is awful", "Longer lunch"])
    {
        app.vote(guest, &texts, json!({"text": text}), None).await;
    }
    let queue = app.results(&host.token, &texts).await["moderation_queue"].clone();
    let id_of = |text: &str| {
        queue
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["text"] == text)
            .unwrap()["id"]
            .clone()
    };
    app.command(&host, &texts, "approve", json!({"id": id_of("More demos")}))
        .await;
    app.command(
        &host,
        &texts,
        "reject",
        json!({"id": id_of("This company is awful")}),
    )
    .await;
    app.transition(&host, &texts, "closed").await;

    // A quiz of two questions, both asked and revealed.
    let question = |text: &str, choices: [&str; 2]| json!({"question": text, "choices": choices, "correct": [0], "time_limit_seconds": 60});
    let quiz = app
        .activity(
            &host,
            &session,
            "quiz",
            json!({"questions": [question("Largest planet?", ["Jupiter", "Mars"]), question("Smallest planet?", ["Mercury", "Earth"])]}),
            json!({}),
        )
        .await;
    app.transition(&host, &quiz, "active").await;
    for index in 0..2 {
        app.command(&host, &quiz, "next", json!({})).await;
        for (n, guest) in people.iter().enumerate() {
            app.vote(
                guest,
                &quiz,
                json!({"question": index, "choices": [n % 2]}),
                None,
            )
            .await;
        }
        app.command(&host, &quiz, "reveal_answer", json!({})).await;
    }
    app.transition(&host, &quiz, "closed").await;

    // Buzzers armed twice.
    let buzzer = app
        .activity(
            &host,
            &session,
            "buzzer",
            json!({"prompt": "Buzz"}),
            json!({}),
        )
        .await;
    app.transition(&host, &buzzer, "active").await;
    for (round, prompt) in ["Name a moon", "Name a comet"].into_iter().enumerate() {
        app.command(&host, &buzzer, "arm", json!({"prompt": prompt}))
            .await;
        let first = &people[round];
        app.vote(first, &buzzer, json!({}), None).await;
        app.command(
            &host,
            &buzzer,
            "judge",
            json!({"participant_id": first.id, "correct": true}),
        )
        .await;
    }
    app.transition(&host, &buzzer, "closed").await;
    app.complete(&host, &session).await;

    let org = driver.browser("report", 1366, 900).await;
    org.sign_in(
        &format!("{base}/login?next=/organizer/sessions/{session}/report"),
        EMAIL,
        PASSWORD,
    )
    .await;
    org.wait_text("main", "Largest planet?").await;

    let page = org.text("main").await;
    for expected in [
        "Question 1 of 2: Largest planet?",
        "Question 2 of 2: Smallest planet?",
        "Question 1: Name a moon",
        "Question 2: Name a comet",
        "1 shown, 1 held, 1 rejected (left out)",
        "More demos",
        "Longer lunch",
    ] {
        assert!(page.contains(expected), "the report lacks {expected:?}");
    }
    for live_only in ["This company is awful", "Buzzers are", "not armed", "yet"] {
        assert!(!page.contains(live_only), "the report shows {live_only:?}");
    }
    org.shot("42-report-complete").await;
    org.check_accessibility("report-complete").await;
    org.click_text(".report-activity label", "Include rejected answers")
        .await;
    org.wait_text(".report-activity .status-rejected", "This company is awful")
        .await;
    org.wait_text(".report-activity .status-rejected .badge", "rejected")
        .await;
    org.js(
        "document.querySelector('.report-activity').scrollIntoView(); return true;",
        vec![],
    )
    .await;
    org.shot("43-report-activities").await;
    org.close().await;
}
