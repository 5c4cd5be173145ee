//! Reports: the summary's counts and participation rates, and the CSV and JSON exports.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, counts, json};

both_backends!(
    the_summary_and_exports_match_what_happened,
    a_quiz_question_is_timed_from_its_own_start
);

async fn the_summary_and_exports_match_what_happened(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, code) = app.open_session(&host, None).await;
    let lunch = app
        .poll(
            &host,
            &session,
            json!({"question": "Lunch?", "options": ["Pizza", "Sushi"]}),
            json!({}),
        )
        .await;
    let unused = app
        .poll(
            &host,
            &session,
            json!({"question": "Later?", "options": ["y", "n"]}),
            json!({}),
        )
        .await;
    app.transition(&host, &lunch, "active").await;
    let guests = [
        app.join(&session, "A").await,
        app.join(&session, "=HYPERLINK(\"x\")").await,
        app.join(&session, "Jürgen 🎉").await,
        app.join(&session, "D").await,
    ];
    for (guest, option) in guests.iter().take(3).zip([0, 1, 1]) {
        assert_eq!(
            app.vote(guest, &lunch, json!({"options": [option]}), None)
                .await
                .status(),
            StatusCode::CREATED
        );
    }
    app.call(
        Method::DELETE,
        &format!(
            "/api/v1/sessions/{session}/participants/{}?ban=true",
            guests[3].id
        ),
        Some(&host.token),
        None,
    )
    .await;

    let summary = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{session}/summary"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(
        summary["participants"],
        json!({"total": 4, "active": 3, "removed": 0, "banned": 1})
    );
    let first = &summary["activities"][0];
    assert_eq!(first["id"], lunch.as_str());
    assert_eq!(first["rounds"][0]["respondents"], 3);
    assert_eq!(first["rounds"][0]["participation_rate"], 75.0);
    assert_eq!(counts(&first["rounds"][0]["results"]), [1, 2]);
    assert_eq!(summary["activities"][1]["id"], unused.as_str());
    assert_eq!(
        summary["activities"][1]["rounds"],
        json!([]),
        "never run, no rounds"
    );

    let csv = app
        .call(
            Method::GET,
            &format!("/api/v1/sessions/{session}/export.csv"),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        csv.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&code)
    );
    let bytes = csv.bytes().await.unwrap();
    assert!(
        bytes.starts_with(b"\xEF\xBB\xBF"),
        "a byte-order mark tells Excel it is UTF-8"
    );
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "a header and one row per answer:\n{text}");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().unwrap().clone();
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    assert_eq!(
        header.iter().take(7).collect::<Vec<_>>(),
        [
            "activity_position",
            "activity_title",
            "kind",
            "round",
            "participant_id",
            "nickname",
            "slot"
        ]
    );
    let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    let cells = |name: &str| -> Vec<String> {
        records.iter().map(|r| r[column(name)].to_owned()).collect()
    };
    assert_eq!(
        cells("nickname"),
        ["A", "'=HYPERLINK(\"x\")", "Jürgen 🎉"],
        "formula-like cells are defused"
    );
    assert_eq!(
        cells("choice"),
        ["Pizza", "Sushi", "Sushi"],
        "labels, not option numbers"
    );
    assert_eq!(cells("answer_json")[0], r#"{"options":[0]}"#);
    for seconds in cells("seconds_to_answer") {
        let seconds: f64 = seconds
            .parse()
            .expect("time to answer is known for new answers");
        assert!((0.0..60.0).contains(&seconds), "{seconds}");
    }

    // The spreadsheet, read back with a maintained reader: a summary, the participants,
    // and a sheet per activity in labels; umlauts, emoji and formula-like text intact.
    let xlsx = app
        .call(
            Method::GET,
            &format!("/api/v1/sessions/{session}/export.xlsx"),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(xlsx.status(), StatusCode::OK);
    assert!(
        xlsx.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("spreadsheetml")
    );
    let bytes = xlsx.bytes().await.unwrap().to_vec();
    let mut book: calamine::Xlsx<_> =
        calamine::open_workbook_from_rs(std::io::Cursor::new(bytes)).expect("an xlsx file");
    use calamine::Reader as _;
    assert_eq!(
        book.sheet_names(),
        ["Summary", "Participants", "1 A poll", "2 A poll"].map(str::to_owned),
        "a summary, the participants, and one sheet per activity"
    );
    let text = |book: &mut calamine::Xlsx<_>, sheet: &str| -> Vec<Vec<String>> {
        book.worksheet_range(sheet)
            .unwrap()
            .rows()
            .map(|row| row.iter().map(ToString::to_string).collect())
            .collect()
    };
    let summary = text(&mut book, "Summary");
    assert!(
        summary
            .iter()
            .any(|row| row[..2] == ["Joined".to_owned(), "4".to_owned()])
    );
    let people = text(&mut book, "Participants");
    assert_eq!(people.len(), 5, "a header and four people");
    assert!(
        people
            .iter()
            .any(|row| row[0] == "Jürgen 🎉" && row[1] == "active")
    );
    assert!(
        people
            .iter()
            .any(|row| row[0] == "=HYPERLINK(\"x\")" && row[1] == "active")
    );
    let lunch_sheet = text(&mut book, "1 A poll");
    assert_eq!(
        lunch_sheet[0][..3],
        ["Round", "Nickname", "choice"].map(str::to_owned)
    );
    let answers: Vec<(String, String)> = lunch_sheet[1..]
        .iter()
        .map(|row| (row[1].clone(), row[2].clone()))
        .collect();
    assert_eq!(
        answers,
        [
            ("A", "Pizza"),
            ("=HYPERLINK(\"x\")", "Sushi"),
            ("Jürgen 🎉", "Sushi")
        ]
        .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(
        text(&mut book, "2 A poll").len(),
        1,
        "only a header: never run"
    );

    let export = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{session}/export.json"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    assert_eq!(export["format"], "conflicto.session-export/1");
    assert_eq!(export["responses"].as_array().unwrap().len(), 3);
    assert!(
        export["responses"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["answer_ms"].as_i64().is_some_and(|ms| ms >= 0))
    );
    assert_eq!(export["participants"].as_array().unwrap().len(), 4);
    assert_eq!(export["activities"].as_array().unwrap().len(), 2);
}

/// The time to answer a quiz question counts from that question's start, not from when the
/// quiz opened.
async fn a_quiz_question_is_timed_from_its_own_start(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (session, _) = app.open_session(&host, None).await;
    let question = |text: &str| json!({"question": text, "choices": ["a", "b"], "correct": [0], "time_limit_seconds": 60});
    let quiz = app
        .activity(
            &host,
            &session,
            "quiz",
            json!({"questions": [question("First?"), question("Second?")]}),
            json!({}),
        )
        .await;
    app.transition(&host, &quiz, "active").await;
    let guest = app.join(&session, "Ann").await;
    app.command(&host, &quiz, "next", json!({})).await;
    // The first question stays up a while before the second starts.
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    app.command(&host, &quiz, "next", json!({})).await;
    let answered = app
        .vote(&guest, &quiz, json!({"question": 1, "choices": [0]}), None)
        .await;
    assert_eq!(answered.status(), StatusCode::CREATED);
    let export = json(
        app.call(
            Method::GET,
            &format!("/api/v1/sessions/{session}/export.json"),
            Some(&host.token),
            None,
        )
        .await,
    )
    .await;
    let ms = export["responses"][0]["answer_ms"].as_i64().expect("timed");
    assert!(
        ms < 1000,
        "timed from the second question's start, not the quiz's: {ms} ms"
    );
}
