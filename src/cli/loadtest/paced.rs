//! `--self-paced`: homework. The organizer makes a self-paced session with one quiz of
//! `--questions` questions (speed scoring, 60 s each); N participants join over the first
//! fifth of `--self-paced-within` seconds, each holds its live stream as the web app does,
//! and goes through the questions alone: a random pause, open the question (the server
//! records when), a random time to think, the answer (right seven times in ten), the
//! question opened again for its result as the web phone does, and at the end "finish".
//! Pauses are drawn so that everyone is done within the window.
//!
//! Exactness: every acknowledged answer is in the export once with the choice sent and
//! nothing else is; each answer's time, as the server measured it from that participant's
//! own opening of the question, is at least the time the phone waited; every player's
//! score on the organizer's leaderboard equals the sum this generator computes from those
//! times with the quiz's formula, as do the points each phone was shown for each answer
//! and the score it was shown after its last; and the progress view counts everyone
//! finished.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use rand::Rng;
use serde_json::{Value, json};

use super::phones::{self, now_us};
use super::{Host, LoadtestArgs, PeakRss, bar, base_of, http_client, rss_kib, spread};

/// Seconds each question allows.
const LIMIT_SECONDS: i64 = 60;
/// Points for a right answer.
const POINTS: i64 = 1000;

/// One acknowledged answer, as the phone knows it.
struct Ack {
    nickname: String,
    question: usize,
    choice: usize,
    /// From the opened question's reply to sending the answer.
    waited_ms: i64,
    /// The points the phone was shown for it, opening the question again.
    shown_points: Option<i64>,
}

#[derive(Default)]
struct Tally {
    acks: Vec<Ack>,
    /// Acknowledgement latencies in microseconds: steps opened, answers stored.
    step_us: Vec<u64>,
    answer_us: Vec<u64>,
    result_us: Vec<u64>,
    join_us: Vec<u64>,
    /// The score each phone was shown after its last answer.
    shown_scores: HashMap<String, Option<i64>>,
    finished: usize,
    waits: u64,
    errors: Vec<String>,
}

/// The quiz's speed formula (`src/kinds/quiz.rs`): full points at once, half at the limit.
fn score(right: bool, answer_ms: i64) -> i64 {
    let limit = LIMIT_SECONDS * 1000;
    let t = answer_ms.clamp(0, limit);
    if right {
        (POINTS * (2 * limit - t) + limit) / (2 * limit)
    } else {
        0
    }
}

fn correct_of(question: usize) -> usize {
    question % 4
}

/// Sends one request until it is answered other than 429/503 (waited out as
/// `Retry-After` asks) or a transport error, for at most `patience`; the same body each
/// time, so an answer with its request id counts once.
async fn send(
    client: &reqwest::Client,
    method: reqwest::Method,
    url: url::Url,
    token: Option<&str>,
    body: Option<&Value>,
    patience: Duration,
    tally: &Mutex<Tally>,
) -> anyhow::Result<(reqwest::StatusCode, Value)> {
    let since = Instant::now();
    loop {
        let mut request = client.request(method.clone(), url.clone());
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        match request.send().await {
            Ok(response) => {
                if let Some(wait) = phones::told_to_wait(&response, since, patience) {
                    tally.lock().waits += 1;
                    tokio::time::sleep(wait).await;
                    continue;
                }
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                return Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)));
            }
            Err(error) if since.elapsed() < patience => {
                tally.lock().waits += 1;
                tracing::debug!(%error, "sent again");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => return Err(error.into()),
        }
    }
}

pub async fn run(args: &LoadtestArgs) -> anyhow::Result<bool> {
    let n = args.participants as usize;
    let questions = args.questions as usize;
    let within = args.self_paced_within;
    let base = base_of(&args.url);
    let client = http_client()?;
    let host = Host::new(args, &client, &base);
    let quiz_questions: Vec<Value> = (0..questions)
        .map(|q| {
            json!({"question": format!("Question {}", q + 1),
                   "choices": ["A", "B", "C", "D"], "correct": [correct_of(q)],
                   "time_limit_seconds": LIMIT_SECONDS, "points": POINTS})
        })
        .collect();
    let session_id = host
        .session(json!({"title": "loadtest homework", "max_participants": n,
                        "pace": "self_paced"}))
        .await?;
    let quiz = host
        .activity(
            &session_id,
            json!({"kind": "quiz", "title": "Homework quiz",
                   "config": {"questions": quiz_questions, "scoring": "speed"}}),
        )
        .await?;
    host.open(&session_id).await?;
    let started_kib = rss_kib(&args.server_pid);
    println!(
        "self-paced: {n} participants, {questions} questions each, within {within:.0} s, one address"
    );

    let tally = Arc::new(Mutex::new(Tally::default()));
    let stop = tokio_util::sync::CancellationToken::new();
    let urls: Vec<url::Url> = std::iter::once(&args.url)
        .chain(&args.also_url)
        .map(base_of)
        .collect();
    let progress = bar((n * (questions + 1)) as u64, "answers");
    let run_start = Instant::now();
    let peak_rss = PeakRss::start(&args.server_pid, started_kib.unwrap_or(0));
    let mut phones_done = Vec::with_capacity(n);
    for i in 0..n {
        let (client, tally, stop, progress) = (
            client.clone(),
            tally.clone(),
            stop.clone(),
            progress.clone(),
        );
        let (base, session_id, quiz) = (
            urls[i % urls.len()].clone(),
            session_id.clone(),
            quiz.clone(),
        );
        phones_done.push(tokio::spawn(async move {
            if let Err(error) = phone(
                i,
                &client,
                &base,
                &session_id,
                &quiz,
                questions,
                within,
                run_start,
                &tally,
                &stop,
                &progress,
            )
            .await
            {
                tally.lock().errors.push(format!("phone {i}: {error:#}"));
            }
        }));
    }
    for done in phones_done {
        let _ = done.await;
    }
    let took = run_start.elapsed();
    progress.finish_and_clear();
    stop.cancel();
    let peak = peak_rss.kib();
    drop(peak_rss);

    // What the server counted.
    let results = host.get(&format!("/activities/{quiz}/results")).await?;
    let export = host
        .get(&format!("/sessions/{session_id}/export.json"))
        .await?;
    let progress_view = host
        .get(&format!("/sessions/{session_id}/progress"))
        .await?;
    let tally = std::mem::take(&mut *tally.lock());
    let mut problems = tally.errors.clone();
    problems.extend(check(&tally, &results, &export, &progress_view, n));

    let answers = tally.acks.len();
    println!(
        "joined:        {}, join ack {}",
        tally.join_us.len(),
        spread(tally.join_us.clone()).0
    );
    println!(
        "questions:     {} opened, ack {}",
        tally.step_us.len(),
        spread(tally.step_us.clone()).0
    );
    println!(
        "answers:       {answers} acknowledged ({:.0} a second over the run), ack {}",
        answers as f64 / took.as_secs_f64(),
        spread(tally.answer_us.clone()).0
    );
    println!(
        "results shown: {}, ack {}",
        tally.result_us.len(),
        spread(tally.result_us.clone()).0
    );
    println!("finished:      {} of {n}", tally.finished);
    println!(
        "waits:         {} requests answered 429 or 503 and sent again",
        tally.waits
    );
    if let Some(start) = started_kib {
        println!(
            "server memory: {:.1} MiB before, {:.1} MiB at peak",
            start as f64 / 1024.0,
            peak as f64 / 1024.0
        );
    }
    for problem in problems.iter().take(20) {
        println!("PROBLEM: {problem}");
    }
    let exact = problems.is_empty();
    println!(
        "loadtest {}: self-paced, {n} participants × {questions} questions in {:.1} s, {answers} answers, scores {}",
        if exact { "OK" } else { "FAILED" },
        took.as_secs_f64(),
        if exact { "exact" } else { "NOT exact" }
    );
    host.clean_up(args, &session_id).await;
    Ok(exact)
}

/// One participant: join, hold the stream, go through every question, finish.
#[allow(clippy::too_many_arguments, reason = "one phone's whole run")]
async fn phone(
    i: usize,
    client: &reqwest::Client,
    base: &url::Url,
    session: &str,
    quiz: &str,
    questions: usize,
    within: f64,
    run_start: Instant,
    tally: &Mutex<Tally>,
    stop: &tokio_util::sync::CancellationToken,
    progress: &indicatif::ProgressBar,
) -> anyhow::Result<()> {
    let join_at = rand::rng().random_range(0.0..within * 0.2);
    tokio::time::sleep(Duration::from_secs_f64(join_at)).await;
    let nickname = format!("P{i:05}");
    let sent = now_us();
    let (status, joined) = send(
        client,
        reqwest::Method::POST,
        base.join(&format!("api/v1/sessions/{session}/join"))?,
        None,
        Some(&json!({"nickname": nickname})),
        Duration::from_secs(30),
        tally,
    )
    .await?;
    anyhow::ensure!(status.is_success(), "join: {status} {joined}");
    tally.lock().join_us.push(now_us() - sent);
    let token = joined["token"].as_str().unwrap_or_default().to_owned();
    let events = base.join(&format!("api/v1/sessions/{session}/events"))?;
    let stream = {
        let (client, token, stop) = (client.clone(), token.clone(), stop.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = phones::hold_stream(&client, &events, &token, |_| {}) => {}
                () = stop.cancelled() => {}
            }
        })
    };
    let patience = Duration::from_secs(600);
    // The rest of the window, shared out over the questions: a pause before each and a
    // time to think on it, both drawn at random.
    let left = (within * 0.9 - run_start.elapsed().as_secs_f64()).max(1.0);
    let per_question = left / questions as f64;
    for question in 0..questions {
        let pause = rand::rng().random_range(0.0..per_question * 0.4);
        tokio::time::sleep(Duration::from_secs_f64(pause)).await;
        let sent = now_us();
        let (status, opened) = send(
            client,
            reqwest::Method::POST,
            base.join("api/v1/participants/me/steps")?,
            Some(&token),
            Some(&json!({"activity_id": quiz, "step": question})),
            patience,
            tally,
        )
        .await?;
        anyhow::ensure!(
            status.is_success(),
            "open question {question}: {status} {opened}"
        );
        let opened_at = Instant::now();
        tally.lock().step_us.push(now_us() - sent);
        let think = rand::rng().random_range(0.0..(per_question * 0.5).min(40.0));
        tokio::time::sleep(Duration::from_secs_f64(think)).await;
        let right = rand::rng().random_bool(0.7);
        let choice = if right {
            correct_of(question)
        } else {
            (correct_of(question) + 1) % 4
        };
        let waited_ms = i64::try_from(opened_at.elapsed().as_millis()).unwrap_or(i64::MAX);
        let body = json!({"answer": {"question": question, "choices": [choice]},
                          "client_request_id": format!("{nickname}-q{question}")});
        let sent = now_us();
        let (status, stored) = send(
            client,
            reqwest::Method::POST,
            base.join(&format!("api/v1/activities/{quiz}/responses"))?,
            Some(&token),
            Some(&body),
            patience,
            tally,
        )
        .await?;
        anyhow::ensure!(status.is_success(), "answer {question}: {status} {stored}");
        tally.lock().answer_us.push(now_us() - sent);
        // As the web phone does: the question again, now with how the answer did.
        let sent = now_us();
        let (status, shown) = send(
            client,
            reqwest::Method::POST,
            base.join("api/v1/participants/me/steps")?,
            Some(&token),
            Some(&json!({"activity_id": quiz, "step": question})),
            patience,
            tally,
        )
        .await?;
        anyhow::ensure!(
            status.is_success(),
            "result of question {question}: {status} {shown}"
        );
        let you = &shown["own_results"]["you"];
        let mut t = tally.lock();
        t.result_us.push(now_us() - sent);
        t.acks.push(Ack {
            nickname: nickname.clone(),
            question,
            choice,
            waited_ms,
            shown_points: you["last"]["points"].as_i64(),
        });
        if question + 1 == questions {
            t.shown_scores
                .insert(nickname.clone(), you["score"].as_i64());
        }
        drop(t);
        progress.inc(1);
    }
    let (status, body) = send(
        client,
        reqwest::Method::POST,
        base.join("api/v1/participants/me/finish")?,
        Some(&token),
        None,
        patience,
        tally,
    )
    .await?;
    anyhow::ensure!(status.is_success(), "finish: {status} {body}");
    tally.lock().finished += 1;
    progress.inc(1);
    stream.abort();
    Ok(())
}

/// What is off between what the phones were told and what the server counted.
fn check(
    tally: &Tally,
    results: &Value,
    export: &Value,
    progress: &Value,
    participants: usize,
) -> Vec<String> {
    let acks = &tally.acks;
    let mut problems = Vec::new();
    let nickname_of: HashMap<&str, &str> = export["participants"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| Some((p["id"].as_str()?, p["nickname"].as_str()?)))
        .collect();
    // (nickname, question) → (choice, answer_ms) as stored.
    let mut stored: HashMap<(String, usize), (usize, i64)> = HashMap::new();
    for row in export["responses"].as_array().into_iter().flatten() {
        let who = row["participant_id"]
            .as_str()
            .and_then(|id| nickname_of.get(id));
        let (Some(who), Some(question), Some(choice), Some(ms)) = (
            who,
            row["answer"]["question"].as_u64(),
            row["answer"]["choices"][0].as_u64(),
            row["answer_ms"].as_i64(),
        ) else {
            problems.push(format!("an exported answer cannot be read: {row}"));
            continue;
        };
        if stored
            .insert(
                ((*who).to_owned(), question as usize),
                (choice as usize, ms),
            )
            .is_some()
        {
            problems.push(format!("{who} has question {question} twice"));
        }
    }
    if stored.len() != acks.len() {
        problems.push(format!(
            "{} answers acknowledged, {} stored",
            acks.len(),
            stored.len()
        ));
    }
    let mut expected: HashMap<&str, i64> = HashMap::new();
    let mut early = 0;
    let mut shown_off = 0;
    for ack in acks {
        match stored.get(&(ack.nickname.clone(), ack.question)) {
            Some((choice, ms)) if *choice == ack.choice => {
                if *ms < ack.waited_ms {
                    early += 1;
                }
                let points = score(*choice == correct_of(ack.question), *ms);
                if ack.shown_points != Some(points) {
                    shown_off += 1;
                }
                *expected.entry(ack.nickname.as_str()).or_default() += points;
            }
            Some((choice, _)) => problems.push(format!(
                "{} question {}: sent {}, stored {choice}",
                ack.nickname, ack.question, ack.choice
            )),
            None => problems.push(format!(
                "{} question {}: acknowledged, not stored",
                ack.nickname, ack.question
            )),
        }
    }
    if early > 0 {
        problems.push(format!(
            "{early} answers were timed shorter than the phone waited"
        ));
    }
    if shown_off > 0 {
        problems.push(format!(
            "{shown_off} phones were shown points other than their answer scored"
        ));
    }
    let score_off = expected
        .iter()
        .filter(|(who, score)| tally.shown_scores.get(**who) != Some(&Some(**score)))
        .count();
    if score_off > 0 {
        problems.push(format!(
            "{score_off} phones were shown a final score other than their answers add up to"
        ));
    }
    let board: HashMap<&str, i64> = results["leaderboard"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| Some((s["nickname"].as_str()?, s["score"].as_i64()?)))
        .collect();
    if board.len() != expected.len() {
        problems.push(format!(
            "{} players on the leaderboard, {} answered",
            board.len(),
            expected.len()
        ));
    }
    let off = expected
        .iter()
        .filter(|(who, score)| board.get(*who) != Some(score))
        .count();
    if off > 0 {
        problems.push(format!("{off} players' scores differ from their answers"));
    }
    if progress["finished"].as_u64() != Some(participants as u64) {
        problems.push(format!(
            "progress counts {} finished of {participants}",
            progress["finished"]
        ));
    }
    problems
}
