//! Teams through the pages: the builder names them, phones pick one as they join and show
//! it, a quiz is played, and the big screen shows the team race beside the players at every
//! size; the report has it too. Screenshots `89`–`92`.

use serde_json::json;

use crate::common::TestDb;
use crate::driver::{Browser, Driver};
use crate::helpers::{PASSWORD, TestApp};

const EMAIL: &str = "teams@example.org";

async fn join(phone: &Browser, base: &str, code: &str, nickname: &str, team: &str) {
    phone.goto(&format!("{base}/join/{code}")).await;
    phone.wait_for("#team").await;
    phone.fill("#nickname", nickname).await;
    phone.select("#team", team).await;
    phone.click("#join-form button[type=submit]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn phones_pick_teams_and_the_screen_shows_the_race() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let host = app.host(EMAIL, false).await;
    let session = app.session(&host, json!({"title": "Quiz night"})).await;
    let id = session["id"].as_str().unwrap().to_owned();
    let code = session["join_code"].as_str().unwrap().to_owned();

    // -- The builder names the teams and ranks the race by points per player.
    let org = driver.browser("teams", 1366, 900).await;
    org.sign_in(
        &format!("{base}/login?next=/organizer/sessions/{id}"),
        EMAIL,
        PASSWORD,
    )
    .await;
    org.wait_for("#s-teams").await;
    org.fill("#s-teams", "Red Foxes\nBlue Owls").await;
    org.select("#s-team-scoring", "average").await;
    org.click_text("form button[type=submit]", "Save settings")
        .await;
    let saved = async || {
        app.read(&host.token, &format!("/api/v1/sessions/{id}"))
            .await["teams"]
            .clone()
    };
    for _ in 0..50 {
        if !saved().await.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        saved().await,
        json!({"names": ["Red Foxes", "Blue Owls"], "assign": "choose", "scoring": "average"})
    );
    let quiz = app
        .activity(
            &host,
            &id,
            "quiz",
            json!({"questions": [{"question": "Which is the largest ocean?",
                "choices": ["Atlantic", "Pacific", "Indian"], "correct": [1], "time_limit_seconds": 120}],
                "scoring": "correctness"}),
            json!({"title": "Geography"}),
        )
        .await;
    app.patch_session(&host, &id, json!({"status": "active"}))
        .await;

    // -- Three phones pick their teams; each shows its own.
    let ann = driver.phone("teams-ann").await;
    join(&ann, &base, &code, "Ann", "0").await;
    ann.wait_text("#who-team", "Red Foxes").await;
    let bob = driver.phone("teams-bob").await;
    join(&bob, &base, &code, "Bob", "0").await;
    let cat = driver.phone("teams-cat").await;
    // Joining without a pick is stopped on the phone, in words.
    cat.goto(&format!("{base}/join/{code}")).await;
    cat.wait_for("#team").await;
    cat.fill("#nickname", "Cat").await;
    cat.click("#join-form button[type=submit]").await;
    cat.wait_text("#team-error", "Pick your team first").await;
    cat.shot("89-team-pick-phone").await;
    cat.check_accessibility("team-pick-phone").await;
    cat.select("#team", "1").await;
    cat.click("#join-form button[type=submit]").await;
    cat.wait_text("#who-team", "Blue Owls").await;

    // -- The quiz: Ann and Cat right, Bob wrong; revealed, the race shows Blue Owls ahead
    //    by points per player.
    app.transition(&host, &quiz, "active").await;
    app.command(&host, &quiz, "next", json!({})).await;
    for (phone, choice) in [(&ann, "Pacific"), (&bob, "Atlantic"), (&cat, "Pacific")] {
        phone
            .wait_text(".activity", "Which is the largest ocean?")
            .await;
        phone.click_text(".activity label", choice).await;
        phone.wait_for(".notice.ok").await;
    }
    app.command(&host, &quiz, "reveal_answer", json!({})).await;
    ann.wait_text(".phone-results .team-race", "Blue Owls")
        .await;
    ann.shot("90-team-phone").await;
    let key = app.viewer_token(&host, &id).await;
    let screen = driver.browser("teams-screen", 1920, 1080).await;
    screen.goto(&format!("{base}/present/{id}?key={key}")).await;
    screen.wait_text(".team-race", "Blue Owls").await;
    let first = screen.text(".team-race .race-row:first-child").await;
    assert!(
        first.contains("Blue Owls") && first.contains("1,000"),
        "{first}"
    );
    screen.shot("91-team-race-screen").await;
    screen.check_accessibility("team-race-screen").await;
    for (width, height) in [(1280, 720), (1920, 1080), (3840, 2160)] {
        screen.viewport(width, height).await;
        tokio::time::sleep(std::time::Duration::from_millis(900)).await;
        screen
            .check_room(&format!("team-race-{width}x{height}"))
            .await;
    }

    // -- The report has the race with both teams.
    app.complete(&host, &id).await;
    org.goto(&format!("{base}/organizer/sessions/{id}/report"))
        .await;
    org.wait_text(".team-race", "Red Foxes").await;
    org.shot("92-team-report").await;
    for phone in [ann, bob, cat] {
        phone.close().await;
    }
    screen.close().await;
    org.close().await;
}
