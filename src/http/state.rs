//! What every request handler shares ([`AppState`]), and where the process is in its life
//! ([`Lifecycle`]). The app builds them when it starts; the handlers only read them.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::auth::SigningKey;
use crate::config::Config;
use crate::http::limits::RateLimits;
use crate::kinds::ActivityRegistry;
use crate::participants::joiner::Joiner;
use crate::participants::presence::PresenceBook;
use crate::participants::roster::Roster;
use crate::realtime::Hub;
use crate::responses::live::Live;
use crate::storage::{Store, WriteThread};

/// Shared by every request handler. It is one pointer: axum copies the state for every
/// request and every extractor, and a copy is then one reference count, not one per field.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    /// The state over `services`, built once when the app starts.
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What [`AppState`] points to.
pub struct Services {
    /// The configuration the app was built with.
    pub config: Arc<Config>,
    /// The database.
    pub store: Arc<dyn Store>,
    /// Draining flag and the live-stream cancellation token.
    pub lifecycle: Arc<Lifecycle>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The URL phones and QR codes use.
    pub public_base_url: Url,
    /// Signs participant and CSRF tokens; shared by all instances through the database.
    pub key: SigningKey,
    /// Every activity kind.
    pub registry: Arc<ActivityRegistry>,
    /// The domain's live state: cached sessions and activities, the tallies and their
    /// writer; use cases take it, and report their changes to it.
    pub live: Arc<Live>,
    /// The group-commit joining task.
    pub joiner: Joiner,
    /// Last contact per participant.
    pub presence: Arc<PresenceBook>,
    /// Cached participant statuses.
    pub roster: Arc<Roster>,
    /// Rate limiters.
    pub limits: Arc<RateLimits>,
    /// Emoji taps waiting to be stored.
    pub reactions: Arc<crate::reactions::Reactions>,
    /// Live event fan-out.
    pub hub: Arc<Hub>,
    /// Where the writer, the joiner and the presence and reaction flushes run; it stops
    /// when the state is gone.
    pub write_thread: WriteThread,
}

/// Where the process is in its life: serving, or draining towards exit.
#[derive(Debug, Default)]
pub struct Lifecycle {
    draining: AtomicBool,
    streams: CancellationToken,
    background: CancellationToken,
    started: std::sync::OnceLock<Instant>,
    schema: std::sync::Mutex<SchemaSeen>,
}

/// The latest schema verdict an instance read. Liveness answers from it, so a database
/// that is away for a failover keeps the last verdict instead of failing every instance.
#[derive(Debug, Clone)]
pub struct SchemaSeen {
    /// Whether this release can serve that schema.
    pub servable: bool,
    /// The verdict in words.
    pub explained: String,
}

impl Default for SchemaSeen {
    fn default() -> Self {
        Self {
            servable: true,
            explained: "schema accepted at start".to_owned(),
        }
    }
}

impl Lifecycle {
    /// A lifecycle whose uptime counts from now.
    pub fn starting_now() -> Self {
        let lifecycle = Self::default();
        let _ = lifecycle.started.set(Instant::now());
        lifecycle
    }

    /// Tells the background tasks that the server has stopped.
    pub fn stop_background(&self) {
        self.background.cancel();
    }

    /// True once shutdown has begun; readiness then answers 503.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// Cancelled when shutdown begins. Every live stream selects on it and ends with a
    /// reconnect hint, because graceful shutdown would otherwise wait for them forever.
    pub fn streams_token(&self) -> CancellationToken {
        self.streams.clone()
    }

    /// Cancelled when the server has stopped: background tasks (presence flush, limiter
    /// pruning) do their last work and end.
    pub fn background_token(&self) -> CancellationToken {
        self.background.clone()
    }

    /// Seconds since the app was built.
    pub fn uptime_seconds(&self) -> f64 {
        self.started
            .get()
            .map_or(0.0, |started| started.elapsed().as_secs_f64())
    }

    /// Records a schema verdict just read from the database.
    pub fn note_schema(&self, seen: SchemaSeen) {
        let mut last = self.schema.lock().unwrap_or_else(|e| e.into_inner());
        if last.servable != seen.servable {
            if seen.servable {
                tracing::info!(
                    "this release can serve the schema again: {}",
                    seen.explained
                );
            } else {
                tracing::error!("this release cannot serve the schema: {}", seen.explained);
            }
        }
        *last = seen;
    }

    /// The latest schema verdict read, or the one accepted at start.
    pub fn schema_seen(&self) -> SchemaSeen {
        self.schema
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Marks the app not-ready and tells live streams to end.
    pub fn begin_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
        self.streams.cancel();
    }
}
