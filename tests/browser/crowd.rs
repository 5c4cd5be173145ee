//! Every kind's big-screen view with a crowd, at 1280×720, 1920×1080 and 3840×2160: nothing
//! leaves the screen or scrolls, and text for the room is at least 2.2 % of its height
//! (`Browser::check_room`). The answers come in through the API, the screen follows a
//! viewer link. CI runs 0, 3 and 50 people; `CONFLICTO_CROWDS=0,3,50,500` (see
//! `scripts/screens.sh`) runs the whole matrix. Screenshots land in the artifact folder as
//! `crowd-<kind>-<people>-<size>.png`; the largest crowd is also checked in German at
//! 1280×720 (`crowd-<kind>-<people>-de-1280x720.png`). Quizzes and buzzers run again in a
//! session with four teams (`crowd-quiz-teams-…`), whose screens add the team race.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::TestDb;
use crate::driver::{Browser, Driver};
use crate::helpers::{Guest, TestApp, json as body_of};

const SIZES: [(u32, u32); 3] = [(1280, 720), (1920, 1080), (3840, 2160)];

/// The crowd sizes to check: `CONFLICTO_CROWDS` (comma-separated), or 0, 3 and 50.
fn crowds() -> Vec<usize> {
    std::env::var("CONFLICTO_CROWDS")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![0, 3, 50])
}

/// A nickname for person `n`: every seventh is as long as nicknames may be.
fn nickname(n: usize) -> String {
    if n % 7 == 3 {
        format!("{n:03} Maximiliane-Theresa von Hohenzoll")
    } else {
        format!("Guest {n}")
    }
}

/// Joins, waiting out the session's admission rate when a crowd arrives at once.
pub(crate) async fn join(app: &TestApp, session: &str, name: &str) -> Guest {
    for _ in 0..200 {
        let response = app
            .call(
                reqwest::Method::POST,
                format!("/api/v1/sessions/{session}/join"),
                None,
                Some(json!({"nickname": name})),
            )
            .await;
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            tokio::time::sleep(Duration::from_millis(250)).await;
            continue;
        }
        let body = body_of(response).await;
        return Guest {
            token: body["token"].as_str().expect("joined").to_owned(),
            id: body["participant_id"].as_str().unwrap().to_owned(),
            nickname: body["nickname"].as_str().unwrap().to_owned(),
        };
    }
    panic!("{name} could not join");
}

/// Host commands with their arguments.
type Commands = &'static [(&'static str, fn() -> Value)];

/// One kind, set up and answered by `people`; `before` runs after it opens (a quiz's first
/// question, arming the buzzer), `after` once everyone answered (a reveal).
struct Case {
    kind: &'static str,
    config: Value,
    answer: fn(usize) -> Value,
    before: Commands,
    after: Commands,
}

fn cases() -> Vec<Case> {
    const WORDS: [&str; 12] = [
        "fast",
        "friendly",
        "Rust",
        "coffee",
        "teamwork",
        "unbelievably-long-compound-word",
        "ownership",
        "borrow",
        "async",
        "deploy",
        "tests",
        "joy",
    ];
    vec![
        Case {
            kind: "poll",
            config: json!({"question": "Where do we go for the team lunch on Friday afternoon?",
                "options": ["Pizza", "Sushi", "The new Lebanese place around the corner by the station", "Salad"]}),
            answer: |n| json!({"options": [n % 4]}),
            before: &[],
            after: &[],
        },
        Case {
            kind: "rating",
            config: json!({"question": "How useful was this session?", "min": 1, "max": 10}),
            answer: |n| json!({"value": 1 + n % 10}),
            before: &[],
            after: &[],
        },
        Case {
            kind: "scales",
            config: json!({"question": "How much do you agree?", "steps": 5,
                "labels": ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"],
                "statements": (1..=10).map(|n| if n == 4 {
                    "The onboarding material explained the deployment pipeline, the on-call rota and the review rules clearly enough".to_owned()
                } else {
                    format!("Statement {n} about our work")
                }).collect::<Vec<_>>()}),
            answer: |n| json!({"values": (0..10).map(|s| if (n + s) % 9 == 0 { Value::Null } else { json!(1 + (n * 3 + s * 2) % 5) }).collect::<Vec<_>>()}),
            before: &[],
            after: &[],
        },
        Case {
            kind: "ranking",
            config: json!({"question": "Which features should we build first?",
                "items": (1..=10).map(|n| if n == 3 {
                    "Single sign-on with every identity provider our customers already use, including the old ones".to_owned()
                } else {
                    format!("Feature {n}")
                }).collect::<Vec<_>>()}),
            answer: |n| json!({"order": (0..10).map(|p| (p + n) % 10).collect::<Vec<_>>()}),
            before: &[],
            after: &[],
        },
        Case {
            kind: "points",
            config: json!({"question": "Where should next year's budget go?",
                "options": ["Hiring", "Tools and licences", "Travel to customers and conferences across Europe", "Training", "Office"]}),
            answer: |n| {
                let points = [[100, 0, 0, 0, 0], [40, 30, 20, 10, 0], [20, 20, 20, 20, 20]][n % 3];
                json!({ "points": points })
            },
            before: &[],
            after: &[],
        },
        Case {
            kind: "word_cloud",
            config: json!({"prompt": "This team in one word", "max_words": 3}),
            answer: |n| json!({"words": [WORDS[n % 12], WORDS[(n * 5 + 1) % 12], format!("word{}", n % 40)]}),
            before: &[],
            after: &[],
        },
        Case {
            kind: "open_text",
            config: json!({"prompt": "What should we change next quarter?"}),
            answer: |n| json!({"text": format!("Idea {n}: fewer meetings on Mondays, and more time for the things that matter to our customers")}),
            before: &[],
            after: &[],
        },
        Case {
            kind: "qna",
            config: json!({"topic": "Ask the leadership team"}),
            answer: |n| json!({"ask": {"text": format!("Question {n}: what is the plan for the office move, and will we keep the quiet rooms?")}}),
            before: &[],
            after: &[],
        },
        Case {
            kind: "poker",
            config: json!({"story": "Login page with single sign-on", "coffee_card": true}),
            answer: |n| {
                let card = ["1", "2", "3", "5", "8", "13", "?", "coffee"][n % 8];
                json!({ "card": card })
            },
            before: &[],
            after: &[("reveal", || json!({}))],
        },
        Case {
            kind: "quiz",
            config: json!({"questions": [{"question": "Which planet is the largest in our solar system?",
                "choices": ["Mars", "Jupiter", "Saturn", "Neptune"], "correct": [1], "time_limit_seconds": 120}]}),
            answer: |n| json!({"question": 0, "choices": [n % 4]}),
            before: &[("next", || json!({}))],
            after: &[("reveal_answer", || json!({}))],
        },
        Case {
            kind: "buzzer",
            config: json!({"prompt": "Name a Rust web framework"}),
            answer: |_| json!({}),
            before: &[("arm", || json!({}))],
            after: &[],
        },
    ]
}

/// A screenshot's name, with where it goes on the contact sheet (kind, crowd, size).
type Shot = (usize, usize, usize, String);

async fn look(screen: &Browser, kind: (usize, &str), people: usize, shots: &mut Vec<Shot>) {
    let (row, kind) = kind;
    for (size, (width, height)) in SIZES.into_iter().enumerate() {
        screen.viewport(width, height).await;
        // Let the layout and the bars settle at the new size.
        tokio::time::sleep(Duration::from_millis(900)).await;
        let name = format!("crowd-{kind}-{people}-{width}x{height}");
        screen.shot(&name).await;
        screen.check_room(&name).await;
        shots.push((row, people, size, name));
    }
}

/// One picture of every screenshot, a row per kind, to look at them all at once:
/// `crowd-contact.png` beside them.
async fn contact_sheet(screen: &Browser, mut shots: Vec<Shot>, per_row: usize) {
    shots.sort();
    let cells: String = shots
        .iter()
        .map(|(_, _, _, name)| {
            format!("<figure><img src=\"{name}.png\"><figcaption>{name}</figcaption></figure>")
        })
        .collect();
    let page = format!(
        "<!doctype html><meta charset=utf-8><style>body{{margin:8px;background:#ddd;font:11px sans-serif}}\
         main{{display:grid;grid-template-columns:repeat({per_row},240px);gap:6px}}\
         figure{{margin:0}}img{{width:240px;height:135px;object-fit:contain;background:#000;display:block}}</style><main>{cells}</main>"
    );
    let dir = crate::driver::artifacts();
    std::fs::write(dir.join("crowd-contact.html"), page).expect("contact sheet page");
    let rows = shots.len().div_ceil(per_row);
    let width = u32::try_from(per_row * 246 + 16).unwrap_or(4000);
    let height = u32::try_from(rows * 160 + 16).unwrap_or(4000);
    screen.viewport(width, height).await;
    screen
        .goto(&format!(
            "file://{}",
            dir.join("crowd-contact.html").display()
        ))
        .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    screen.shot("crowd-contact").await;
}

/// The screens and where their pictures go, for one crowd.
struct Screens<'a> {
    screen: &'a Browser,
    german: &'a Browser,
    base: &'a str,
    largest: usize,
}

/// Runs `cases` in a new session (with `teams`, if given) answered by `people`, looking at
/// each on every screen size; `first_row` places them on the contact sheet, `suffix` tells
/// their pictures apart.
async fn run_cases(
    app: &TestApp,
    host: &crate::helpers::Host,
    screens: &Screens<'_>,
    people: usize,
    (cases, teams, first_row, suffix): (Vec<Case>, Option<Value>, usize, &str),
    shots: &mut Vec<Shot>,
) {
    let mut body = json!({"title": "Crowd", "max_participants": 1000});
    if let Some(teams) = teams {
        body["teams"] = teams;
    }
    let session = app.session(host, body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.patch_session(host, &session, json!({"status": "active"}))
        .await;
    let key = app.viewer_token(host, &session).await;
    let mut guests = Vec::with_capacity(people);
    for n in 0..people {
        guests.push(join(app, &session, &nickname(n)).await);
    }
    let (screen, german, base) = (screens.screen, screens.german, screens.base);
    screen
        .goto(&format!("{base}/present/{session}?key={key}"))
        .await;
    if people == screens.largest {
        german
            .goto(&format!("{base}/present/{session}?key={key}"))
            .await;
    }
    for (row, case) in cases.into_iter().enumerate() {
        let activity = app
            .activity(host, &session, case.kind, case.config.clone(), json!({}))
            .await;
        app.transition(host, &activity, "active").await;
        for (name, args) in case.before {
            app.command(host, &activity, name, args()).await;
        }
        for (n, guest) in guests.iter().enumerate() {
            let response = app.vote(guest, &activity, (case.answer)(n), None).await;
            assert!(
                response.status().is_success(),
                "{} {n}: {}",
                case.kind,
                response.text().await.unwrap()
            );
        }
        for (name, args) in case.after {
            app.command(host, &activity, name, args()).await;
        }
        // A buzzer's scores (and its team race) come from the organizer's verdicts.
        if case.kind == "buzzer" {
            for guest in guests.iter().take(5) {
                app.command(
                    host,
                    &activity,
                    "judge",
                    json!({"participant_id": guest.id, "correct": true}),
                )
                .await;
            }
        }
        screen
            .wait_for(&format!(".activity-panel.kind-{}", case.kind))
            .await;
        let label = format!("{}{suffix}", case.kind);
        look(screen, (first_row + row, &label), people, shots).await;
        if people == screens.largest {
            german
                .wait_for(&format!(".activity-panel.kind-{}", case.kind))
                .await;
            tokio::time::sleep(Duration::from_millis(900)).await;
            let name = format!("crowd-{label}-{people}-de-1280x720");
            german.shot(&name).await;
            german.check_room(&name).await;
        }
        app.transition(host, &activity, "closed").await;
    }
    app.complete(host, &session).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_fits_every_screen_with_a_crowd() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    let host = app.host("crowd@example.org", false).await;
    let screen = driver.browser("crowd", 1920, 1080).await;
    // The same screens in German, whose words run longer, at the smallest size with the
    // largest crowd.
    let german = driver.browser("crowd-de", 1280, 720).await;
    german.goto(&format!("{base}/lang/de?next=/")).await;
    let mut shots = Vec::new();
    let crowds = crowds();
    let screens = Screens {
        screen: &screen,
        german: &german,
        base: &base,
        largest: crowds.iter().copied().max().unwrap_or(0),
    };
    // Quizzes and buzzers again in teams: the team race beside the players.
    let teams = json!({"names": ["Red", "Blue", "The Extraordinarily Long Team", "Gold"], "assign": "auto"});
    let in_teams = || {
        cases()
            .into_iter()
            .filter(|c| c.kind == "quiz" || c.kind == "buzzer")
            .collect::<Vec<_>>()
    };
    for &people in &crowds {
        let alone = cases();
        let rows = alone.len();
        run_cases(
            &app,
            &host,
            &screens,
            people,
            (alone, None, 0, ""),
            &mut shots,
        )
        .await;
        run_cases(
            &app,
            &host,
            &screens,
            people,
            (in_teams(), Some(teams.clone()), rows, "-teams"),
            &mut shots,
        )
        .await;
    }
    contact_sheet(&screen, shots, crowds.len() * SIZES.len()).await;
    screen.close().await;
    german.close().await;
}
