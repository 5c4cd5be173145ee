//! Every page in every language: with the language chosen, no English sentence of the
//! interface shows on the landing page, the sign-in page, the phone (joining, and answering
//! a poll, and a self-paced course), the organizer's sessions, builder, run view (live and
//! self-paced), templates and analytics, the big screen (live and self-paced) and the
//! report. The switch offers all eight languages.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::common::TestDb;
use crate::driver::Driver;
use crate::helpers::{PASSWORD, TestApp};

const EMAIL: &str = "languages@example.org";
const LANGUAGES: [&str; 8] = ["en", "de", "fr", "es", "it", "nl", "pt", "pl"];

fn catalog(lang: &str) -> BTreeMap<String, String> {
    let path = format!("{}/locales/{lang}.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).expect("locale file")).expect("json")
}

/// English sentences of the interface: strings of two words or more without placeholders
/// (those cannot appear verbatim), so a page that shows one shows untranslated text.
fn english_sentences() -> Vec<String> {
    catalog("en")
        .into_values()
        .filter(|text| !text.contains('{') && text.split_whitespace().count() >= 2)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_shows_english_in_another_language() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let host = app.host(EMAIL, false).await;
    let (session, code) = app.open_session(&host, Some(50)).await;
    let key = app.viewer_token(&host, &session).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "Lunch?", "options": ["Pizza", "Sushi"]}),
            json!({"time_limit_seconds": 600}),
        )
        .await;
    app.transition(&host, &poll, "active").await;
    // A self-paced session: its progress view and a phone's course step.
    let paced = app
        .session(
            &host,
            json!({"title": "Homework", "pace": "self_paced", "hours": {"closes_at": "2099-06-30T18:00:00Z"}}),
        )
        .await;
    let paced_id = paced["id"].as_str().unwrap().to_owned();
    let paced_code = paced["join_code"].as_str().unwrap().to_owned();
    app.poll(
        &host,
        &paced_id,
        json!({"question": "Read it?", "options": ["Yes", "No"]}),
        json!({}),
    )
    .await;
    app.patch_session(&host, &paced_id, json!({"status": "active"}))
        .await;
    let paced_key = app.viewer_token(&host, &paced_id).await;
    let english = english_sentences();

    let org = driver.browser("languages", 1366, 900).await;
    org.sign_in(&format!("{base}/login"), EMAIL, PASSWORD).await;
    org.wait_for("#new-title").await;
    let phone = driver.phone("languages-phone").await;

    let pages = [
        ("landing", "/".to_owned(), "main"),
        ("sessions", "/organizer".to_owned(), ".table-list"),
        (
            "builder",
            format!("/organizer/sessions/{session}"),
            "#add-activity",
        ),
        (
            "run",
            format!("/organizer/sessions/{session}/run"),
            ".run-current",
        ),
        ("templates", "/organizer/templates".to_owned(), "main h1"),
        ("analytics", "/organizer/analytics".to_owned(), "main h1"),
        ("account", "/organizer/account".to_owned(), "#logins-list"),
        ("welcome", "/welcome#cfl_unused".to_owned(), "#welcome-form"),
        (
            "progress",
            format!("/organizer/sessions/{paced_id}/run"),
            "#progress-summary",
        ),
        (
            "report",
            format!("/organizer/sessions/{session}/report"),
            ".report-activity",
        ),
        (
            "course-screen",
            format!("/present/{paced_id}?key={paced_key}"),
            "#screen-progress",
        ),
        (
            "screen",
            format!("/present/{session}?key={key}"),
            ".activity-panel",
        ),
    ];
    for lang in LANGUAGES {
        let own: BTreeSet<String> = catalog(lang).into_values().collect();
        let shown: Vec<&String> = english.iter().filter(|s| !own.contains(*s)).collect();
        let check = async |page: &crate::driver::Browser, name: &str| {
            let found = page
                .js(
                    "const text = document.body.innerText;
                     return arguments[0].filter((s) => text.includes(s));",
                    vec![json!(shown)],
                )
                .await;
            assert_eq!(found, json!([]), "{lang} {name}: English on the page");
        };
        for (name, path, ready) in &pages {
            org.goto(&format!("{base}/lang/{lang}?next=/")).await;
            org.goto(&format!("{base}{path}")).await;
            org.wait_for(ready).await;
            check(&org, name).await;
            if *name == "account" {
                org.shot(&format!("52-account-{lang}")).await;
            }
            if *name == "course-screen" {
                org.check_room(&format!("course-screen-{lang}")).await;
                org.shot(&format!("88b-course-screen-{lang}")).await;
            }
            if *name == "builder" {
                // The switch lists every language in its own name.
                let offered = org
                    .js(
                        "return [...document.querySelectorAll('.langs li > [lang]')].map((e) => e.getAttribute('lang'));",
                        vec![],
                    )
                    .await;
                let offered: BTreeSet<String> =
                    serde_json::from_value(offered).expect("language tags");
                let wanted: BTreeSet<String> = LANGUAGES.iter().map(|l| (*l).to_owned()).collect();
                assert_eq!(offered, wanted, "the switch offers every language");
            }
        }
        org.shot(&format!("50-screen-{lang}")).await;
        org.check_room(&format!("screen-{lang}")).await;

        // A phone that joins in this language and meets the poll.
        phone
            .goto(&format!("{base}/lang/{lang}?next=/join/{code}"))
            .await;
        phone.wait_for("#session-found").await;
        check(&phone, "join").await;
        phone.fill("#nickname", &format!("Guest {lang}")).await;
        phone.click("#join-form button[type=submit]").await;
        phone.wait_text(".answer legend", "Lunch?").await;
        check(&phone, "phone").await;
        phone.shot(&format!("51-phone-{lang}")).await;
        phone.js("localStorage.clear(); return true;", vec![]).await;

        // The same phone in the self-paced session's course.
        phone
            .goto(&format!("{base}/lang/{lang}?next=/join/{paced_code}"))
            .await;
        phone.wait_for("#session-found").await;
        phone.fill("#nickname", &format!("Pupil {lang}")).await;
        phone.click("#join-form button[type=submit]").await;
        phone.wait_text(".answer legend", "Read it?").await;
        phone.wait_for("#course-next").await;
        check(&phone, "course").await;
        phone.shot(&format!("88-course-{lang}")).await;
        phone.js("localStorage.clear(); return true;", vec![]).await;
    }
    org.close().await;
    phone.close().await;
}
