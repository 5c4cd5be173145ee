//! The builder cannot mislead, in German: a failed sign-in forgets the password, a field
//! that does not apply is hidden, a quiz question has no right answer until one is ticked
//! and says so, and the server's refusals appear next to their field in the page's
//! language, counted as people count ("Frage 2").

use serde_json::json;

use crate::common::TestDb;
use crate::driver::Driver;
use crate::helpers::{PASSWORD, TestApp};

const EMAIL: &str = "builder@example.org";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_says_what_it_means_next_to_each_field() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    conflicto::organizers::create(app.state.store.as_ref(), EMAIL, PASSWORD, true)
        .await
        .expect("organizer");
    let org = driver.browser("builder-de", 1366, 900).await;
    org.goto(&format!("{base}/lang/de?next=/organizer")).await;
    org.wait_for("#login-form").await;

    // A failed sign-in says so in German and keeps nothing of the password.
    org.fill("#email", EMAIL).await;
    org.fill("#password", "not the password").await;
    org.click("#login-form button[type=submit]").await;
    org.wait_text("#login-error", "Passwort ist falsch").await;
    assert_eq!(
        org.js("return document.getElementById('password').value;", vec![])
            .await,
        json!(""),
        "the password field is emptied"
    );
    org.fill("#password", PASSWORD).await;
    org.click("#login-form button[type=submit]").await;
    org.wait_for("#new-title").await;
    org.fill("#new-title", "Betriebsversammlung").await;
    org.click(".inline-form button[type=submit]").await;
    org.wait_for("#add-activity").await;

    // A poll: "most picks" applies only with several picks; the server's refusal of a
    // number too large shows beside that field, in German.
    org.select("#new-kind", "poll").await;
    org.click("#add-activity button[type=submit]").await;
    org.fill("#a-title", "Mittagessen").await;
    org.fill(".editor [name=question]", "Wohin gehen wir?")
        .await;
    org.fill_nth(".editor input.list-item", 0, "Pizza").await;
    org.fill_nth(".editor input.list-item", 1, "Sushi").await;
    org.wait_gone(".editor [data-path=max_picks]").await;
    org.click(".editor [name=multiple]").await;
    org.wait_for(".editor [data-path=max_picks]").await;
    org.fill(".editor [name=max_picks]", "5").await;
    org.click(".editor form > .toolbar button[type=submit]")
        .await;
    let said = org
        .wait_text(
            ".editor [data-path=max_picks] .field-error",
            "Zahl von 1 bis 2",
        )
        .await;
    assert!(said.starts_with("Höchstens Antworten"), "{said}");
    org.wait_text(".editor form > .error", "markierte Feld")
        .await;
    org.shot("40-builder-error-next-to-field-de").await;
    org.check_accessibility("builder-error-de").await;
    org.fill(".editor [name=max_picks]", "2").await;
    org.click(".editor form > .toolbar button[type=submit]")
        .await;
    org.wait_text(".agenda", "Mittagessen").await;
    org.wait_gone(".editor").await;

    // A quiz: no choice starts as right; the question says it is incomplete, and saving
    // anyway is refused beside that question's right answers, counted from one.
    org.select("#new-kind", "quiz").await;
    org.click("#add-activity button[type=submit]").await;
    org.fill("#a-title", "Wissen").await;
    org.wait_text(".editor .object-item legend", "Frage 1")
        .await;
    org.fill(".editor [name=question]", "2 + 2 = ?").await;
    org.fill_nth(".editor input.list-item", 0, "3").await;
    org.fill_nth(".editor input.list-item", 1, "4").await;
    org.click_nth(".editor .correct-field input[type=checkbox]", 1)
        .await;
    org.click_text(".editor .list-field > button", "Frage hinzufügen")
        .await;
    org.wait_text(".editor .object-item:nth-of-type(2) legend", "Frage 2")
        .await;
    org.fill_nth(".editor [name=question]", 1, "Hauptstadt von Frankreich?")
        .await;
    org.fill_nth(".editor input.list-item", 2, "Paris").await;
    org.fill_nth(".editor input.list-item", 3, "Lyon").await;
    org.wait_text(
        ".editor [data-path='questions[1]'] .incomplete",
        "Unvollständig",
    )
    .await;
    assert_eq!(
        org.js(
            "return document.querySelectorAll('.editor .correct-field input:checked').length;",
            vec![]
        )
        .await,
        json!(1),
        "only the tick the organizer made"
    );
    org.click(".editor form > .toolbar button[type=submit]")
        .await;
    let said = org
        .wait_text(
            ".editor [data-path='questions[1]'] [data-path=correct] .field-error:not(.incomplete)",
            "fehlt",
        )
        .await;
    assert!(said.starts_with("Frage 2, Richtige Antworten"), "{said}");
    org.shot("41-builder-quiz-incomplete-de").await;
    org.click_nth(".editor .correct-field input[type=checkbox]", 2)
        .await;
    org.wait_gone(".editor [data-path='questions[1]'] .incomplete")
        .await;
    org.click(".editor form > .toolbar button[type=submit]")
        .await;
    org.wait_text(".agenda", "Wissen").await;
    org.close().await;
}
