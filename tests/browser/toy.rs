//! The test build's toy kind (`tests/toy_kind/`: one Rust file, one JS module, its keys)
//! through every page: made in the builder from its schema, started and commanded in the
//! run view, answered on a phone in German, shown on the big screen, and in the report.
//! No page script names it.

use serde_json::json;

use crate::common::TestDb;
use crate::driver::Driver;
use crate::helpers::{PASSWORD, TestApp};

const EMAIL: &str = "toy@example.org";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kind_added_as_one_rust_file_one_js_module_and_keys_works_on_every_page() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let host = app.host(EMAIL, false).await;
    let session = app.session(&host, json!({"title": "Toys"})).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let code = session["join_code"].as_str().unwrap().to_owned();

    // -- The builder offers it under its name and makes its form from its schema.
    let org = driver.browser("toy", 1366, 900).await;
    org.goto(&format!("{base}/login?next=/organizer/sessions/{id}"))
        .await;
    org.fill("#email", EMAIL).await;
    org.fill("#password", PASSWORD).await;
    org.click("#login-form button[type=submit]").await;
    org.wait_for("#add-activity").await;
    org.select("#new-kind", "toy").await;
    org.click("#add-activity button[type=submit]").await;
    org.fill("#a-title", "Coin").await;
    org.fill(".editor [name=question]", "Heads or tails?").await;
    org.wait_text(".preview", "Heads or tails?").await;
    org.wait_text(".preview", "Heads").await;
    org.click(".editor form > .toolbar button[type=submit]")
        .await;
    org.wait_text(".agenda", "Coin").await;
    org.wait_text(".agenda", "Toy").await;
    org.shot("40-toy-builder").await;

    // -- The run view starts it and shows its own controls.
    org.click("#open-session").await;
    org.click("#run-session").await;
    org.wait_for("#next").await;
    org.click("#next").await;
    org.wait_text("#current-heading", "Coin").await;
    org.wait_text(".run-current .toolbar", "Flip: Heads").await;

    // -- A phone in German answers with the kind's input.
    let phone = driver.phone("toy-phone").await;
    phone
        .goto(&format!("{base}/lang/de?next=/join/{code}"))
        .await;
    phone.wait_text("#session-found", "Toys").await;
    phone.fill("#nickname", "Mia").await;
    phone.click("#join-form button[type=submit]").await;
    phone.wait_text(".activity .toy-heads", "Kopf").await;
    phone.click(".activity .toy-heads").await;
    phone.wait_text(".notice.ok", "Du hast Kopf gewählt").await;
    phone.wait_text(".results", "Gewählt: 1").await;
    phone.shot("41-toy-phone-de").await;
    phone.check_accessibility("toy-phone").await;

    // -- The organizer's command reaches the big screen with the results.
    org.wait_text(".run-results", "Picked: 1").await;
    org.click_text(".run-current .toolbar button", "Flip: Tails")
        .await;
    org.goto(&format!("{base}/present/{id}")).await;
    org.viewport(1920, 1080).await;
    org.wait_text(".screen-results", "The coin says Tails")
        .await;
    assert!(org.text(".screen-results").await.contains("Picked: 1"));
    org.shot("42-toy-screen").await;
    org.check_accessibility("toy-screen").await;

    // -- The report shows it like any other kind.
    app.complete(&host, &id).await;
    org.viewport(1366, 900).await;
    org.goto(&format!("{base}/organizer/sessions/{id}/report"))
        .await;
    org.wait_text(".report-activity", "Coin").await;
    let report = org.text(".report-activity").await;
    assert!(
        report.contains("Toy") && report.contains("Heads") && report.contains("Picked: 1"),
        "{report}"
    );
    org.shot("43-toy-report").await;
    phone.close().await;
    org.close().await;
}
