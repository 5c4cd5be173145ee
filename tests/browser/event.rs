//! A whole event through the pages.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::json;

use crate::common::TestDb;
use crate::driver::{Browser, Driver};
use crate::helpers::{PASSWORD, TestApp};

const EMAIL: &str = "ada@example.org";

/// Adds one activity through the builder: picks the kind, fills the generated form with
/// `fill`, saves, and waits for it in the agenda.
async fn add_activity<F, Fut>(org: &Browser, kind: &str, title: &str, fill: F)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    org.select("#new-kind", kind).await;
    org.click("#add-activity button[type=submit]").await;
    org.fill("#a-title", title).await;
    fill().await;
    org.click(".editor form > .toolbar button[type=submit]")
        .await;
    org.wait_text(".agenda", title).await;
    org.wait_gone(".editor").await;
}

async fn join(phone: &Browser, base: &str, code: &str, nickname: &str) {
    phone.goto(&format!("{base}/join/{code}")).await;
    phone.wait_text("#session-found", "All hands").await;
    phone.fill("#nickname", nickname).await;
    phone.click("#join-form button[type=submit]").await;
    phone
        .wait_text(".who", &format!("You are {nickname}"))
        .await;
}

/// Lets bars finish growing before a screenshot of the big screen.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(800)).await;
}

/// Waits until the phone shows the activity titled `title` as running.
async fn on_activity(phones: &[&Browser], title: &str) {
    for phone in phones {
        phone.wait_text(".activity .activity-title", title).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_event_through_the_pages() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    conflicto::organizers::create(app.state.store.as_ref(), EMAIL, PASSWORD, true)
        .await
        .expect("organizer");

    // -- The organizer signs in (the sessions page sends them to the login page first).
    let org = driver.browser("organizer", 1366, 900).await;
    org.goto(&format!("{base}/organizer")).await;
    org.wait_for("#login-form").await;
    org.check_accessibility("login").await;
    org.shot("01-login").await;
    org.fill("#email", EMAIL).await;
    org.fill("#password", "wrong password!").await;
    org.click("#login-form button[type=submit]").await;
    org.wait_text("#login-error", "Wrong email or password")
        .await;
    assert_eq!(
        org.js("return document.getElementById('password').value;", vec![])
            .await,
        json!(""),
        "a failed sign-in keeps nothing of the password"
    );
    org.fill("#password", PASSWORD).await;
    org.click("#login-form button[type=submit]").await;
    org.wait_for("#new-title").await;
    org.check_accessibility("sessions-empty").await;

    // -- A new session, and one activity of each kind, through the generated forms.
    org.fill("#new-title", "All hands").await;
    org.click(".inline-form button[type=submit]").await;
    org.wait_for("#add-activity").await;
    org.check_accessibility("builder-empty").await;

    add_activity(&org, "poll", "Lunch", || async {
        org.fill(".editor [name=question]", "Where do we eat?")
            .await;
        org.fill_nth(".editor input.list-item", 0, "Pizza").await;
        org.fill_nth(".editor input.list-item", 1, "Sushi").await;
        org.click_text(".editor .list-field > button", "Add").await;
        org.fill_nth(".editor input.list-item", 2, "Salad").await;
        org.fill("#a-limit", "600").await;
        org.wait_text(".preview", "Salad").await;
        org.shot("02-builder-poll-editor").await;
        org.check_accessibility("builder-editor").await;
    })
    .await;
    add_activity(&org, "rating", "Usefulness", || async {
        org.fill(".editor [name=question]", "How useful was this?")
            .await;
    })
    .await;
    add_activity(&org, "word_cloud", "One word", || async {
        org.fill(".editor [name=prompt]", "Rust in one word").await;
    })
    .await;
    add_activity(&org, "open_text", "Feedback", || async {
        org.fill(".editor [name=prompt]", "What should we change?")
            .await;
    })
    .await;
    add_activity(&org, "qna", "Ask me anything", || async {
        org.fill(".editor [name=topic]", "Roadmap").await;
    })
    .await;
    add_activity(&org, "poker", "Estimate", || async {
        org.fill(".editor [name=story]", "Login page").await;
    })
    .await;
    add_activity(&org, "quiz", "Trivia", || async {
        org.fill(".editor [name=question]", "2 + 2 = ?").await;
        org.fill_nth(".editor input.list-item", 0, "3").await;
        org.fill_nth(".editor input.list-item", 1, "4").await;
        // No choice is correct until the organizer ticks one; until then the question
        // says it is incomplete.
        org.wait_text(".editor .correct-field .incomplete", "Incomplete")
            .await;
        org.click_nth(".editor .correct-field input[type=checkbox]", 1)
            .await;
        org.wait_gone(".editor .correct-field .incomplete").await;
        org.fill(".editor [name=time_limit_seconds]", "90").await;
        org.wait_text(".preview", "2 + 2 = ?").await;
        org.shot("03-builder-quiz-editor").await;
    })
    .await;
    add_activity(&org, "buzzer", "Buzz round", || async {
        org.fill(".editor [name=prompt]", "Name a Rust web framework")
            .await;
    })
    .await;

    // Reorder: the buzzer up one place and back.
    org.click("button[aria-label='Move Buzz round up']").await;
    org.wait_text(".agenda-item:nth-child(7)", "Buzz round")
        .await;
    org.click("button[aria-label='Move Buzz round down']").await;
    org.wait_text(".agenda-item:nth-child(8)", "Buzz round")
        .await;
    org.shot("04-builder").await;
    org.check_accessibility("builder").await;

    let code = org.text("#join-code").await;
    assert_eq!(code.len(), 6, "join code {code:?}");

    // -- Open the session and go to the run view.
    org.click("#open-session").await;
    org.click("#run-session").await;
    org.wait_for("#next").await;
    let run = org.client.window().await.expect("run window");

    // -- The big screen, opened from the run view, in its own window.
    org.click("#open-screen").await;
    let mut screen = None;
    for _ in 0..100 {
        let windows = org.client.windows().await.expect("windows");
        if let Some(other) = windows.into_iter().find(|w| *w != run) {
            screen = Some(other);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let screen = screen.expect("the big screen opened in a new window");
    org.client.switch_to_window(screen.clone()).await.unwrap();
    org.viewport(1920, 1080).await;
    org.wait_text(".join-code", &code).await;
    assert!(org.text(".join-url").await.contains("/join"));
    org.check_accessibility("present-join").await;
    org.shot("05-screen-join-1920x1080").await;
    org.check_room("05-screen-join-1920x1080").await;
    org.viewport(1280, 720).await;
    org.shot("05-screen-join-1280x720").await;
    org.check_room("05-screen-join-1280x720").await;
    org.viewport(1920, 1080).await;

    // -- Three phones join: by typing the code, by the QR link, and after a taken nickname.
    let ann = driver.phone("ann").await;
    let bob = driver.phone("bob").await;
    let cat = driver.phone("cat").await;
    ann.goto(&format!("{base}/join")).await;
    ann.check_accessibility("join").await;
    ann.fill("#code", "zzzzzz").await;
    ann.fill("#nickname", "ann").await;
    ann.click("#join-form button[type=submit]").await;
    ann.wait_text("#code-error", "No open session has this code")
        .await;
    ann.shot("06-phone-join-wrong-code").await;
    ann.fill("#code", &code.to_lowercase()).await;
    ann.click("#join-form button[type=submit]").await;
    ann.wait_text(".who", "You are ann").await;

    bob.goto(&format!("{base}/join/{code}")).await;
    bob.wait_text("#session-found", "All hands").await;
    bob.fill("#nickname", "ANN").await;
    bob.click("#join-form button[type=submit]").await;
    bob.wait_text("#nickname-error", "That nickname is taken")
        .await;
    bob.shot("07-phone-nickname-taken").await;
    bob.fill("#nickname", "bob").await;
    bob.click("#join-form button[type=submit]").await;
    bob.wait_text(".who", "You are bob").await;
    join(&cat, &base, &code, "cat").await;
    ann.wait_text(".waiting", "Waiting for the next activity")
        .await;
    ann.check_accessibility("phone-waiting").await;
    org.wait_text(".join-count", "3 joined").await;

    let phones = [&ann, &bob, &cat];
    let to_run = async || org.client.switch_to_window(run.clone()).await.unwrap();
    let to_screen = async || org.client.switch_to_window(screen.clone()).await.unwrap();

    // -- Poll: live bars on the screen; a phone that reloads keeps its vote.
    to_run().await;
    org.wait_text(".run-people", "cat").await;
    org.click("#next").await;
    on_activity(&phones, "Lunch").await;
    for (phone, pick) in [(&ann, 0), (&bob, 1), (&cat, 0)] {
        phone.click(&format!("#poll-{pick}")).await;
        phone.click(".answer button[type=submit]").await;
        phone.wait_text(".notice.ok", "Your vote is counted").await;
    }
    ann.shot("08-phone-poll").await;
    ann.check_accessibility("phone-poll").await;
    to_screen().await;
    org.wait_text(".screen-results", "2 · 66.7%").await;
    assert!(org.text(".screen-results").await.contains("1 · 33.3%"));
    settle().await;
    org.shot("09-screen-poll").await;
    org.check_room("09-screen-poll").await;
    org.check_accessibility("present-poll").await;
    cat.client.refresh().await.unwrap();
    cat.wait_text(".who", "You are cat").await;
    cat.wait_text(".notice.ok", "Your vote is counted").await;
    assert_eq!(
        cat.js("return document.querySelector('#poll-0').checked", vec![])
            .await,
        json!(true),
        "after a reload the phone shows its vote"
    );

    // -- The poll's time limit counts down in the run view; +30 s moves it.
    to_run().await;
    org.wait_text(".countdown", "9:").await;
    org.click("button[aria-label='Add 30 seconds']").await;
    org.wait_text(".countdown", "10:").await;
    org.shot("09-run-poll-timer").await;

    // -- Rating.
    org.click("#next").await;
    on_activity(&phones, "Usefulness").await;
    for (phone, pick) in [(&ann, 3), (&bob, 4), (&cat, 4)] {
        phone.click(&format!("#rating-{pick}")).await;
        phone.click(".answer button[type=submit]").await;
        phone
            .wait_text(".notice.ok", "Your rating is counted")
            .await;
    }
    to_screen().await;
    org.wait_text(".screen-results", "4.67").await;
    settle().await;
    org.shot("10-screen-rating").await;
    org.check_room("10-screen-rating").await;
    org.viewport(1280, 720).await;
    settle().await;
    org.shot("10-screen-rating-1280x720").await;
    org.check_room("10-screen-rating-1280x720").await;
    org.viewport(1920, 1080).await;

    // -- Word cloud, started from the big screen's keyboard (N), after a look at its help (?).
    org.client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("?")
        .await
        .unwrap();
    org.wait_text(".help", "next activity").await;
    org.client
        .find(Locator::Css("body"))
        .await
        .unwrap()
        .send_keys("n")
        .await
        .unwrap();
    org.wait_text(".screen-question", "Rust in one word").await;
    on_activity(&phones, "One word").await;
    for (phone, word) in [(&ann, "Rust"), (&bob, "rust"), (&cat, "safety")] {
        phone.fill("#word-0", word).await;
        phone.click(".answer button[type=submit]").await;
        phone.wait_text(".notice.ok", "Your words are in").await;
    }
    to_screen().await;
    org.wait_text(".cloud", "safety").await;
    assert!(org.text(".cloud").await.contains("rust"));
    settle().await;
    org.shot("11-screen-word-cloud").await;
    org.check_room("11-screen-word-cloud").await;
    org.check_accessibility("present-word-cloud").await;

    // -- Open text.
    to_run().await;
    org.click("#next").await;
    on_activity(&phones, "Feedback").await;
    ann.fill("#open-text", "More live demos").await;
    ann.click(".answer button[type=submit]").await;
    ann.wait_text(".notice.ok", "Sent").await;
    to_screen().await;
    org.wait_text(".screen-results", "More live demos").await;
    // An edit replaces the answer on the screen and in the run view, without a reload.
    ann.wait_text(".answer .hint", "edit").await;
    ann.fill("#open-text", "More live coding").await;
    ann.click(".answer button[type=submit]").await;
    org.wait_text(".screen-results", "More live coding").await;
    let shown = org.text(".screen-results").await;
    assert!(!shown.contains("More live demos"), "{shown}");
    to_run().await;
    org.wait_text(".run-results", "More live coding").await;
    let listed = org.text(".run-results").await;
    assert!(!listed.contains("More live demos"), "{listed}");
    to_screen().await;
    settle().await;
    org.shot("12-screen-open-text").await;
    org.check_room("12-screen-open-text").await;

    // -- Q&A: ann asks, bob and cat upvote; the asker's own vote never counts.
    to_run().await;
    org.click("#next").await;
    on_activity(&phones, "Ask me anything").await;
    ann.fill("#question", "When is lunch?").await;
    ann.click_text(".answer button", "Ask").await;
    ann.wait_text(".notice.ok", "on the wall").await;
    for phone in [&bob, &cat] {
        phone.wait_text(".phone-wall", "When is lunch?").await;
        phone.click(".phone-wall .vote").await;
        phone.wait_text(".phone-wall .vote.voted", "").await;
    }
    bob.shot("13-phone-qna").await;
    bob.check_accessibility("phone-qna").await;
    to_screen().await;
    org.wait_text(".wall .votes strong", "2").await;
    settle().await;
    org.shot("14-screen-qna").await;
    org.check_room("14-screen-qna").await;
    to_run().await;
    org.wait_text(".run-results .wall", "When is lunch?").await;
    org.shot("15-run-qna").await;
    org.check_accessibility("run-qna").await;

    // -- Planning poker: hidden until the reveal, then the cards turn.
    org.click("#next").await;
    on_activity(&phones, "Estimate").await;
    for (phone, card) in [(&ann, "3"), (&bob, "5"), (&cat, "5")] {
        phone.click_text(".deck-card", card).await;
        phone
            .wait_text(".notice.ok", &format!("Your card: {card}"))
            .await;
    }
    to_screen().await;
    org.wait_text(".screen-results", "3 voted").await;
    assert!(!org.text(".screen-results").await.contains("Average"));
    to_run().await;
    org.click_text(".run-current button", "Reveal results")
        .await;
    to_screen().await;
    org.wait_text(".screen-results", "Average").await;
    assert!(org.text(".screen-results").await.contains("4.3"));
    tokio::time::sleep(Duration::from_millis(900)).await; // the cards finish turning
    org.shot("16-screen-poker-revealed").await;
    org.check_room("16-screen-poker-revealed").await;

    // -- Quiz: a question with a countdown, answers locked in, a phone reloads, the reveal.
    to_run().await;
    org.click("#next").await;
    on_activity(&phones, "Trivia").await;
    ann.wait_text(".activity", "the quiz starts soon").await;
    org.click_text(".run-current button", "First question")
        .await;
    for (phone, pick) in [(&ann, 1), (&bob, 0), (&cat, 1)] {
        phone.wait_text(".activity legend", "2 + 2 = ?").await;
        phone.click(&format!("#quiz-{pick}")).await;
        phone.wait_text(".notice.ok", "Answer locked in").await;
    }
    ann.shot("17-phone-quiz").await;
    // Each choice has a shape besides its colour, the same on the phone and the screen.
    let shapes =
        "return [...document.querySelectorAll('.shape')].map((s) => s.textContent).join('')";
    assert_eq!(ann.js(shapes, vec![]).await, json!("▲◆"));
    to_screen().await;
    org.wait_text(".screen-question", "2 + 2 = ?").await;
    org.wait_text(".screen-results .tiles", "4").await;
    assert_eq!(org.js(shapes, vec![]).await, json!("▲◆"));
    org.shot("18-screen-quiz-question").await;
    org.check_room("18-screen-quiz-question").await;
    bob.client.refresh().await.unwrap();
    bob.wait_text(".notice.ok", "Answer locked in").await;
    to_run().await;
    org.click_text(".run-current button", "Reveal the answer")
        .await;
    to_screen().await;
    org.wait_text(".screen-results .leaderboard", "ann").await;
    let board = org.text(".screen-results .leaderboard").await;
    let place = |name: &str| {
        board
            .find(name)
            .unwrap_or_else(|| panic!("{name} in {board}"))
    };
    assert!(
        place("ann") < place("cat") && place("cat") < place("bob"),
        "{board}"
    );
    settle().await;
    org.shot("19-screen-quiz-leaderboard").await;
    org.check_room("19-screen-quiz-leaderboard").await;
    ann.wait_text(".notice.ok", "Right!").await;
    ann.wait_text(".you", "rank 1").await;
    bob.wait_text(".notice.ok", "Not this time").await;
    ann.shot("20-phone-quiz-revealed").await;

    // -- Buzzer: armed by the organizer, ordered by the server, judged.
    to_run().await;
    org.click("#next").await;
    on_activity(&phones, "Buzz round").await;
    cat.wait_text(".activity .notice", "Wait for the organizer")
        .await;
    org.click_text(".run-current button", "Arm the buzzer")
        .await;
    // Arming reaches the phone without a reload, and the old advice goes.
    cat.wait_for(".buzz-button:not([disabled])").await;
    let armed = cat.text(".activity").await;
    assert!(!armed.contains("Wait for the organizer"), "{armed}");
    bob.click(".buzz-button").await;
    bob.wait_text(".notice.ok", "You buzzed in position 1")
        .await;
    ann.click(".buzz-button").await;
    ann.wait_text(".notice.ok", "You buzzed in position 2")
        .await;
    org.wait_text(".run-results .buzzes", "bob").await;
    org.click_text(".run-results .buzz button", "Right").await;
    to_screen().await;
    org.wait_text(".screen-results .scores", "bob").await;
    let order = org.text(".screen-results .buzzes").await;
    assert!(
        order.find("bob").unwrap() < order.find("ann").unwrap(),
        "{order}"
    );
    settle().await;
    org.shot("21-screen-buzzer").await;
    org.check_room("21-screen-buzzer").await;
    bob.shot("22-phone-buzzer").await;
    // Armed again for the next question: a phone that buzzed may buzz again, and no longer
    // says where it buzzed last time.
    to_run().await;
    org.click_text(".run-current button", "Arm the buzzer")
        .await;
    ann.wait_for(".buzz-button:not([disabled])").await;
    let again = ann.text(".activity").await;
    assert!(!again.contains("position 2"), "{again}");

    // -- Reactions from a phone reach the organizer's counts.
    for _ in 0..3 {
        ann.click(".reactions button[aria-label='Applause']").await;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    to_screen().await;
    org.wait_for(".floats .float").await;
    to_run().await;
    org.wait_text(".run-people .reaction-totals", "3").await;

    // -- Removing a participant: their phone cannot come back.
    org.accept_confirms().await;
    org.click("button[aria-label='Remove cat']").await;
    org.wait_text(".run-people", "removed").await;
    // "Joined" counts the people still in the session, the same in the header and the list.
    org.wait_text("#people-count", "2 joined").await;
    org.wait_text("#people-heading .badge", "2").await;
    // "Online" is the same people in the header and the dots: the two left, not cat.
    org.wait_text("#people-count", "2 online").await;
    org.wait_until(
        "the header's online count matches the green dots",
        "return document.querySelectorAll('.people .dot.online').length === 2
           && !document.querySelector('.person.removed .dot');",
        vec![],
    )
    .await;
    org.shot("23-run-view").await;
    org.check_accessibility("run").await;
    cat.wait_text(".activity", "You were removed from this session")
        .await;
    // The phone forgot its token: after a reload it is a stranger at the join form.
    cat.client.refresh().await.unwrap();
    cat.wait_text("#session-found", "All hands").await;
    assert!(cat.text(".who").await.is_empty());

    // -- End the session: phones say so; the report has the results and the exports.
    org.click_text(".run-bar button", "End session").await;
    ann.wait_text(".activity", "The session has ended").await;
    org.goto(&format!("{base}/organizer")).await;
    org.wait_text(".table-list", "All hands").await;
    org.shot("24-sessions").await;
    org.check_accessibility("sessions").await;
    org.click_text(".table-list a", "Report").await;
    org.wait_text("main", "Pizza").await;
    let report = org.text("main").await;
    for expected in [
        "Lunch",
        "Usefulness",
        "Trivia",
        "Download CSV",
        "3 took part",
    ] {
        assert!(report.contains(expected), "report lacks {expected:?}");
    }
    org.shot("25-report").await;
    org.check_accessibility("report").await;
    // Both spreadsheet downloads work from the report page with the organizer's sign-in:
    // the Excel file is a zip (an .xlsx), the CSV starts with the UTF-8 byte-order mark.
    let downloads = org
        .js(
            "const fetchBytes = async (label) => {
               const link = [...document.querySelectorAll('a[download]')].find((a) => a.textContent.includes(label));
               const response = await fetch(link.href);
               return [response.status, [...new Uint8Array(await response.arrayBuffer()).slice(0, 3)]];
             };
             return Promise.all([fetchBytes('Excel'), fetchBytes('CSV')]);",
            vec![],
        )
        .await;
    assert_eq!(
        downloads,
        json!([[200, [0x50, 0x4b, 0x03]], [200, [0xef, 0xbb, 0xbf]]]),
        "the .xlsx and the CSV from the report page"
    );

    // -- The same pages in German.
    bob.goto(&format!("{base}/lang/de?next=/join")).await;
    bob.wait_text("h1", "An einer Session teilnehmen").await;
    bob.shot("26-phone-join-de").await;

    for browser in [org, ann, bob, cat] {
        browser.close().await;
    }
}

/// With reduced motion asked for, nothing on the pages moves: transitions and animations are
/// off, and the big screen sends no floating reactions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reduced_motion_is_respected() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let browser = driver
        .browser_with("reduced", 1280, 720, &["--force-prefers-reduced-motion"])
        .await;
    browser.goto(&format!("{}/join", app.base)).await;
    browser.wait_for("#join-form").await;
    let motion = browser
        .js(
            "const probe = (cls) => { const el = document.createElement('span'); el.className = cls;
                 document.body.append(el); const s = getComputedStyle(el);
                 const out = [s.transitionDuration, s.animationName]; el.remove(); return out; };
             return {reduce: matchMedia('(prefers-reduced-motion: reduce)').matches,
                     bar: probe('bar-fill'), float: probe('float'), card: probe('poker-card')};",
            vec![],
        )
        .await;
    assert_eq!(motion["reduce"], json!(true), "{motion}");
    assert_eq!(motion["bar"][0], json!("0s"), "{motion}");
    assert_eq!(motion["float"][1], json!("none"), "{motion}");
    browser.close().await;
}
