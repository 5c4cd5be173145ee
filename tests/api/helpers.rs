//! `TestApp`: the real application on port 0 with its own database, plus typed calls.

use axum::Router;
use conflicto::app::{App, AppState};
use conflicto::config::Config;
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
