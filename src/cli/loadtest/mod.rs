//! `conflicto loadtest`: a real event against running servers, measured.
//!
//! An organizer (the token from `CONFLICTO_TOKEN` or `--token`) builds a session with a
//! poll, a word cloud and a Q&A (and, with `--ingest-seconds`, a second poll for
//! sustained voting); N participants join at `--join-rate` and each holds its live event
//! stream; a big screen follows with a viewer link. The activities open one after the
//! other, and each phone acts when its stream tells it:
//!
//! - poll: every phone votes once at a random moment within `--vote-within` seconds;
//! - word cloud: every phone sends one to three words within the same window;
//! - Q&A: every hundredth phone asks (150 at most) in the first half of the window, and
//!   the others upvote one of the questions their process saw acknowledged, in the second;
//! - ingest: every phone re-votes, one answer at a time, so that together they send
//!   `--ingest-rate` answers a second for `--ingest-seconds`.
//!
//! Measured: join rate and errors; acknowledgement latency (request sent → answer
//! received) p50/p99/max per phase; big-screen lag in the poll (for the k-th acknowledged
//! vote, the time from its acknowledgement to the first screen `results` event that counts
//! at least k voters); how long each "next activity" took to reach every phone; server
//! memory per connected participant from `/proc/PID/status` (`--server-pid`, a list when
//! several servers run here); and exactness: the organizer's results must equal what was
//! acknowledged, option by option, word by word and upvote by upvote.
//!
//! `--self-paced` runs homework instead of the event: every participant goes through a
//! quiz alone within a window, and every score must be exact (`paced.rs`).
//!
//! `--venue-wifi` puts a delaying, lossy proxy between the phones and the servers
//! (`venue.rs`); the organizer and the big screen connect directly.
//!
//! `--also-url` adds servers (of one deployment): participants are spread over all of
//! them. `--processes P` runs the phones in P worker processes of this binary, since one
//! process can only hold so many connections. Every loop is bounded by count and by
//! `--timeout-seconds`. It exits 1 when any request failed or any count is off; its last
//! line sums the run up.

mod paced;
mod phones;
mod storm;
mod venue;

use std::collections::BTreeMap;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use parking_lot::Mutex;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use self::phones::{Activities, Group, Phase, Plan, Progress, Record, now_us};

/// Options of `conflicto loadtest`.
#[derive(Debug, Clone, Args)]
pub struct LoadtestArgs {
    /// The server, for example http://127.0.0.1:8080. The organizer and the big screen
    /// use this one.
    #[arg(long, value_name = "URL")]
    pub url: url::Url,

    /// More servers of the same deployment; participants are spread over all of them.
    #[arg(long, value_name = "URL")]
    pub also_url: Vec<url::Url>,

    #[command(flatten)]
    pub organizer: super::OrganizerToken,

    /// Participants to simulate; each holds a live stream (one connection).
    #[arg(long, value_name = "N", default_value_t = 100,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub participants: u32,

    /// Every participant answers at a random moment within this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub vote_within: f64,

    /// Joins started per second (over all processes).
    #[arg(long, value_name = "PER_SECOND", default_value_t = 1000.0)]
    pub join_rate: f64,

    /// Options of the polls.
    #[arg(long, value_name = "N", default_value_t = 4,
          value_parser = clap::value_parser!(u32).range(2..=20))]
    pub options: u32,

    /// Run only the poll (no word cloud, no Q&A).
    #[arg(long)]
    pub poll_only: bool,

    /// After the other phases, every phone re-votes in a second poll for this long.
    #[arg(long, value_name = "SECONDS")]
    pub ingest_seconds: Option<f64>,

    /// The answers per second all phones together aim at during the ingest.
    #[arg(long, value_name = "PER_SECOND", default_value_t = 10_000.0)]
    pub ingest_rate: f64,

    /// Worker processes for the phones (one process holds at most about 19,000).
    #[arg(long, value_name = "P", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=16))]
    pub processes: u32,

    /// The servers' process ids, comma-separated, to read their memory (same machine).
    #[arg(long, value_name = "PID,…", value_delimiter = ',')]
    pub server_pid: Vec<u32>,

    /// Give up on the whole run after this long.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub timeout_seconds: u64,

    /// Keep the session afterwards instead of deleting it.
    #[arg(long)]
    pub keep: bool,

    /// The phones reach the servers over "venue Wi-Fi": a proxy on 127.0.0.1 delays every
    /// chunk 150 ± 50 ms each way and holds 2 % of them 200–1,000 ms more.
    #[arg(long)]
    pub venue_wifi: bool,

    /// Instead of the event: a storm of 1 KB answers on one growing list, with stalled
    /// streams, measuring the server's memory (needs --server-pid; see storm.rs).
    #[arg(long, value_name = "KIND")]
    pub storm: Option<storm::Storm>,

    /// Instead of the event: homework. A self-paced session with one quiz, which every
    /// participant goes through alone within `--self-paced-within` seconds; scores must be
    /// exact (see paced.rs).
    #[arg(long, conflicts_with = "storm")]
    pub self_paced: bool,

    /// Questions of the self-paced quiz.
    #[arg(long, value_name = "N", default_value_t = 10,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub questions: u32,

    /// Everyone joins in the first fifth of this and is done within it.
    #[arg(long, value_name = "SECONDS", default_value_t = 300.0)]
    pub self_paced_within: f64,

    /// Streams the storm opens and never reads.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub stalled_streams: u32,

    /// Internal: run as a worker process, reading a plan on stdin.
    #[arg(long, hide = true)]
    pub worker: bool,
}

pub async fn run(args: LoadtestArgs) -> ExitCode {
    let deadline = Duration::from_secs(args.timeout_seconds);
    if args.worker {
        return match phones::worker(deadline).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("loadtest worker: {error:#}");
                ExitCode::FAILURE
            }
        };
    }
    let run = async {
        match args.storm {
            Some(kind) => storm::run(&args, kind).await,
            None if args.self_paced => paced::run(&args).await,
            None => event(&args).await,
        }
    };
    match tokio::time::timeout(deadline, run).await {
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => ExitCode::FAILURE,
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

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.call(reqwest::Method::GET, path, None).await
    }

    /// Creates the run's session from `body`; returns its id.
    async fn session(&self, body: Value) -> anyhow::Result<String> {
        let session = self
            .call(reqwest::Method::POST, "/sessions/", Some(body))
            .await?;
        Ok(session["id"].as_str().unwrap_or_default().to_owned())
    }

    /// Opens the session to its participants.
    async fn open(&self, session: &str) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::PATCH,
            &format!("/sessions/{session}"),
            Some(json!({"status": "active"})),
        )
        .await
    }

    async fn activity(&self, session: &str, body: Value) -> anyhow::Result<String> {
        let created = self
            .call(
                reqwest::Method::POST,
                &format!("/sessions/{session}/activities"),
                Some(body),
            )
            .await?;
        let id = created["id"].as_str().unwrap_or_default().to_owned();
        self.transition(&id, "published").await?;
        Ok(id)
    }

    /// Deletes the run's session, unless `--keep` asks to keep it; a failure is ignored, as
    /// the run's figures are taken by then.
    async fn clean_up(&self, args: &LoadtestArgs, session: &str) {
        if !args.keep {
            let path = format!("/sessions/{session}");
            self.call(reqwest::Method::DELETE, &path, None).await.ok();
        }
    }

    async fn transition(&self, activity: &str, to: &str) -> anyhow::Result<Value> {
        self.call(
            reqwest::Method::POST,
            &format!("/activities/{activity}/transition"),
            Some(json!({"to": to})),
        )
        .await
    }
}

/// The generator's HTTP client: no Nagle delay, and a bounded connect.
fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .connect_timeout(Duration::from_secs(10))
        .build()
}

impl Host {
    fn new(args: &LoadtestArgs, client: &reqwest::Client, base: &url::Url) -> Self {
        Self {
            client: client.clone(),
            base: base.clone(),
            token: args.organizer.token.clone(),
        }
    }
}

/// With a slash at the end, so relative joins keep the whole path.
fn base_of(url: &url::Url) -> url::Url {
    let mut base = url.clone();
    if !base.path().ends_with('/') {
        base.set_path(&format!("{}/", base.path()));
    }
    base
}

fn rss_kib(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    pids.iter()
        .map(|pid| {
            let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .sum()
}

/// The servers' peak RSS in KiB, sampled every 100 ms from `start_kib` on until dropped.
struct PeakRss {
    peak: Arc<std::sync::atomic::AtomicU64>,
    sampling: tokio::task::JoinHandle<()>,
}

impl PeakRss {
    fn start(pids: &[u32], start_kib: u64) -> Self {
        let peak = Arc::new(std::sync::atomic::AtomicU64::new(start_kib));
        let sampling = {
            let (peak, pids) = (peak.clone(), pids.to_vec());
            tokio::spawn(async move {
                loop {
                    if let Some(now) = rss_kib(&pids) {
                        peak.fetch_max(now, std::sync::atomic::Ordering::Relaxed);
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            })
        };
        Self { peak, sampling }
    }

    /// The peak so far.
    fn kib(&self) -> u64 {
        self.peak.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Drop for PeakRss {
    fn drop(&mut self) {
        self.sampling.abort();
    }
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

/// Where the phones run: in this process, or in worker processes.
enum Phones {
    Here(Arc<Group>),
    Workers(Vec<Worker>),
}

struct Worker {
    child: tokio::process::Child,
    stdin: Option<tokio::process::ChildStdin>,
    progress: Arc<Mutex<Progress>>,
    record: Arc<Mutex<Option<Record>>>,
    reader: tokio::task::JoinHandle<()>,
}

impl Phones {
    async fn start(args: &LoadtestArgs, plan: Plan) -> anyhow::Result<Phones> {
        if args.processes <= 1 {
            let group = Group::new(venue::routed(plan).await?)?;
            group.start();
            return Ok(Phones::Here(group));
        }
        let processes = args.processes as usize;
        let exe = std::env::current_exe()?;
        let mut workers = Vec::with_capacity(processes);
        for part in 0..processes {
            let first = plan.count * part / processes;
            let end = plan.count * (part + 1) / processes;
            let share = Plan {
                first,
                count: end - first,
                join_rate: plan.join_rate / processes as f64,
                ..plan.clone()
            };
            let mut child = tokio::process::Command::new(&exe)
                .args(["loadtest", "--worker", "--url", args.url.as_str()])
                .args(["--timeout-seconds", &args.timeout_seconds.to_string()])
                .env("CONFLICTO_TOKEN", "unused-by-workers")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            let mut stdin = child.stdin.take();
            if let Some(stdin) = stdin.as_mut() {
                stdin
                    .write_all(format!("{}\n", serde_json::to_string(&share)?).as_bytes())
                    .await?;
                stdin.flush().await?;
            }
            let progress = Arc::new(Mutex::new(Progress::default()));
            let record = Arc::new(Mutex::new(None));
            let stdout = child
                .stdout
                .take()
                .ok_or_else(|| anyhow::anyhow!("no worker stdout"))?;
            let reader = {
                let (progress, record) = (progress.clone(), record.clone());
                tokio::spawn(async move {
                    let mut lines = BufReader::new(stdout).lines();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let Ok(mut value) = serde_json::from_str::<Value>(&line) else {
                            continue;
                        };
                        if let Ok(p) = serde_json::from_value::<Progress>(value["progress"].take())
                        {
                            *progress.lock() = p;
                        } else if let Ok(r) =
                            serde_json::from_value::<Record>(value["record"].take())
                        {
                            *record.lock() = Some(r);
                        }
                    }
                })
            };
            workers.push(Worker {
                child,
                stdin,
                progress,
                record,
                reader,
            });
        }
        Ok(Phones::Workers(workers))
    }

    fn progress(&self) -> Progress {
        match self {
            Phones::Here(group) => group.progress(),
            Phones::Workers(workers) => {
                let mut sum = Progress::default();
                for worker in workers {
                    let p = *worker.progress.lock();
                    sum.joined += p.joined;
                    sum.connected += p.connected;
                    sum.failed += p.failed;
                    for (total, done) in sum.done.iter_mut().zip(p.done) {
                        *total += done;
                    }
                }
                sum
            }
        }
    }

    async fn finish(self) -> Record {
        match self {
            Phones::Here(group) => group.finish(),
            Phones::Workers(workers) => {
                let mut all = Record::default();
                for mut worker in workers {
                    if let Some(mut stdin) = worker.stdin.take() {
                        let _ = stdin.write_all(b"stop\n").await;
                    }
                    let _ = tokio::time::timeout(Duration::from_secs(60), &mut worker.reader).await;
                    let _ = worker.child.kill().await;
                    match worker.record.lock().take() {
                        Some(record) => all.merge(record),
                        None => all.error("a worker process reported nothing".into()),
                    }
                }
                all
            }
        }
    }
}

/// What the big screen saw of the poll: when, and how many voters it counted.
type Screen = Arc<Mutex<Vec<(u64, u64)>>>;

#[allow(
    clippy::too_many_lines,
    reason = "one event from start to end, in order"
)]
async fn event(args: &LoadtestArgs) -> anyhow::Result<bool> {
    let n = args.participants as usize;
    let base = base_of(&args.url);
    let client = http_client()?;
    let host = Host::new(args, &client, &base);

    // The session and its activities.
    let session_id = host
        .session(json!({
            "title": format!("loadtest {}", chrono::Utc::now().format("%Y-%m-%d %H:%M:%S")),
            "max_participants": n,
        }))
        .await?;
    let options: Vec<String> = (1..=args.options).map(|i| format!("Option {i}")).collect();
    let poll = |title: &str| {
        json!({
            "kind": "poll", "title": title, "results_visibility": "live",
            "config": {"question": "Which one?", "options": options},
        })
    };
    let mut activities = Activities {
        poll: host.activity(&session_id, poll("Load")).await?,
        ..Activities::default()
    };
    if !args.poll_only {
        activities.cloud = Some(
            host.activity(&session_id, json!({
                "kind": "word_cloud", "title": "Words", "results_visibility": "live",
                "config": {"prompt": "One to three words?", "max_words": 3, "stopwords": "none"},
            }))
            .await?,
        );
        activities.qna = Some(
            host.activity(
                &session_id,
                json!({
                    "kind": "qna", "title": "Questions", "results_visibility": "live",
                    "config": {"topic": "The load test"},
                }),
            )
            .await?,
        );
    }
    if args.ingest_seconds.is_some() {
        activities.ingest = Some(host.activity(&session_id, poll("Ingest")).await?);
    }
    host.open(&session_id).await?;
    let viewer = host
        .call(
            reqwest::Method::POST,
            &format!("/sessions/{session_id}/viewer-link"),
            None,
        )
        .await?;
    let viewer_token = viewer["token"].as_str().unwrap_or_default().to_owned();

    // The big screen.
    let screen: Screen = Arc::default();
    let events_url = base.join(&format!("api/v1/sessions/{session_id}/events"))?;
    let screen_task = tokio::spawn(screen_stream(
        client.clone(),
        events_url,
        viewer_token,
        activities.poll.clone(),
        screen.clone(),
    ));

    // Participants join and hold their streams.
    let rss_before = rss_kib(&args.server_pid);
    let urls: Vec<url::Url> = std::iter::once(&args.url)
        .chain(&args.also_url)
        .map(base_of)
        .collect();
    println!(
        "loadtest: {n} participants against {} server(s) from {} process(es), session {session_id}",
        urls.len(),
        args.processes
    );
    if args.venue_wifi {
        println!(
            "venue Wi-Fi:   phones go through a proxy, {}",
            venue::DESCRIPTION
        );
    }
    let plan = Plan {
        urls,
        session: session_id.clone(),
        first: 0,
        count: n,
        join_rate: args.join_rate,
        vote_within: args.vote_within,
        options: args.options as usize,
        activities: activities.clone(),
        total: n,
        ingest: args.ingest_seconds.map(|s| (s, args.ingest_rate)),
        venue_wifi: args.venue_wifi,
    };
    let phones = Phones::start(args, plan).await?;
    let joining = bar(n as u64, "joined");
    let started = Instant::now();
    let give_up = started + Duration::from_secs_f64(n as f64 / args.join_rate.max(1.0) + 60.0);
    loop {
        let p = phones.progress();
        joining.set_position(p.joined as u64);
        if p.connected + p.failed >= n || Instant::now() > give_up {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let join_seconds = started.elapsed().as_secs_f64();
    joining.finish();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_connected = rss_kib(&args.server_pid);
    let connected = phones.progress().connected;

    // The phases, one after the other: open, wait for every phone, close.
    let mut opened = [0u64; 4];
    let mut results: [Value; 4] = Default::default();
    for phase in Phase::ALL {
        let Some(activity) = phase.activity(&activities).map(str::to_owned) else {
            continue;
        };
        let window = match phase {
            Phase::Ingest => args.ingest_seconds.unwrap_or(0.0),
            _ => args.vote_within,
        };
        let progress = bar(connected as u64, phase.name());
        opened[phase as usize] = now_us();
        host.transition(&activity, "active").await?;
        // A plain line too: a script driving a deploy next to the run waits for it.
        progress.suspend(|| println!("{} opened", phase.name()));
        let until = Instant::now() + Duration::from_secs_f64(window + 30.0);
        loop {
            let done = phones.progress().done[phase as usize];
            progress.set_position(done as u64);
            if done >= connected || Instant::now() > until {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        progress.finish();
        if phase == Phase::Poll {
            // The screen catches up with the last acknowledged vote (bounded wait).
            let wait = Instant::now();
            while wait.elapsed() < Duration::from_secs(10) {
                let shown = screen.lock().last().map_or(0, |(_, total)| *total);
                if shown as usize >= phones.progress().done[0] {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        // Close, let answers still in flight come back (refused or stored), and only then
        // read what the server counted, so both sides count the same answers. Another
        // instance's answers reach this one's tallies within a relay reload.
        host.transition(&activity, "closed").await?;
        let settle = Instant::now();
        while phones.progress().done[phase as usize] < connected
            && settle.elapsed() < Duration::from_secs(30)
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Behind a load balancer, or with --also-url, other instances stored some answers;
        // they reach this instance's tallies within a relay reload (500 ms).
        tokio::time::sleep(Duration::from_secs(2)).await;
        results[phase as usize] = host.get(&format!("/activities/{activity}/results")).await?;
    }

    let record = phones.finish().await;
    screen_task.abort();
    host.call(
        reqwest::Method::PATCH,
        &format!("/sessions/{session_id}"),
        Some(json!({"status": "completed"})),
    )
    .await
    .ok();
    host.clean_up(args, &session_id).await;
    let screen = std::mem::take(&mut *screen.lock());
    Ok(Report {
        args,
        record: &record,
        results: &results,
        opened: &opened,
        activities: &activities,
        screen: &screen,
        join_seconds,
        connected,
        rss: rss_before.zip(rss_connected),
    }
    .print())
}

async fn screen_stream(
    client: reqwest::Client,
    events: url::Url,
    token: String,
    poll: String,
    screen: Screen,
) {
    // A screen that cannot connect shows up as votes never shown; one that misses an event
    // (a delta that does not fit) stops counting, and shows up the same way.
    let mut follower = crate::realtime::delta::Follower::default();
    let _ = phones::hold_stream(&client, &events, &token, |event| {
        let phones::StreamEvent::Frame(frame) = event else {
            return;
        };
        let at = now_us();
        let Some((name, data)) = phones::event_of(frame)
            .filter(|(name, _)| matches!(*name, "snapshot" | "activity" | "results"))
        else {
            return;
        };
        let Ok(value) = serde_json::from_str::<Value>(data) else {
            return;
        };
        if follower.follow(name, &value) != Ok(true) {
            return;
        }
        let about = value["activity_id"]
            .as_str()
            .or_else(|| value["activity"]["id"].as_str());
        if about == Some(poll.as_str())
            && let Some(total) = follower
                .doc
                .as_ref()
                .and_then(|doc| doc["total_voters"].as_u64())
        {
            screen.lock().push((at, total));
        }
    })
    .await;
}

/// p50, p99 and max in milliseconds, as text, and the p99.
fn spread(mut micros: Vec<u64>) -> (String, Option<f64>) {
    if micros.is_empty() {
        return ("n/a".into(), None);
    }
    micros.sort_unstable();
    let at =
        |q: f64| micros[((micros.len() as f64 * q).ceil() as usize).clamp(1, micros.len()) - 1];
    let ms = |us: u64| us as f64 / 1000.0;
    let p99 = ms(at(0.99));
    (
        format!(
            "p50 {:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
            ms(at(0.50)),
            ms(micros[micros.len() - 1])
        ),
        Some(p99),
    )
}

/// For the k-th acknowledged vote: from its acknowledgement to the first screen event after
/// it that counts at least k voters.
fn screen_lags(acks: &[(u64, u64)], screen: &[(u64, u64)]) -> (Vec<u64>, usize) {
    let mut acked: Vec<u64> = acks.iter().map(|(at, _)| *at).collect();
    acked.sort_unstable();
    let mut lags = Vec::with_capacity(acked.len());
    let mut missing = 0;
    for (k, at) in acked.iter().enumerate() {
        match screen
            .iter()
            .find(|(seen, total)| seen >= at && *total >= (k as u64 + 1))
        {
            Some((seen, _)) => lags.push(seen - at),
            None => missing += 1,
        }
    }
    (lags, missing)
}

struct Report<'a> {
    args: &'a LoadtestArgs,
    record: &'a Record,
    results: &'a [Value; 4],
    opened: &'a [u64; 4],
    activities: &'a Activities,
    screen: &'a [(u64, u64)],
    join_seconds: f64,
    connected: usize,
    rss: Option<(u64, u64)>,
}

impl Report<'_> {
    /// What the server counted, in the record's terms.
    fn counted(phase: Phase, results: &Value) -> BTreeMap<String, u64> {
        let mut counted = BTreeMap::new();
        match phase {
            Phase::Poll | Phase::Ingest => {
                for (i, option) in results["options"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    let count = option["count"].as_u64().unwrap_or(0);
                    if count > 0 {
                        counted.insert(i.to_string(), count);
                    }
                }
            }
            Phase::Cloud => {
                for word in results["words"].as_array().into_iter().flatten() {
                    if let Some(text) = word["word"].as_str() {
                        counted.insert(text.to_owned(), word["count"].as_u64().unwrap_or(0));
                    }
                }
            }
            Phase::Qna => {
                for question in results["questions"].as_array().into_iter().flatten() {
                    let votes = question["votes"].as_u64().unwrap_or(0);
                    if let (Some(id), true) = (question["id"].as_str(), votes > 0) {
                        counted.insert(id.to_owned(), votes);
                    }
                }
            }
        }
        counted
    }

    #[allow(clippy::too_many_lines, reason = "the report, line by line")]
    fn print(&self) -> bool {
        let (args, record) = (self.args, self.record);
        let n = args.participants as usize;
        let joined = n.saturating_sub(record.join_errors);
        println!();
        println!(
            "joins:         {joined}/{n} in {:.1} s ({:.0}/s), {} errors",
            self.join_seconds,
            joined as f64 / self.join_seconds.max(0.001),
            record.join_errors
        );
        println!(
            "streams:       {} connected, {} errors, {} reconnected after the server ended them",
            self.connected, record.stream_errors, record.reconnects
        );
        if let Some((before, after)) = self.rss {
            let per = (after.saturating_sub(before) as f64) / self.connected.max(1) as f64;
            println!(
                "server RSS:    {before} KiB before, {after} KiB with {} streams: {per:.1} KiB per participant",
                self.connected
            );
        }
        let mut all_exact = true;
        let mut errors = record.join_errors + record.stream_errors;
        let mut summary = Vec::new();
        let mut missing_on_screen = 0;
        for phase in Phase::ALL {
            if phase.activity(self.activities).is_none() {
                continue;
            }
            let mine = &record.phases[phase as usize];
            errors += mine.errors;
            let name = phase.name();
            let (acks, ack_p99) = spread(mine.acks.iter().map(|(_, took)| *took).collect());
            println!("{name}:");
            println!(
                "  answer ack:  {acks} ({} acknowledged, {} errors)",
                mine.acks.len(),
                mine.errors
            );
            let opened = self.opened[phase as usize];
            let heard_on = |server: Option<usize>| {
                mine.heard
                    .iter()
                    .filter(|(_, on)| server.is_none_or(|server| *on == server))
                    .map(|(at, _)| at.saturating_sub(opened))
                    .collect()
            };
            let (heard, heard_p99) = spread(heard_on(None));
            println!(
                "  next activity: {heard} ({} phones told)",
                mine.heard.len()
            );
            // With several servers, each one's phones apart: the first server is where the
            // organizer opened the activity, the others hear of it through the database.
            let servers = 1 + self.args.also_url.len();
            if servers > 1 {
                for server in 0..servers {
                    let (spread, _) = spread(heard_on(Some(server)));
                    println!("    on server {}: {spread}", server + 1);
                }
            }
            let mut line = format!(
                "{name} ack p99 {} ms, next activity p99 {} ms",
                ack_p99.map_or("n/a".into(), |v| format!("{v:.1}")),
                heard_p99.map_or("n/a".into(), |v| format!("{v:.1}")),
            );
            match phase {
                Phase::Poll => {
                    let (lags, missing) = screen_lags(&mine.acks, self.screen);
                    missing_on_screen = missing;
                    let (lag, lag_p99) = spread(lags);
                    println!(
                        "  screen lag:  {lag} ({} screen updates{})",
                        self.screen.len(),
                        if missing > 0 {
                            format!(", {missing} votes never shown")
                        } else {
                            String::new()
                        }
                    );
                    line.push_str(&format!(
                        ", screen lag p99 {} ms",
                        lag_p99.map_or("n/a".into(), |v| format!("{v:.1}"))
                    ));
                }
                Phase::Ingest => {
                    let seconds = args.ingest_seconds.unwrap_or(0.0).max(0.001);
                    let rate = mine.acks.len() as f64 / seconds;
                    println!(
                        "  ingest:      {rate:.0} stored answers/s over {seconds:.0} s (aimed at {:.0}/s)",
                        args.ingest_rate
                    );
                    line.push_str(&format!(", {rate:.0} answers/s"));
                }
                Phase::Qna => println!("  questions:   {} asked", mine.asked),
                Phase::Cloud => {}
            }
            let counted = Self::counted(phase, &self.results[phase as usize]);
            let exact = counted == mine.counts;
            all_exact &= exact;
            println!(
                "  counts:      server {:?}, acknowledged {:?}: {}",
                counted.values().sum::<u64>(),
                mine.counts.values().sum::<u64>(),
                if exact { "exact" } else { "NOT EXACT" }
            );
            if !exact {
                println!("    server       {counted:?}");
                println!("    acknowledged {:?}", mine.counts);
            }
            summary.push(line);
        }
        println!(
            "waits:         {} requests answered 429 or 503 and sent again after Retry-After",
            record.waits
        );
        if record.hedged > 0 {
            println!(
                "hedged:        {} answers sent once more after 600 ms without a reply (same request id)",
                record.hedged
            );
        }
        if record.retried > 0 {
            println!(
                "retried:       {} answers sent again after a connection closed under them (same request id)",
                record.retried
            );
        }
        for error in &record.first_errors {
            println!("error:         {error}");
        }
        let passed = errors == 0 && all_exact && missing_on_screen == 0 && self.connected == n;
        println!(
            "loadtest {}: {n} participants, {} votes, {errors} errors, counts {}, {}",
            if passed { "PASSED" } else { "FAILED" },
            record.phases[Phase::Poll as usize].acks.len(),
            if all_exact { "exact" } else { "off" },
            summary.join("; ")
        );
        passed
    }
}
