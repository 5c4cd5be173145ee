//! `TestApp`: the real application on port 0 with its own database, plus typed calls.

use axum::Router;
use conflicto::app::App;
use conflicto::config::Config;
use conflicto::http::state::AppState;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::common::TestDb;

/// A running app and the database it owns.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// A client without cookies or redirects.
    pub client: reqwest::Client,
    /// The app's shared state (store, lifecycle).
    pub state: AppState,
    /// The database, kept alive as long as the app.
    pub db: TestDb,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Migrates `db` and serves the app on it with default settings.
    pub async fn spawn(db: TestDb) -> TestApp {
        Self::spawn_with(db, |_| {}, Router::new()).await
    }

    /// Like `spawn`, after `configure` adjusts the config, with `extra` routes mounted.
    pub async fn spawn_with(
        db: TestDb,
        configure: impl FnOnce(&mut Config),
        extra: Router<AppState>,
    ) -> TestApp {
        let store = db.migrated_store().await;
        store.close().await;
        let mut config = Config::with_database(db.url.clone());
        config.listen_addr = "127.0.0.1:0".parse().unwrap();
        configure(&mut config);
        Self::start(db, config, extra).await
    }

    /// Serves the app on an already migrated database.
    async fn start(db: TestDb, config: Config, extra: Router<AppState>) -> TestApp {
        let app = App::build_with_routes(config, extra)
            .await
            .expect("build the app");
        let base = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let server = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        TestApp {
            base,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            state,
            db,
            stop: Some(stop),
            server: Some(server),
        }
    }

    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET `path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }

    /// Sends the shutdown signal and waits for the server to finish.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.server.take() {
            Some(server) => server.await.expect("server task"),
            None => Ok(()),
        }
    }

    /// Signals shutdown without waiting, returning the server task.
    pub fn begin_stop(&mut self) -> JoinHandle<anyhow::Result<()>> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.server.take().expect("server still running")
    }
}

/// Reads a response as JSON, failing with the body when it is not.
pub async fn json(response: reqwest::Response) -> serde_json::Value {
    let text = response.text().await.expect("body");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts the error envelope and its code, and returns the message.
pub fn assert_envelope(body: &serde_json::Value, code: &str) -> String {
    let error = body
        .get("error")
        .unwrap_or_else(|| panic!("no error envelope in {body}"));
    assert_eq!(error["code"], code, "wrong code in {body}");
    let message = error["message"].as_str().unwrap_or_default().to_owned();
    assert!(!message.is_empty(), "empty message in {body}");
    message
}

/// A signed-in organizer.
#[derive(Debug, Clone)]
pub struct Host {
    /// Bearer token.
    pub token: String,
}

/// A joined participant.
#[derive(Debug, Clone)]
pub struct Guest {
    /// Bearer token.
    pub token: String,
    /// Participant id.
    pub id: String,
    /// Nickname as stored.
    pub nickname: String,
}

/// The password every test organizer gets.
pub const PASSWORD: &str = "correct horse battery staple";

impl TestApp {
    /// Sends `method path` with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: impl AsRef<str>,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> reqwest::Response {
        let mut request = self.client.request(method, self.url(path.as_ref()));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        request.send().await.expect("request")
    }

    /// Creates an organizer directly and signs in over HTTP.
    pub async fn host(&self, email: &str, admin: bool) -> Host {
        conflicto::organizers::create(self.state.store.as_ref(), email, PASSWORD, admin)
            .await
            .expect("create organizer");
        let response = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(serde_json::json!({"email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        let body = json(response).await;
        Host {
            token: body["token"].as_str().unwrap().to_owned(),
        }
    }

    /// Creates a session and returns its JSON.
    pub async fn session(&self, host: &Host, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .call(
                reqwest::Method::POST,
                "/api/v1/sessions/",
                Some(&host.token),
                Some(body),
            )
            .await;
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
        json(response).await
    }

    /// Creates and opens a session; returns (id, join code).
    pub async fn open_session(
        &self,
        host: &Host,
        max_participants: Option<u32>,
    ) -> (String, String) {
        let mut body = serde_json::json!({"title": "Test event"});
        if let Some(max) = max_participants {
            body["max_participants"] = max.into();
        }
        let session = self.session(host, body).await;
        let id = session["id"].as_str().unwrap().to_owned();
        self.patch_session(host, &id, serde_json::json!({"status": "active"}))
            .await;
        (id, session["join_code"].as_str().unwrap().to_owned())
    }

    /// Changes a session, asserting success; returns it.
    pub async fn patch_session(
        &self,
        host: &Host,
        session: &str,
        body: serde_json::Value,
    ) -> serde_json::Value {
        let response = self
            .call(
                reqwest::Method::PATCH,
                &format!("/api/v1/sessions/{session}"),
                Some(&host.token),
                Some(body),
            )
            .await;
        let status = response.status();
        let body = json(response).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        body
    }

    /// Ends a session, asserting success.
    pub async fn complete(&self, host: &Host, session: &str) {
        self.patch_session(host, session, serde_json::json!({"status": "completed"}))
            .await;
    }

    /// Adds an activity and runs one round of it: published, opened, `answers` given, closed.
    /// Returns its id.
    pub async fn run_activity(
        &self,
        host: &Host,
        session: &str,
        kind: &str,
        title: &str,
        config: serde_json::Value,
        answers: &[(&Guest, serde_json::Value)],
    ) -> String {
        let response = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/sessions/{session}/activities"),
                Some(&host.token),
                Some(serde_json::json!({"kind": kind, "title": title, "config": config})),
            )
            .await;
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
        let id = json(response).await["id"].as_str().unwrap().to_owned();
        self.run_round(host, &id, answers).await;
        id
    }

    /// Opens an activity (publishing a draft first), gives `answers`, and closes it.
    pub async fn run_round(
        &self,
        host: &Host,
        activity: &str,
        answers: &[(&Guest, serde_json::Value)],
    ) {
        let path = format!("/api/v1/activities/{activity}");
        let current = json(
            self.call(reqwest::Method::GET, &path, Some(&host.token), None)
                .await,
        )
        .await;
        if current["state"] == "draft" {
            self.transition(host, activity, "published").await;
        }
        self.transition(host, activity, "active").await;
        for (guest, answer) in answers {
            let response = self.vote(guest, activity, answer.clone(), None).await;
            let status = response.status();
            assert!(
                status.is_success(),
                "{status}: {}",
                response.text().await.unwrap()
            );
        }
        self.transition(host, activity, "closed").await;
    }

    /// An open session with a running two-option poll: (session id, join code, poll id).
    pub async fn live_poll(&self, host: &Host) -> (String, String, String) {
        let (session, code) = self.open_session(host, None).await;
        let poll = self
            .poll(
                host,
                &session,
                serde_json::json!({"question": "q", "options": ["a", "b"]}),
                serde_json::json!({}),
            )
            .await;
        self.transition(host, &poll, "active").await;
        (session, code, poll)
    }

    /// Adds a poll (published, not active) and returns its id.
    pub async fn poll(
        &self,
        host: &Host,
        session: &str,
        config: serde_json::Value,
        extra: serde_json::Value,
    ) -> String {
        self.activity(host, session, "poll", config, extra).await
    }

    /// Adds an activity of `kind`, titled as its kind unless `extra` says otherwise
    /// (published, not active), and returns its id.
    pub async fn activity(
        &self,
        host: &Host,
        session: &str,
        kind: &str,
        config: serde_json::Value,
        extra: serde_json::Value,
    ) -> String {
        let title = if kind == "poll" { "A poll" } else { kind };
        let mut body = serde_json::json!({"kind": kind, "title": title, "config": config});
        if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
            body.extend(extra.clone());
        }
        let response = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/sessions/{session}/activities"),
                Some(&host.token),
                Some(body),
            )
            .await;
        assert_eq!(response.status(), reqwest::StatusCode::CREATED);
        let id = json(response).await["id"].as_str().unwrap().to_owned();
        self.transition(host, &id, "published").await;
        id
    }

    /// Runs the host command `name` on an activity, asserting it was taken.
    pub async fn command(&self, host: &Host, activity: &str, name: &str, args: serde_json::Value) {
        let response = self
            .call(
                reqwest::Method::POST,
                format!("/api/v1/activities/{activity}/commands/{name}"),
                Some(&host.token),
                Some(args),
            )
            .await;
        let status = response.status();
        assert!(
            status.is_success(),
            "{name}: {status} {}",
            response.text().await.unwrap_or_default()
        );
    }

    /// Moves an activity, asserting success.
    pub async fn transition(&self, host: &Host, activity: &str, to: &str) -> serde_json::Value {
        let response = self
            .call(
                reqwest::Method::POST,
                &format!("/api/v1/activities/{activity}/transition"),
                Some(&host.token),
                Some(serde_json::json!({"to": to})),
            )
            .await;
        let status = response.status();
        let body = json(response).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        body
    }

    /// Joins a session (by id or code) under a nickname.
    pub async fn join(&self, session: &str, nickname: impl AsRef<str>) -> Guest {
        let response = self
            .call(
                reqwest::Method::POST,
                format!("/api/v1/sessions/{session}/join"),
                None,
                Some(serde_json::json!({"nickname": nickname.as_ref()})),
            )
            .await;
        let status = response.status();
        let body = json(response).await;
        assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
        Guest {
            token: body["token"].as_str().unwrap().to_owned(),
            id: body["participant_id"].as_str().unwrap().to_owned(),
            nickname: body["nickname"].as_str().unwrap().to_owned(),
        }
    }

    /// Submits an answer; returns the response.
    pub async fn vote(
        &self,
        guest: &Guest,
        activity: &str,
        answer: serde_json::Value,
        request_id: Option<&str>,
    ) -> reqwest::Response {
        let mut body = serde_json::json!({"answer": answer});
        if let Some(id) = request_id {
            body["client_request_id"] = id.into();
        }
        self.call(
            reqwest::Method::POST,
            &format!("/api/v1/activities/{activity}/responses"),
            Some(&guest.token),
            Some(body),
        )
        .await
    }

    /// Reads results with a token.
    pub async fn results(&self, token: &str, activity: &str) -> serde_json::Value {
        self.read(token, &format!("/api/v1/activities/{activity}/results"))
            .await
    }

    /// Reads `path` with a token, asserting 200; returns the body.
    pub async fn read(&self, token: &str, path: &str) -> serde_json::Value {
        let response = self
            .call(reqwest::Method::GET, path, Some(token), None)
            .await;
        let status = response.status();
        let body = json(response).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        body
    }

    /// Starts a second instance on the same database (the first keeps running).
    pub async fn peer(&self) -> TestApp {
        let config = (*self.state.config).clone();
        Self::start(crate::common::TestDb::sqlite().await, config, Router::new()).await
    }

    /// Stops this app and starts a fresh one on the same database and configuration.
    pub async fn restart(mut self) -> TestApp {
        self.stop().await.expect("stop");
        let config = (*self.state.config).clone();
        let db = std::mem::replace(&mut self.db, crate::common::TestDb::sqlite().await);
        Self::start(db, config, Router::new()).await
    }
}

/// Sweeps the app's tallies until no round is left in memory: each sweep drops the rounds
/// unused since the one before, and results still owed to phones' lanes keep a round in use
/// for about a second after its last answer.
pub async fn drop_unused_rounds(app: &TestApp) {
    for _ in 0..100 {
        app.state.live.tallies.sweep(1);
        if app.state.live.tallies.loaded().is_empty() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "rounds still in memory: {:?}",
        app.state.live.tallies.loaded()
    );
}

/// Poll counts in results, in option order.
pub fn counts(results: &serde_json::Value) -> Vec<u64> {
    results["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["count"].as_u64().unwrap())
        .collect()
}

/// One server-sent event.
#[derive(Debug, Clone)]
pub struct Event {
    /// `id:` line.
    pub id: Option<String>,
    /// `event:` line.
    pub event: String,
    /// `data:` parsed as JSON.
    pub data: serde_json::Value,
}

/// A live stream being read.
pub struct Stream {
    response: reqwest::Response,
    buffer: String,
    /// Every event read so far.
    pub seen: Vec<Event>,
    /// True once the server ended the stream.
    pub ended: bool,
    /// The results document, kept as a client keeps it: `results` events are read with
    /// their deltas applied, so `data["results"]` is always the whole document.
    pub follower: conflicto::realtime::delta::Follower,
}

impl Stream {
    /// Reads the next event, waiting at most `limit`.
    pub async fn next(&mut self, limit: std::time::Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut id = None;
                let mut event = None;
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("id: ") {
                        id = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("event: ") {
                        event = Some(v.to_owned());
                    } else if let Some(v) = line.strip_prefix("data: ") {
                        data.push_str(v);
                    }
                }
                let Some(event) = event else { continue };
                let mut parsed = Event {
                    id,
                    event,
                    data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
                };
                let changed = self
                    .follower
                    .follow(&parsed.event, &parsed.data)
                    .unwrap_or_else(|misfit| panic!("{misfit}: {}", parsed.data));
                if changed && parsed.event == "results" {
                    parsed.data["results"] = self.follower.doc.clone().unwrap_or_default();
                }
                self.seen.push(parsed.clone());
                return Some(parsed);
            }
            if self.ended {
                return None;
            }
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(chunk))) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(Ok(None) | Err(_)) => self.ended = true,
                Err(_) => return None,
            }
        }
    }

    /// Reads until an event named `name` whose data satisfies `wanted`, at most `limit`.
    /// For `results`, any event that brings results counts (`snapshot`, `activity` and
    /// `results`: an unchanged document is not sent again), and `wanted` sees
    /// `{"activity_id", "results"}` with the whole document as the client holds it.
    pub async fn wait_for(
        &mut self,
        name: &str,
        limit: std::time::Duration,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> Event {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(event)
                    if name == "results"
                        && matches!(event.event.as_str(), "snapshot" | "activity" | "results") =>
                {
                    let data = serde_json::json!({
                        "activity_id": self.follower.activity(),
                        "results": self.follower.doc.clone(),
                    });
                    if wanted(&data) {
                        return Event {
                            id: event.id,
                            event: "results".into(),
                            data,
                        };
                    }
                }
                Some(event) if event.event == name && wanted(&event.data) => return event,
                Some(_) => {}
                None => panic!(
                    "no `{name}` event as wanted within {limit:?}; saw {:?}",
                    self.seen.iter().map(|e| &e.event).collect::<Vec<_>>()
                ),
            }
        }
    }
}

impl TestApp {
    /// Opens the live stream of a session with a token in the header.
    pub async fn stream(&self, session: &str, token: &str) -> Stream {
        self.stream_with(session, token, None).await
    }

    /// Opens the live stream, resuming after `last_event_id` if given.
    pub async fn stream_with(
        &self,
        session: &str,
        token: &str,
        last_event_id: Option<&str>,
    ) -> Stream {
        let mut request = self
            .client
            .get(self.url(&format!("/api/v1/sessions/{session}/events")))
            .bearer_auth(token);
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = request.send().await.expect("open stream");
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        Stream {
            response,
            buffer: String::new(),
            seen: Vec::new(),
            ended: false,
            follower: conflicto::realtime::delta::Follower::default(),
        }
    }

    /// A viewer token for the big screen.
    pub async fn viewer_token(&self, host: &Host, session: &str) -> String {
        let link = json(
            self.call(
                reqwest::Method::POST,
                format!("/api/v1/sessions/{session}/viewer-link"),
                Some(&host.token),
                None,
            )
            .await,
        )
        .await;
        assert!(link["url"].as_str().unwrap().contains("/present/"));
        link["token"].as_str().unwrap().to_owned()
    }
}
