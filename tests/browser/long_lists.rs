//! A long open-text list in the run view: the live document carries the newest 200 answers,
//! and "Show older" reads the rest a page at a time through the list's cursor, while new
//! answers keep arriving as deltas.

use serde_json::json;

use crate::common::TestDb;
use crate::driver::Driver;
use crate::helpers::{PASSWORD, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_run_view_pages_through_a_long_list() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let host = app.host("lists@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let text = app
        .activity(
            &host,
            &session,
            "open_text",
            json!({"prompt": "Ideas?", "max_answers": 10}),
            json!({}),
        )
        .await;
    app.transition(&host, &text, "active").await;
    let mut people = Vec::new();
    for n in 0..26 {
        people.push(app.join(&session, format!("p{n}")).await);
    }
    for index in 0..10 {
        for (n, person) in people.iter().enumerate() {
            let stored = app
                .vote(
                    person,
                    &text,
                    json!({"text": format!("idea {n}.{index}"), "index": index}),
                    None,
                )
                .await;
            assert!(stored.status().is_success());
        }
    }

    let org = driver.browser("lists", 1366, 900).await;
    org.goto(&format!("{}/organizer", app.base)).await;
    org.wait_for("#login-form").await;
    org.fill("#email", "lists@example.org").await;
    org.fill("#password", PASSWORD).await;
    org.click("#login-form button[type=submit]").await;
    org.wait_for("#new-title").await;
    org.goto(&format!("{}/organizer/sessions/{session}/run", app.base))
        .await;
    org.wait_text(".older button", "60").await;
    let cards = "document.querySelectorAll('.run-results .cards > li').length";
    assert_eq!(
        org.js(&format!("return {cards};"), vec![]).await,
        json!(200)
    );

    // A new answer arrives as a delta while the older ones are read.
    app.vote(
        &people[0],
        &text,
        json!({"text": "a late idea", "index": 0}),
        None,
    )
    .await;
    org.wait_text(".run-results .cards", "a late idea").await;
    org.js(
        "document.querySelector('.older').scrollIntoView({block: 'center'});",
        vec![],
    )
    .await;
    org.shot("30-run-long-list-more").await;
    org.click(".older button").await;
    org.wait_gone(".older button").await;
    org.js(
        "document.querySelector('.older').scrollIntoView({block: 'start'});",
        vec![],
    )
    .await;
    let all = org.js(&format!("return {cards};"), vec![]).await;
    assert_eq!(all, json!(260), "200 live and 60 older, none twice");
    let texts = org
        .js(
            "return [...document.querySelectorAll('.run-results .cards .card-text')].map(e => e.textContent);",
            vec![],
        )
        .await;
    let texts: Vec<&str> = texts
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t.as_str())
        .collect();
    let unique: std::collections::HashSet<&&str> = texts.iter().collect();
    assert_eq!(unique.len(), texts.len(), "no answer shown twice");
    org.shot("31-run-long-list-older").await;
    org.check_accessibility("run-long-list").await;
    org.close().await;
}
