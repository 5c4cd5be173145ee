//! The running application: [`App::build`] connects storage, checks the schema and binds the
//! listener (port 0 works); [`App::run_until_stopped`] serves until a shutdown signal, then
//! drains: readiness turns 503, live streams are told to end, in-flight requests finish.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::SigningKey;
use crate::config::{Config, Environment, derived_base_url};
use crate::http::limits::RateLimits;
pub use crate::http::state::Lifecycle;
use crate::http::state::{AppState, Services};
use crate::kinds::ActivityRegistry;
use crate::participants::joiner::Joiner;
use crate::participants::presence::PresenceBook;
use crate::participants::roster::Roster;
use crate::realtime::Hub;
use crate::responses::live::Live;
use crate::responses::tally::Tallies;
use crate::responses::writer::Writer;
use crate::storage::{self, SchemaVerdict, Store, WriteThread, migrations::BackupPolicy};

/// A built application, bound to its port, not yet serving.
pub struct App {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

impl App {
    /// Connects to the database, checks (or, for the embedded default, applies) migrations,
    /// and binds the listener.
    pub async fn build(config: Config) -> anyhow::Result<App> {
        Self::build_with_routes(config, Router::new()).await
    }

    /// Like [`App::build`], with extra routes merged in front of the fallback. Tests use it
    /// to mount probes (a slow handler, a JSON echo) on the real middleware stack.
    pub async fn build_with_routes(config: Config, extra: Router<AppState>) -> anyhow::Result<App> {
        let store = storage::connect(&config.database)
            .await
            .with_context(|| format!("cannot open the database {}", config.database.url))?;
        prepare_schema(store.as_ref(), &config).await?;

        let listener = TcpListener::bind(config.listen_addr)
            .await
            .with_context(|| format!("cannot listen on {} (LISTEN_ADDR)", config.listen_addr))?;
        let local = listener.local_addr()?;
        let public_base_url = config
            .public_base_url
            .clone()
            .unwrap_or_else(|| derived_base_url(local));
        let lifecycle = Arc::new(Lifecycle::starting_now());
        let key = SigningKey::from_bytes(
            store
                .signing_key(SigningKey::generate().as_bytes(), chrono::Utc::now())
                .await
                .context("cannot read the signing key")?,
        );
        let tallies = Arc::new(Tallies::default());
        let registry = Arc::new(ActivityRegistry::with_builtin_kinds());
        // The fan-out first: the writer tells it of every commit. The domain's live state
        // holds the writer and tells the fan-out of the use cases' changes; the fan-out's
        // publisher reads through it.
        let hub = Hub::new();
        let write_thread =
            WriteThread::start().context("cannot start the storage writers' thread")?;
        let writer = Writer::start(&write_thread, store.clone(), tallies.clone(), hub.clone());
        let live = Live::new(
            store.clone(),
            registry.clone(),
            tallies.clone(),
            writer.clone(),
            public_base_url.clone(),
            hub.clone(),
        );
        let joiner = Joiner::start(&write_thread, store.clone());
        hub.start(live.clone(), lifecycle.background_token());
        tallies.start_sweeping(lifecycle.background_token());
        crate::activities::timers::start(live.clone(), lifecycle.background_token());
        // Rebuild the tallies of every running activity, so results survive a restart.
        for activity in store
            .active_activities()
            .await
            .context("cannot list active activities")?
        {
            let prepared = registry
                .prepare(&activity)
                .map_err(|e| anyhow::anyhow!("activity {}: {e}", activity.id))?;
            writer
                .load(activity, prepared)
                .await
                .context("cannot load a running activity")?;
        }
        let roster = Arc::new(Roster::default());
        crate::realtime::relay::Relay {
            hub: hub.clone(),
            live: live.clone(),
            roster: roster.clone(),
        }
        .start(lifecycle.background_token())
        .await
        .context("cannot listen for other instances' changes")?;
        crate::http::api::health::start_schema_watch(
            store.clone(),
            lifecycle.clone(),
            lifecycle.background_token(),
        );
        let presence = Arc::new(PresenceBook::default());
        presence.start_flushing(&write_thread, store.clone(), lifecycle.background_token());
        let limits = RateLimits::new(&config);
        limits.start_pruning(lifecycle.background_token());
        if let Some(period) = config.retention {
            crate::sessions::retention::start(
                store.clone(),
                registry.clone(),
                tallies.clone(),
                period,
                lifecycle.background_token(),
            );
        }
        let reactions = Arc::new(crate::reactions::Reactions::default());
        reactions.start(
            &write_thread,
            store.clone(),
            live.clone(),
            lifecycle.background_token(),
        );
        let state = AppState::new(Services {
            config: Arc::new(config),
            store,
            lifecycle,
            metrics: crate::telemetry::metrics_handle(),
            public_base_url,
            key,
            registry,
            live,
            joiner,
            presence,
            roster,
            limits,
            reactions,
            hub,
            write_thread,
        });
        let router = crate::http::router(state.clone(), crate::web::router().merge(extra));
        Ok(App {
            listener,
            router,
            state,
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.local_addr().port()
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The state shared with handlers (tests read the store and lifecycle through it).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `signal` completes, then shuts down in order: readiness 503 and live
    /// streams cancelled at once, the listener closed after the drain delay, in-flight
    /// requests given until the shutdown timeout, the database pool closed last.
    pub async fn run_until_stopped(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let App {
            listener,
            router,
            state,
        } = self;
        let lifecycle = state.lifecycle.clone();
        let drain = state.config.shutdown_drain;
        let timeout = state.config.shutdown_timeout;
        let stop_accepting = CancellationToken::new();
        let deadline = CancellationToken::new();
        {
            let stop_accepting = stop_accepting.clone();
            let deadline = deadline.clone();
            tokio::spawn(async move {
                signal.await;
                tracing::info!(
                    drain_seconds = drain.as_secs_f64(),
                    "shutdown requested: readiness now 503, live streams told to reconnect"
                );
                lifecycle.begin_draining();
                tokio::time::sleep(drain).await;
                stop_accepting.cancel();
                tokio::time::sleep(timeout.saturating_sub(drain)).await;
                deadline.cancel();
            });
        }
        let listener = listener.tap_io(|tcp| {
            // Small SSE frames and API answers must not wait for Nagle's algorithm.
            let _ = tcp.set_nodelay(true);
        });
        let listener = crate::http::connections::Bounded::new(
            listener,
            crate::http::connections::limit(state.config.database.max_connections),
        );
        let server = crate::http::server::serve(listener, router, stop_accepting);
        tokio::select! {
            () = server => {}
            () = deadline.cancelled() => {
                tracing::warn!("shutdown timeout reached with requests still running; exiting anyway");
            }
        }
        state.lifecycle.stop_background();
        state.presence.flush(state.store.as_ref()).await;
        state.store.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Makes sure the schema is one this release can serve. The embedded default database is
/// migrated here; any other database must be migrated with `conflicto migrate up` first.
async fn prepare_schema(store: &dyn Store, config: &Config) -> anyhow::Result<()> {
    if config.embedded_database {
        let backup = if config.environment == Environment::Development {
            BackupPolicy::Skip
        } else {
            BackupPolicy::Required(config.backup_dir.clone())
        };
        let report = storage::migrations::upgrade(store, &backup).await?;
        for step in &report.applied {
            tracing::info!(migration = step.version, "applied migration {step}");
        }
        if !report.integrity.is_ok() {
            anyhow::bail!("{}", report.integrity);
        }
        return Ok(());
    }
    let status = store
        .schema_status()
        .await
        .context("cannot read the schema status")?;
    let verdict = status.verdict();
    match &verdict {
        SchemaVerdict::Current => Ok(()),
        SchemaVerdict::NewerCompatible(_) => {
            tracing::warn!("{}", verdict.explain());
            Ok(())
        }
        _ => anyhow::bail!("refusing to start: {}", verdict.explain()),
    }
}
