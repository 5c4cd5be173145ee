//! Templates, analytics and removing personal data, through the pages: the report's
//! attendance and participation charts, anonymizing a finished session, saving it as a
//! template, importing a definition with a variant and making a session from the variant,
//! and the history with two runs side by side.

use serde_json::json;

use crate::common::TestDb;
use crate::driver::Driver;
use crate::helpers::{PASSWORD, TestApp};

const EMAIL: &str = "lin@example.org";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn templates_analytics_and_privacy_through_the_pages() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let host = app.host(EMAIL, false).await;

    // A finished town hall, through the API: a poll, a word cloud, three people.
    let (session, _) = app.open_session(&host, None).await;
    let people = [
        app.join(&session, "Annika").await,
        app.join(&session, "Bruno").await,
        app.join(&session, "Carla").await,
    ];
    app.run_activity(
        &host,
        &session,
        "poll",
        "Lunch",
        json!({"question": "Where do we eat?", "options": ["Pizza", "Sushi"]}),
        &[
            (&people[0], json!({"options": [0]})),
            (&people[1], json!({"options": [1]})),
        ],
    )
    .await;
    app.run_activity(
        &host,
        &session,
        "word_cloud",
        "One word",
        json!({"prompt": "Today in one word"}),
        &[(&people[2], json!({"words": ["brilliant"]}))],
    )
    .await;
    app.complete(&host, &session).await;

    // -- Sign in, and read the report's analytics.
    let org = driver.browser("library", 1366, 900).await;
    org.sign_in(
        &format!("{base}/login?next=/organizer/sessions/{session}/report"),
        EMAIL,
        PASSWORD,
    )
    .await;
    org.wait_for("#attendance-heading").await;
    let report = org.text("main").await;
    for expected in [
        "Attendance",
        "most at once",
        "Participation per activity",
        "66.7%",
        "Timeline (CSV)",
        "Remove names and texts",
        "brilliant",
    ] {
        assert!(
            report.contains(expected),
            "the report lacks {expected:?}:\n{report}"
        );
    }
    org.shot("30-report-analytics").await;
    org.check_accessibility("report-analytics").await;

    // -- Remove names and texts: the counts stay.
    org.accept_confirms().await;
    org.click("#anonymize").await;
    org.wait_for("#anonymized").await;
    let report = org.text("main").await;
    assert!(!report.contains("brilliant"), "{report}");
    assert!(report.contains("66.7%"), "the figures stay: {report}");
    org.shot("31-report-anonymized").await;

    // -- Save the session as a template from its page.
    org.goto(&format!("{base}/organizer/sessions/{session}"))
        .await;
    org.wait_for("#save-template").await;
    org.fill("#template-name", "Town hall").await;
    org.click("#save-template button[type=submit]").await;
    org.wait_text(".notice", "Saved as the template").await;
    org.wait_text("#template-origin", "Town hall").await;
    org.wait_text("#save-version", "version 2").await;
    org.shot("32-builder-template").await;
    org.check_accessibility("builder-template").await;

    // -- Import a definition with a German variant, and make a session from the variant.
    org.goto(&format!("{base}/organizer/templates")).await;
    org.wait_text("article.template", "Town hall").await;
    let document = json!({
        "format": "conflicto.session-definition", "format_version": 1, "title": "Onboarding",
        "activities": [{"key": "mood", "kind": "poll", "title": "How are you?", "config": {"question": "Today?", "options": ["Good", "Tired"]}}],
        "variants": {"de-DE": {"title": "Einarbeitung", "activities": {"mood": {"title": "Wie geht's?", "config": {"options": ["Gut", "Müde"]}}}}}
    });
    org.fill("#import-name", "Onboarding").await;
    org.js(
        "document.querySelector('#import-json').value = arguments[0]; return true;",
        vec![json!(document.to_string())],
    )
    .await;
    org.click("#import-form button[type=submit]").await;
    org.wait_text(".notice", "Imported the template").await;
    org.wait_text("article.template:first-of-type h2", "Onboarding")
        .await;
    org.click("article.template:nth-of-type(2) details summary")
        .await;
    org.wait_text("article.template:nth-of-type(2) .version-list", "Version 1")
        .await;
    org.shot("33-templates").await;
    org.check_accessibility("templates").await;
    org.select("article.template:first-of-type .variant-select", "de-DE")
        .await;
    org.click("article.template:first-of-type .new-from-template button[type=submit]")
        .await;
    org.wait_text("h1", "Einarbeitung").await;
    org.wait_text("#template-origin", "de-DE").await;
    org.wait_text(".agenda", "Wie geht's?").await;

    // -- The history, and two runs side by side.
    org.goto(&format!("{base}/organizer/analytics")).await;
    org.wait_for(".history-chart").await;
    org.wait_text("table.events", "Einarbeitung").await;
    org.select("#compare-a", &session).await;
    org.click("#compare-form button[type=submit]").await;
    org.wait_text(".compare-table", "Whole event").await;
    org.shot("34-analytics").await;
    org.check_accessibility("analytics").await;
    org.close().await;
}
