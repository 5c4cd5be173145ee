//! Server-side time limits: a background task closes every active activity whose stored
//! deadline has passed (so it works with nobody connected, and after a restart), and sends
//! a `timer` event once a second while one runs, so every screen counts down from the
//! server's clock. Several instances may race to close the same activity; the conditional
//! state change lets exactly one win.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::{ActivityError, transition};
use crate::ids::ActivityId;
use crate::model::activity::ActivityState;
use crate::model::changes::Changes;
use crate::responses::live::Live;

/// How often deadlines are checked.
pub const CHECK_EVERY: Duration = Duration::from_millis(250);
/// How often a running timer is announced.
pub const TICK_EVERY: Duration = Duration::from_secs(1);

/// Starts the timer task.
pub fn start(live: Arc<Live>, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut check = tokio::time::interval(CHECK_EVERY);
        check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut last_tick: HashMap<ActivityId, std::time::Instant> = HashMap::new();
        loop {
            tokio::select! {
                _ = check.tick() => {}
                () = stop.cancelled() => return,
            }
            if let Err(error) = run_once(&live, &mut last_tick).await {
                tracing::warn!(error = %error, "checking activity deadlines failed; will retry");
            }
        }
    });
}

async fn run_once(
    live: &Live,
    last_tick: &mut HashMap<ActivityId, std::time::Instant>,
) -> Result<(), ActivityError> {
    let store = live.store.as_ref();
    let now = Utc::now();
    let running = store.active_activities().await?;
    last_tick.retain(|id, _| running.iter().any(|a| a.id == *id));
    for activity in running {
        let Some(deadline) = activity.deadline_at else {
            continue;
        };
        if deadline <= now {
            let Some(session) = store.session(activity.session_id).await? else {
                continue;
            };
            let id = activity.id;
            match transition(live, &session, activity, ActivityState::Closed).await {
                Ok(_) => tracing::info!(activity.id = %id, "closed on time"),
                // Another instance (or the organizer) closed it first.
                Err(ActivityError::InvalidTransition { .. } | ActivityError::SessionCompleted) => {}
                Err(other) => return Err(other),
            }
            last_tick.remove(&id);
            continue;
        }
        let due = last_tick
            .get(&activity.id)
            .is_none_or(|at| at.elapsed() >= TICK_EVERY);
        if due {
            last_tick.insert(activity.id, std::time::Instant::now());
            live.timer(&activity, now);
        }
    }
    Ok(())
}
