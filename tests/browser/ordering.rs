//! Ranking, scales and 100 points through the pages: made in the builder from their schemas
//! (a ranking's items, a scale's steps as a number), answered on a phone with each kind's
//! input, followed in the run view, and shown on the big screen at 1920×1080 and in the
//! report. Screenshots `70`–`79`; the crowd test checks the big screens at every size.

use serde_json::json;

use crate::common::TestDb;
use crate::driver::{Browser, Driver};
use crate::helpers::{PASSWORD, TestApp};

const EMAIL: &str = "ordering@example.org";

/// Opens the builder's editor for a new `kind` activity with its title and question.
async fn new_activity(org: &Browser, kind: &str, title: &str, question: &str) {
    org.select("#new-kind", kind).await;
    org.click("#add-activity button[type=submit]").await;
    org.fill("#a-title", title).await;
    org.fill(".editor [name=question]", question).await;
}

/// Saves the activity in the editor and waits for it in the agenda.
async fn save_activity(org: &Browser, title: &str) {
    org.click(".editor form > .toolbar button[type=submit]")
        .await;
    org.wait_text(".agenda", title).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranking_scales_and_points_work_on_every_page() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let host = app.host(EMAIL, false).await;
    let session = app.session(&host, json!({"title": "Planning day"})).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let code = session["join_code"].as_str().unwrap().to_owned();

    // -- The builder makes each from its schema.
    let org = driver.browser("ordering", 1366, 900).await;
    org.sign_in(
        &format!("{base}/login?next=/organizer/sessions/{id}"),
        EMAIL,
        PASSWORD,
    )
    .await;
    org.wait_for("#add-activity").await;
    new_activity(&org, "ranking", "Roadmap", "What should we build first?").await;
    for (n, item) in ["Search", "Export", "Dark mode"].iter().enumerate() {
        if n >= 2 {
            org.click_text(".editor button", "Add an item").await;
        }
        org.fill_nth(".editor input.list-item", n, item).await;
    }
    org.wait_text(".preview", "Dark mode").await;
    org.shot("70-ranking-builder").await;
    save_activity(&org, "Roadmap").await;

    new_activity(&org, "scales", "Retro", "How much do you agree?").await;
    org.fill_nth(".editor input.list-item", 0, "The sprint goal was clear")
        .await;
    org.click_text(".editor button", "Add a statement").await;
    org.fill_nth(".editor input.list-item", 1, "We shipped what we planned")
        .await;
    org.select(".editor [name=steps]", "10").await;
    org.wait_text(".preview", "We shipped what we planned")
        .await;
    save_activity(&org, "Retro").await;

    new_activity(&org, "points", "Budget", "Where should the budget go?").await;
    org.fill_nth(".editor input.list-item", 0, "Hiring").await;
    org.fill_nth(".editor input.list-item", 1, "Tools").await;
    save_activity(&org, "Budget").await;
    let activities = app
        .call(
            reqwest::Method::GET,
            &format!("/api/v1/sessions/{id}"),
            Some(&host.token),
            None,
        )
        .await;
    let activities = crate::helpers::json(activities).await["activities"].clone();
    let config_of = |kind: &str| {
        activities
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["kind"] == kind)
            .unwrap()["config"]
            .clone()
    };
    assert_eq!(
        config_of("ranking")["items"],
        json!(["Search", "Export", "Dark mode"])
    );
    assert_eq!(config_of("scales")["steps"], 10, "a number, not \"10\"");
    assert_eq!(config_of("points")["budget"], 100);

    // -- The ranking: a phone moves Dark mode to the top and sends its order.
    org.click("#open-session").await;
    org.click("#run-session").await;
    org.wait_for("#next").await;
    org.click("#next").await;
    org.wait_text("#current-heading", "Roadmap").await;
    let phone = driver.phone("ordering-phone").await;
    phone.goto(&format!("{base}/join/{code}")).await;
    phone.wait_text("#session-found", "Planning day").await;
    phone.fill("#nickname", "Mia").await;
    phone.click("#join-form button[type=submit]").await;
    phone.wait_text(".rank-input", "Dark mode").await;
    phone.click("[aria-label='Move Dark mode up']").await;
    phone.click("[aria-label='Move Dark mode up']").await;
    phone.wait_text(".rank-row:first-child", "Dark mode").await;
    phone.click(".answer button[type=submit]").await;
    phone
        .wait_text(".notice.ok", "Your order is counted.")
        .await;
    phone.shot("71-ranking-phone").await;
    phone.check_accessibility("ranking-phone").await;
    org.wait_text(".run-results", "average place 1").await;
    assert!(
        org.text(".run-results .ranked-item")
            .await
            .contains("Dark mode")
    );

    // -- Scales: two statements on ten steps, one of them skipped at first.
    org.click("#next").await;
    org.wait_text("#current-heading", "Retro").await;
    phone.wait_for("#scale-0-8").await;
    phone.click("#scale-0-8").await;
    phone.click(".answer button[type=submit]").await;
    phone
        .wait_text(".notice.ok", "Your ratings are counted.")
        .await;
    phone.click("#scale-1-3").await;
    phone
        .click_text(".answer button[type=submit]", "Change my ratings")
        .await;
    phone
        .wait_text(".notice.ok", "Your ratings are counted.")
        .await;
    phone.shot("72-scales-phone").await;
    phone.check_accessibility("scales-phone").await;
    org.wait_text(".run-results", "mean 3").await;
    let run = org.text(".run-results").await;
    assert!(run.contains("mean 8") && run.contains("mean 3"), "{run}");

    // -- 100 points: more than the budget is refused in words; then all of it.
    org.click("#next").await;
    org.wait_text("#current-heading", "Budget").await;
    phone.wait_for("#points-0").await;
    phone.fill("#points-0", "70").await;
    phone.fill("#points-1", "40").await;
    phone.wait_text(".points-left", "Too many by 10").await;
    phone
        .click_text(".answer button[type=submit]", "Send my points")
        .await;
    phone
        .wait_text(".notice.error", "give exactly 100 in all")
        .await;
    phone.click("[aria-label='5 fewer for Tools']").await;
    phone.click("[aria-label='5 fewer for Tools']").await;
    phone.wait_text(".points-left", "Left to give: 0").await;
    phone
        .click_text(".answer button[type=submit]", "Send my points")
        .await;
    phone
        .wait_text(".notice.ok", "Your points are counted.")
        .await;
    phone.shot("73-points-phone").await;
    phone.check_accessibility("points-phone").await;
    org.wait_text(".run-results", "70 on average").await;
    org.shot("74-points-run").await;

    // -- The big screen shows the last one; the report shows all three.
    org.goto(&format!("{base}/present/{id}")).await;
    org.viewport(1920, 1080).await;
    org.wait_text(".screen-results", "70 on average").await;
    org.shot("75-points-screen").await;
    org.check_room("points-screen").await;
    org.check_accessibility("points-screen").await;
    app.complete(&host, &id).await;
    org.viewport(1366, 900).await;
    org.goto(&format!("{base}/organizer/sessions/{id}/report"))
        .await;
    org.wait_text("main", "Roadmap").await;
    let report = org.text("main").await;
    for seen in ["Dark mode", "average place 1", "mean 8", "70 on average"] {
        assert!(report.contains(seen), "{seen} in {report}");
    }
    org.shot("76-ordering-report").await;
    org.check_accessibility("ordering-report").await;
    phone.close().await;
    org.close().await;
}

/// Questions and choices with math and Markdown: typeset by the vendored KaTeX on a phone and
/// on the big screen, emphasis shown, and HTML in a text shown as text, never run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn math_and_emphasis_render_and_html_stays_text() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let host = app.host(EMAIL, false).await;
    let (session, code) = app.open_session(&host, None).await;
    let key = app.viewer_token(&host, &session).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "What is $\\frac{1}{2} + \\frac{1}{4}$? **Think** <img src=x onerror=alert(1)>",
                   "options": ["$\\frac{3}{4}$", "`0.5`", "It costs \\$3"]}),
            json!({}),
        )
        .await;
    app.transition(&host, &poll, "active").await;

    let phone = driver.phone("math-phone").await;
    phone.goto(&format!("{base}/join/{code}")).await;
    phone.fill("#nickname", "Ada").await;
    phone.click("#join-form button[type=submit]").await;
    phone.wait_for(".answer legend .katex").await;
    phone.wait_for(".choices-list label .katex").await;
    assert_eq!(phone.text(".answer legend strong").await, "Think");
    assert_eq!(phone.text(".choices-list code").await, "0.5");
    let legend = phone.text(".answer legend").await;
    assert!(legend.contains("<img src=x onerror=alert(1)>"), "{legend}");
    let elements = phone
        .js(
            "return document.querySelectorAll('main img, main script').length;",
            vec![],
        )
        .await;
    assert_eq!(elements, json!(0), "the text's HTML made no element");
    assert!(phone.text(".choices-list").await.contains("It costs $3"));
    phone.shot("77-math-phone").await;
    phone.check_accessibility("math-phone").await;

    let screen = driver.browser("math-screen", 1920, 1080).await;
    screen
        .goto(&format!("{base}/present/{session}?key={key}"))
        .await;
    screen.wait_for(".screen-question .katex").await;
    screen.wait_for(".screen-results .bar-label .katex").await;
    screen.shot("78-math-screen").await;
    screen.check_room("math-screen").await;
    screen.check_accessibility("math-screen").await;
    phone.close().await;
    screen.close().await;
}

/// An image uploaded in the builder goes into the question, and phones and the big screen
/// show it from the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_uploaded_image_shows_in_the_question_on_every_screen() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let email = "images@example.org";
    let host = app.host(email, false).await;
    let session = app.session(&host, json!({"title": "Geography"})).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let code = session["join_code"].as_str().unwrap().to_owned();
    let file = crate::driver::artifacts().join("map-upload.png");
    let pixels = image::RgbImage::from_fn(320, 200, |x, y| {
        image::Rgb([
            u8::try_from(x % 256).unwrap(),
            u8::try_from(y).unwrap(),
            160,
        ])
    });
    image::DynamicImage::ImageRgb8(pixels)
        .save_with_format(&file, image::ImageFormat::Png)
        .unwrap();

    let org = driver.browser("images", 1366, 900).await;
    org.sign_in(
        &format!("{base}/login?next=/organizer/sessions/{id}"),
        email,
        PASSWORD,
    )
    .await;
    org.wait_for("#add-activity").await;
    new_activity(&org, "poll", "Map", "Which country is this?").await;
    org.fill_nth(".editor input.list-item", 0, "Chile").await;
    org.fill_nth(".editor input.list-item", 1, "Norway").await;
    org.click(".editor [name=question]").await;
    org.upload("#a-image", &file).await;
    org.wait_text(".editor [role=status]", "Added map-upload.png")
        .await;
    org.wait_for(".preview img.rich-image").await;
    org.shot("79-image-builder").await;
    save_activity(&org, "Map").await;
    org.click("#open-session").await;
    org.click("#run-session").await;
    org.wait_for("#next").await;
    org.click("#next").await;
    org.wait_text("#current-heading", "Map").await;

    let loaded = "const img = document.querySelector(arguments[0]); return !!img && img.complete && img.naturalWidth === 320;";
    let phone = driver.phone("images-phone").await;
    phone.goto(&format!("{base}/join/{code}")).await;
    phone.fill("#nickname", "Lea").await;
    phone.click("#join-form button[type=submit]").await;
    phone
        .wait_until(
            "the question's image",
            loaded,
            vec![json!(".answer legend img.rich-image")],
        )
        .await;
    phone.shot("80-image-phone").await;
    phone.check_accessibility("image-phone").await;

    org.goto(&format!("{base}/present/{id}")).await;
    org.viewport(1920, 1080).await;
    org.wait_until(
        "the screen's image",
        loaded,
        vec![json!(".screen-question img.rich-image")],
    )
    .await;
    org.shot("81-image-screen").await;
    org.check_room("image-screen").await;
    phone.close().await;
    org.close().await;
}
