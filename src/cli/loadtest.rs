//! `conflicto loadtest`: a real event against a running server, measured.
//!
//! An organizer (the token from `CONFLICTO_TOKEN` or `--token`) builds a session with a
//! poll; N participants join at `--join-rate` and each holds its live event stream; a big
//! screen follows with a viewer link. The poll opens, and every participant votes once at a
//! random moment within `--vote-within` seconds of seeing it. Measured:
//!
//! - joins per second and join errors;
//! - vote acknowledgement latency (request sent → answer received);
//! - big-screen lag: for the k-th acknowledged vote, the time from its acknowledgement to
//!   the first screen `results` event that counts at least k voters and arrives after it;
//! - fan-out: the time from the organizer's "open the poll" request to each phone's stream
//!   delivering that `activity` event;
//! - server memory per connected participant, from `/proc/PID/status` when `--server-pid`
//!   names the server (same machine);
//! - exactness: the organizer's results must equal the votes acknowledged, option by option.
//!
//! Every loop is bounded by count and by `--timeout-seconds`. It exits 1 when any request
//! failed or any count is off; its last line sums the run up.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use futures_util::StreamExt;
use parking_lot::Mutex;
use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::Notify;

/// Options of `conflicto loadtest`.
#[derive(Debug, Clone, Args)]
pub struct LoadtestArgs {
    /// The server, for example http://127.0.0.1:8080.
    #[arg(long, value_name = "URL")]
    pub url: url::Url,

    /// An organizer's API token (`cfo_…`), from `POST /api/v1/auth/tokens` or a login.
    #[arg(
        long,
        env = "CONFLICTO_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub token: String,

    /// Participants to simulate; each holds a live stream (one connection).
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=50_000))]
    pub participants: u32,

    /// Every participant votes at a random moment within this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub vote_within: f64,

    /// Joins started per second.
    #[arg(long, value_name = "PER_SECOND", default_value_t = 1000.0)]
    pub join_rate: f64,

    /// Options of the poll.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(2..=20))]
    pub options: u32,

    /// The server's process id, to read its memory (only when it runs on this machine).
    #[arg(long, value_name = "PID")]
    pub server_pid: Option<u32>,

    /// Give up on the whole run after this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub timeout_seconds: u64,

    /// Keep the session afterwards instead of deleting it.
    #[arg(long)]
    pub keep: bool,
}

/// What the streams and voters record.
#[derive(Default)]
struct Record {
    join_errors: usize,
    stream_errors: usize,
    vote_errors: usize,
    first_errors: Vec<String>,
    fan_out: Vec<Duration>,
    acks: Vec<(Instant, Duration)>,
    votes: Vec<usize>,
    screen: Vec<(Instant, u64)>,
}

impl Record {
    fn error(&mut self, what: String) {
        if self.first_errors.len() < 5 {
            self.first_errors.push(what);
        }
    }
}

struct Shared {
    record: Mutex<Record>,
    connected: AtomicUsize,
    voted: AtomicUsize,
    opened: Mutex<Option<Instant>>,
    /// The poll's id; set before any phone starts.
    poll: String,
    stop: Notify,
}

pub async fn run(args: LoadtestArgs) -> ExitCode {
    let deadline = Duration::from_secs(args.timeout_seconds);
    match tokio::time::timeout(deadline, event(&args)).await {
        Ok(Ok(passed)) => {
            if passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Ok(Err(error)) => {
            println!("loadtest FAILED: {error:#}");
            ExitCode::FAILURE
        }
        Err(_) => {
            println!(
                "loadtest FAILED: the run took longer than {} s",
                args.timeout_seconds
            );
            ExitCode::FAILURE
        }
    }
}

/// The organizer's side: plain API calls with the token.
struct Host {
    client: reqwest::Client,
    base: url::Url,
    token: String,
}

impl Host {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let url = self.base.join(&format!("api/v1{path}"))?;
        let mut request = self
            .client
            .request(method.clone(), url)
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await?;
        let status = response.status();
        let text = response.text().await?;
        anyhow::ensure!(status.is_success(), "{method} {path}: {status} {text}");
        Ok(if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text)?
        })
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

fn bar(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix:>10} [{bar:40}] {pos}/{len} {per_sec} {elapsed}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_prefix(what.to_owned());
    bar
}

async fn event(args: &LoadtestArgs) -> anyhow::Result<bool> {
    let n = args.participants as usize;
    let base = {
        let mut base = args.url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        base
    };
    // One pool for requests; streams get connections of their own from it.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(1024)
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .build()?;
    let host = Host {
        client: client.clone(),
        base: base.clone(),
        token: args.token.clone(),
    };

    // The session, its poll and the big screen's key.
    let session = host
        .call(
            reqwest::Method::POST,
            "/sessions/",
            Some(json!({
                "title": format!("loadtest {}", chrono::Utc::now().format("%Y-%m-%d %H:%M:%S")),
                "max_participants": n,
            })),
        )
        .await?;
    let session_id = session["id"].as_str().unwrap_or_default().to_owned();
    let options: Vec<String> = (1..=args.options).map(|i| format!("Option {i}")).collect();
    let poll = host
        .call(
            reqwest::Method::POST,
            &format!("/sessions/{session_id}/activities"),
            Some(json!({
                "kind": "poll", "title": "Load", "results_visibility": "live",
                "config": {"question": "Which one?", "options": options},
            })),
        )
        .await?;
    let poll_id = poll["id"].as_str().unwrap_or_default().to_owned();
    host.call(
        reqwest::Method::PATCH,
        &format!("/sessions/{session_id}"),
        Some(json!({"status": "active"})),
    )
    .await?;
    host.call(
        reqwest::Method::POST,
        &format!("/activities/{poll_id}/transition"),
        Some(json!({"to": "published"})),
    )
    .await?;
    let viewer = host
        .call(
            reqwest::Method::POST,
            &format!("/sessions/{session_id}/viewer-link"),
            None,
        )
        .await?;
    let viewer_token = viewer["token"].as_str().unwrap_or_default().to_owned();

    let shared = Arc::new(Shared {
        record: Mutex::new(Record::default()),
        connected: AtomicUsize::new(0),
        voted: AtomicUsize::new(0),
        opened: Mutex::new(None),
        poll: poll_id.clone(),
        stop: Notify::new(),
    });
    let events_url = base.join(&format!("api/v1/sessions/{session_id}/events"))?;

    // The big screen.
    let screen = tokio::spawn(screen_stream(
        client.clone(),
        events_url.clone(),
        viewer_token,
        shared.clone(),
    ));

    // Participants join at the given rate and open their streams.
    let rss_before = args.server_pid.and_then(rss_kib);
    println!("loadtest: {n} participants against {base}, session {session_id}");
    let joining = bar(n as u64, "joined");
    let started = Instant::now();
    let mut phones = Vec::with_capacity(n);
    let pace = Duration::from_secs_f64(1.0 / args.join_rate.max(1.0));
    let mut next = tokio::time::Instant::now();
    let joined = Arc::new(AtomicUsize::new(0));
    for i in 0..n {
        tokio::time::sleep_until(next).await;
        next += pace;
        phones.push(tokio::spawn(phone(
            i,
            client.clone(),
            base.clone(),
            session_id.clone(),
            events_url.clone(),
            args.options as usize,
            args.vote_within,
            shared.clone(),
            joined.clone(),
        )));
        joining.set_position(joined.load(Ordering::Relaxed) as u64);
    }
    // Every phone has joined (or failed) and holds its stream.
    loop {
        let done = joined.load(Ordering::Relaxed);
        let connected = shared.connected.load(Ordering::Relaxed);
        let failed = {
            let record = shared.record.lock();
            record.join_errors + record.stream_errors
        };
        joining.set_position(done as u64);
        if connected + failed >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let join_seconds = started.elapsed().as_secs_f64();
    joining.finish();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_connected = args.server_pid.and_then(rss_kib);
    let connected = shared.connected.load(Ordering::Relaxed);

    // Open the poll: every phone is told, and votes within the window.
    let voting = bar(connected as u64, "voted");
    *shared.opened.lock() = Some(Instant::now());
    host.call(
        reqwest::Method::POST,
        &format!("/activities/{poll_id}/transition"),
        Some(json!({"to": "active"})),
    )
    .await?;
    loop {
        let voted = shared.voted.load(Ordering::Relaxed);
        voting.set_position(voted as u64);
        if voted >= connected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    voting.finish();

    // The screen catches up with the last acknowledged vote (bounded wait).
    let acked = shared.record.lock().acks.len() as u64;
    let wait = Instant::now();
    while wait.elapsed() < Duration::from_secs(10) {
        if shared
            .record
            .lock()
            .screen
            .last()
            .is_some_and(|(_, total)| *total >= acked)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Exact counts: what the server says against what was acknowledged.
    let results = host
        .call(
            reqwest::Method::GET,
            &format!("/activities/{poll_id}/results"),
            None,
        )
        .await?;
    shared.stop.notify_waiters();
    for phone in phones {
        phone.abort();
    }
    screen.abort();
    host.call(
        reqwest::Method::POST,
        &format!("/activities/{poll_id}/transition"),
        Some(json!({"to": "closed"})),
    )
    .await
    .ok();
    host.call(
        reqwest::Method::PATCH,
        &format!("/sessions/{session_id}"),
        Some(json!({"status": "completed"})),
    )
    .await
    .ok();
    if !args.keep {
        host.call(
            reqwest::Method::DELETE,
            &format!("/sessions/{session_id}"),
            None,
        )
        .await
        .ok();
    }

    let record = std::mem::take(&mut *shared.record.lock());
    Ok(report(
        args,
        &record,
        &results,
        join_seconds,
        connected,
        rss_before,
        rss_connected,
    ))
}

#[allow(clippy::too_many_arguments)]
async fn phone(
    index: usize,
    client: reqwest::Client,
    base: url::Url,
    session: String,
    events: url::Url,
    options: usize,
    vote_within: f64,
    shared: Arc<Shared>,
    joined: Arc<AtomicUsize>,
) {
    let join = async {
        let response = client
            .post(base.join(&format!("api/v1/sessions/{session}/join"))?)
            .json(&json!({"nickname": format!("p{index}")}))
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        anyhow::ensure!(status.is_success(), "join: {status} {body}");
        Ok::<String, anyhow::Error>(body["token"].as_str().unwrap_or_default().to_owned())
    };
    let token = match join.await {
        Ok(token) => token,
        Err(error) => {
            let mut record = shared.record.lock();
            record.join_errors += 1;
            record.error(format!("{error:#}"));
            joined.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    joined.fetch_add(1, Ordering::Relaxed);
    let response = match client.get(events.clone()).bearer_auth(&token).send().await {
        Ok(r) if r.status().is_success() => r,
        Ok(r) => {
            let mut record = shared.record.lock();
            record.stream_errors += 1;
            record.error(format!("stream: {}", r.status()));
            return;
        }
        Err(error) => {
            let mut record = shared.record.lock();
            record.stream_errors += 1;
            record.error(format!("stream: {error}"));
            return;
        }
    };
    let poll = shared.poll.clone();
    let mut body = response.bytes_stream();
    let mut buffer: Vec<u8> = Vec::new();
    let mut connected = false;
    while let Some(chunk) = body.next().await {
        let Ok(chunk) = chunk else { break };
        if !connected {
            connected = true;
            shared.connected.fetch_add(1, Ordering::Relaxed);
        }
        buffer.extend_from_slice(&chunk);
        // Whole events only; an `activity` event saying the poll is active starts the vote.
        while let Some(frame) = next_frame(&mut buffer) {
            if frame.starts_with(b"id: ")
                && contains(&frame, b"\nevent: activity\n")
                && contains(&frame, poll.as_bytes())
                && contains(&frame, b"\"state\":\"active\"")
            {
                let seen = Instant::now();
                if let Some(opened) = *shared.opened.lock() {
                    shared.record.lock().fan_out.push(seen - opened);
                }
                let pick = rand::rng().random_range(0..options);
                let think = rand::rng().random_range(0.0..vote_within.max(0.001));
                let client = client.clone();
                let url = base.join(&format!("api/v1/activities/{poll}/responses"));
                let shared = shared.clone();
                let token = token.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(Duration::from_secs_f64(think)).await;
                    let sent = Instant::now();
                    let outcome = match url {
                        Ok(url) => client
                            .post(url)
                            .bearer_auth(&token)
                            .json(&json!({"answer": {"options": [pick]}, "client_request_id": uuid::Uuid::new_v4().to_string()}))
                            .send()
                            .await
                            .map_err(|e| e.to_string()),
                        Err(e) => Err(e.to_string()),
                    };
                    let acked = Instant::now();
                    let mut record = shared.record.lock();
                    match outcome {
                        Ok(r) if r.status() == reqwest::StatusCode::CREATED => {
                            record.acks.push((acked, acked - sent));
                            record.votes.push(pick);
                        }
                        Ok(r) => {
                            record.vote_errors += 1;
                            record.error(format!("vote: {}", r.status()));
                        }
                        Err(e) => {
                            record.vote_errors += 1;
                            record.error(format!("vote: {e}"));
                        }
                    }
                    drop(record);
                    shared.voted.fetch_add(1, Ordering::Relaxed);
                });
            }
        }
    }
}

async fn screen_stream(
    client: reqwest::Client,
    events: url::Url,
    token: String,
    shared: Arc<Shared>,
) {
    let Ok(response) = client.get(events).bearer_auth(&token).send().await else {
        shared
            .record
            .lock()
            .error("the big screen's stream failed".into());
        return;
    };
    let mut body = response.bytes_stream();
    let mut buffer: Vec<u8> = Vec::new();
    while let Some(Ok(chunk)) = body.next().await {
        buffer.extend_from_slice(&chunk);
        while let Some(frame) = next_frame(&mut buffer) {
            let at = Instant::now();
            let text = String::from_utf8_lossy(&frame);
            let Some(data) = text.lines().find_map(|l| l.strip_prefix("data: ")) else {
                continue;
            };
            if !text.contains("\nevent: results\n") && !text.contains("\nevent: activity\n") {
                continue;
            }
            let Ok(value) = serde_json::from_str::<Value>(data) else {
                continue;
            };
            if let Some(total) = value["results"]["total_voters"].as_u64() {
                shared.record.lock().screen.push((at, total));
            }
        }
    }
}

/// Takes one whole event (up to its blank line) off the front of what a stream delivered.
fn next_frame(buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    let end = find(buffer, b"\n\n")?;
    Some(buffer.drain(..end + 2).collect())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

/// p50, p99 and max in milliseconds, as text.
fn spread(mut values: Vec<Duration>) -> (String, Option<f64>) {
    if values.is_empty() {
        return ("n/a".into(), None);
    }
    values.sort();
    let at =
        |q: f64| values[((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1];
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let p99 = ms(at(0.99));
    (
        format!(
            "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            ms(at(0.50)),
            p99,
            ms(*values.last().unwrap_or(&Duration::ZERO))
        ),
        Some(p99),
    )
}

/// For the k-th acknowledged vote: from its acknowledgement to the first screen event after
/// it that counts at least k voters.
fn screen_lags(acks: &[(Instant, Duration)], screen: &[(Instant, u64)]) -> (Vec<Duration>, usize) {
    let mut acked: Vec<Instant> = acks.iter().map(|(at, _)| *at).collect();
    acked.sort();
    let mut lags = Vec::with_capacity(acked.len());
    let mut missing = 0;
    for (k, at) in acked.iter().enumerate() {
        match screen
            .iter()
            .find(|(seen, total)| seen >= at && *total >= (k as u64 + 1))
        {
            Some((seen, _)) => lags.push(*seen - *at),
            None => missing += 1,
        }
    }
    (lags, missing)
}

fn report(
    args: &LoadtestArgs,
    record: &Record,
    results: &Value,
    join_seconds: f64,
    connected: usize,
    rss_before: Option<u64>,
    rss_connected: Option<u64>,
) -> bool {
    let n = args.participants as usize;
    let joined = n - record.join_errors;
    println!();
    println!(
        "joins:        {joined}/{n} in {join_seconds:.1} s ({:.0}/s), {} errors",
        joined as f64 / join_seconds.max(0.001),
        record.join_errors
    );
    println!(
        "streams:      {connected} connected, {} errors",
        record.stream_errors
    );
    let (acks, ack_p99) = spread(record.acks.iter().map(|(_, d)| *d).collect());
    println!(
        "vote ack:     {acks} ({} votes, {} errors)",
        record.acks.len(),
        record.vote_errors
    );
    let (lags, missing) = screen_lags(&record.acks, &record.screen);
    let (lag, lag_p99) = spread(lags);
    println!(
        "screen lag:   {lag} ({} screen updates{})",
        record.screen.len(),
        if missing > 0 {
            format!(", {missing} votes never shown")
        } else {
            String::new()
        }
    );
    let (fan, fan_p99) = spread(record.fan_out.clone());
    println!(
        "next activity: {fan} ({} phones told)",
        record.fan_out.len()
    );
    if let (Some(before), Some(after)) = (rss_before, rss_connected) {
        let per = (after.saturating_sub(before) as f64) / connected.max(1) as f64;
        println!(
            "server RSS:   {before} KiB before, {after} KiB with {connected} streams: {per:.1} KiB per participant"
        );
    }
    // Exactness: option by option.
    let mut expected = vec![0u64; args.options as usize];
    for pick in &record.votes {
        expected[*pick] += 1;
    }
    let counted: Vec<u64> = results["options"]
        .as_array()
        .map(|o| o.iter().map(|x| x["count"].as_u64().unwrap_or(0)).collect())
        .unwrap_or_default();
    let total = results["total_voters"].as_u64().unwrap_or(0);
    let exact = counted == expected && total == record.votes.len() as u64;
    println!(
        "counts:       server {counted:?} (total {total}), acknowledged {expected:?}: {}",
        if exact { "exact" } else { "NOT EXACT" }
    );
    for error in &record.first_errors {
        println!("error:        {error}");
    }
    let errors = record.join_errors + record.stream_errors + record.vote_errors;
    let passed = errors == 0 && exact && missing == 0 && connected == n;
    println!(
        "loadtest {}: {n} participants, {} votes, {errors} errors, counts {}, ack p99 {} ms, screen lag p99 {} ms, next activity p99 {} ms",
        if passed { "PASSED" } else { "FAILED" },
        record.votes.len(),
        if exact { "exact" } else { "off" },
        ack_p99.map_or("n/a".into(), |v| format!("{v:.1}")),
        lag_p99.map_or("n/a".into(), |v| format!("{v:.1}")),
        fan_p99.map_or("n/a".into(), |v| format!("{v:.1}")),
    );
    passed
}
