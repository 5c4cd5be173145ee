//! `conflicto loadtest --storm open-text|qna`: a lively session's growing list, measured in
//! the server's memory.
//!
//! `--participants` people (300 in docs/performance.md) join one session. The organizer's
//! live stream reads everything, applying the results deltas as the run view does, while
//! `--stalled-streams` more streams (200) are opened and never read. Then every person
//! sends ten answers of about 1 KB (open text: ten answers each; Q&A: ten questions each,
//! then ten upvotes each of questions others asked). Every 100 ms the server's RSS is read
//! (`--server-pid`). Once every answer is acknowledged and the organizer's copy counts all
//! of them, every stream is closed, and ten seconds later RSS is read again.
//!
//! It prints the RSS at the start (before any stream opened), the peak, and ten seconds
//! after the streams closed, the bytes the organizer's stream received, and whether the
//! targets held: peak under 256 MiB, and the end within 20 % of the start.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use super::{Host, LoadtestArgs, PeakRss, base_of, http_client, phones, rss_kib};
use crate::realtime::delta::Follower;

/// Which list grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Storm {
    /// Ten open-text answers per person.
    OpenText,
    /// Ten questions per person, then ten upvotes each.
    Qna,
}

/// Answers (or questions) per person.
const EACH: usize = 10;
/// Peak RSS the storm must stay under.
const PEAK_LIMIT_KIB: u64 = 256 * 1024;

#[allow(clippy::too_many_lines, reason = "one run from start to end, in order")]
pub async fn run(args: &LoadtestArgs, storm: Storm) -> anyhow::Result<bool> {
    let pids = args.server_pid.clone();
    anyhow::ensure!(
        !pids.is_empty(),
        "--storm needs --server-pid to read memory"
    );
    let base = base_of(&args.url);
    let client = http_client()?;
    let host = Host::new(args, &client, &base);
    let n = args.participants as usize;
    let session_id = host
        .session(json!({"title": "storm", "max_participants": n}))
        .await?;
    let activity = host
        .activity(
            &session_id,
            match storm {
                Storm::OpenText => json!({
                    "kind": "open_text", "title": "Storm",
                    "config": {"prompt": "Tell us everything", "max_length": 1000, "max_answers": EACH},
                }),
                Storm::Qna => json!({
                    "kind": "qna", "title": "Storm",
                    "config": {"topic": "Ask anything", "max_length": 1000, "max_questions": EACH},
                }),
            },
        )
        .await?;
    host.open(&session_id).await?;
    host.transition(&activity, "active").await?;

    // The people, joined before anything is measured.
    let mut tokens = Vec::with_capacity(n);
    for i in 0..n {
        let joined: Value = client
            .post(base.join(&format!("api/v1/sessions/{session_id}/join"))?)
            .json(&json!({"nickname": format!("storm{i}")}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        tokens.push(
            joined["token"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("join gave no token: {joined}"))?
                .to_owned(),
        );
    }
    let started_kib = rss_kib(&pids).unwrap_or(0);
    let peak = PeakRss::start(&pids, started_kib);

    // The organizer's stream, read and followed; the stalled ones, never read.
    let events = base.join(&format!("api/v1/sessions/{session_id}/events"))?;
    let followed = Arc::new(Mutex::new((Follower::default(), 0u64, 0u64)));
    let organizer = {
        let (client, events, token, followed) = (
            client.clone(),
            events.clone(),
            args.organizer.token.clone(),
            followed.clone(),
        );
        tokio::spawn(async move {
            let _ = phones::hold_stream(&client, &events, &token, |event| {
                let phones::StreamEvent::Frame(frame) = event else {
                    return;
                };
                let mut followed = followed.lock();
                followed.1 += frame.len() as u64;
                let Some((name, data)) = phones::event_of(frame) else {
                    return;
                };
                let Ok(data) = serde_json::from_str::<Value>(data) else {
                    return;
                };
                if followed.0.follow(name, &data).is_err() {
                    followed.2 += 1;
                }
            })
            .await;
        })
    };
    let mut stalled = Vec::with_capacity(args.stalled_streams as usize);
    let address = format!(
        "{}:{}",
        args.url.host_str().unwrap_or("127.0.0.1"),
        args.url.port_or_known_default().unwrap_or(80)
    );
    for token in tokens.iter().cycle().take(args.stalled_streams as usize) {
        let socket = tokio::net::TcpSocket::new_v4()?;
        // A small receive window, so the server's writes stall soon.
        socket.set_recv_buffer_size(4096)?;
        let mut tcp = socket.connect(address.parse()?).await?;
        tcp.write_all(
            format!(
                "GET {} HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer {token}\r\naccept: text/event-stream\r\n\r\n",
                events.path()
            )
            .as_bytes(),
        )
        .await?;
        stalled.push(tcp);
    }

    // The storm.
    let began = Instant::now();
    let text = |i: usize, k: usize| {
        let mut s = format!("Person {i}, thought {k}: ");
        while s.len() < 1000 {
            s.push_str("the quick brown fox jumps over the lazy dog ");
        }
        s.truncate(1000);
        s.trim_end().to_owned()
    };
    let answers = base.join(&format!("api/v1/activities/{activity}/responses"))?;
    // The phones' own connections, closed with the streams at the end.
    let phones_client = http_client()?;
    let send = async |token: &str, body: Value| -> anyhow::Result<Value> {
        let response = phones_client
            .post(answers.clone())
            .bearer_auth(token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or_default();
        anyhow::ensure!(status.is_success(), "{status}: {value}");
        Ok(value)
    };
    let asked: Arc<Mutex<Vec<String>>> = Arc::default();
    let failures = AtomicU64::new(0);
    futures_util::future::join_all(tokens.iter().enumerate().map(|(i, token)| {
        let (asked, failures, send) = (asked.clone(), &failures, &send);
        async move {
            for k in 0..EACH {
                let body = match storm {
                    Storm::OpenText => json!({"answer": {"text": text(i, k), "index": k}}),
                    Storm::Qna => json!({"answer": {"ask": {"text": text(i, k)}}}),
                };
                match send(token, body).await {
                    Ok(stored) => {
                        if let Some(id) = stored["answer"]["ask"]["id"].as_str() {
                            asked.lock().push(id.to_owned());
                        }
                    }
                    Err(_) => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        }
    }))
    .await;
    let mut upvotes = 0u64;
    if storm == Storm::Qna {
        let ids = asked.lock().clone();
        let results =
            futures_util::future::join_all(tokens.iter().enumerate().map(|(i, token)| {
                let ids = &ids;
                let send = &send;
                async move {
                    let mut done = 0u64;
                    for k in 0..EACH {
                        // Others' questions, spread over the whole wall.
                        let id = &ids[(i * 7919 + k * 104_729 + EACH) % ids.len()];
                        if send(token, json!({"answer": {"upvote": id}})).await.is_ok() {
                            done += 1;
                        }
                    }
                    done
                }
            }))
            .await;
        upvotes = results.iter().sum();
    }
    let sent_seconds = began.elapsed().as_secs_f64();

    // Until the organizer's copy counts every answer (at most 60 s).
    let expected = (n * EACH) as u64 - failures.load(Ordering::Relaxed);
    let count = |doc: &Value| match storm {
        Storm::OpenText => doc["total_answers"].as_u64(),
        Storm::Qna => doc["total_questions"].as_u64(),
    };
    let waited = Instant::now();
    while waited.elapsed() < Duration::from_secs(60) {
        let seen = followed.lock().0.doc.as_ref().and_then(count);
        if seen == Some(expected) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (organizer_count, organizer_bytes, misfits) = {
        let followed = followed.lock();
        (
            followed.0.doc.as_ref().and_then(count),
            followed.1,
            followed.2,
        )
    };
    let peak_kib = peak.kib();

    // Close every stream (and the phones' connections); ten seconds later, read RSS again.
    organizer.abort();
    drop(stalled);
    drop(phones_client);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let end_kib = rss_kib(&pids).unwrap_or(0);
    drop(peak);
    host.clean_up(args, &session_id).await;

    let mib = |kib: u64| kib as f64 / 1024.0;
    let peak_ok = peak_kib < PEAK_LIMIT_KIB;
    let back_ok = (end_kib as f64) <= started_kib as f64 * 1.2;
    let counted = organizer_count == Some(expected) && misfits == 0;
    println!(
        "storm {:?}: {n} people x {EACH} answers of 1 KB in {sent_seconds:.1} s ({} failed){}, {} stalled streams",
        storm,
        failures.load(Ordering::Relaxed),
        if storm == Storm::Qna {
            format!(", {upvotes} upvotes")
        } else {
            String::new()
        },
        args.stalled_streams,
    );
    println!(
        "organizer stream: {:.1} MiB received, counts {organizer_count:?} of {expected}, {misfits} deltas that did not fit",
        organizer_bytes as f64 / 1_048_576.0
    );
    println!(
        "server RSS: start {:.1} MiB, peak {:.1} MiB (target < 256: {}), 10 s after the streams closed {:.1} MiB ({:+.1} %, target within 20 %: {})",
        mib(started_kib),
        mib(peak_kib),
        if peak_ok { "ok" } else { "MISSED" },
        mib(end_kib),
        (end_kib as f64 / started_kib.max(1) as f64 - 1.0) * 100.0,
        if back_ok { "ok" } else { "MISSED" },
    );
    Ok(peak_ok && back_ok && counted && failures.load(Ordering::Relaxed) == 0)
}
