//! Activities: the steps of a session. Create, edit, reorder and delete them; move them
//! through draft → published → active → closed (reopen = a new round); run host commands
//! (reveal, hide, and each kind's own); read results. Kinds plug in through
//! [`crate::kinds::ActivityKind`]; nothing here matches on a kind's name.

pub mod timers;

use chrono::Utc;
use serde_json::Value;

use crate::ids::{ActivityId, SessionId};
use crate::kinds::{ActivityRegistry, DynKind, PrepareError};
pub use crate::model::activity::current;
use crate::model::activity::{self, Activity, ActivityState, ResultsVisibility, TIME_LIMIT_MAX};
use crate::model::changes::{Change, Changes};
use crate::model::invalid::{Invalid, Rule, check_range};
use crate::model::session::{Session, SessionStatus};
use crate::responses::live::{Live, LoadError};
use crate::storage::{Store, StoreError};

/// Why an activity use case failed.
#[derive(Debug, thiserror::Error)]
pub enum ActivityError {
    /// No such activity in a session the caller may see.
    #[error("no such activity")]
    NotFound,
    /// The kind is not registered.
    #[error("unknown kind `{kind}`")]
    UnknownKind {
        /// What was asked for.
        kind: String,
        /// What exists.
        known: Vec<String>,
    },
    /// A field broke a rule.
    #[error("{0}")]
    Invalid(#[from] Invalid),
    /// The state cannot move that way.
    #[error("a {from:?} activity cannot become {to:?}")]
    InvalidTransition {
        /// Current state.
        from: ActivityState,
        /// Requested state.
        to: ActivityState,
        /// What is allowed from here.
        allowed: Vec<ActivityState>,
    },
    /// Another activity of the session is active.
    #[error("another activity is active in this session; close it first")]
    AnotherActive {
        /// The active one.
        active: Option<ActivityId>,
    },
    /// The session must be active for this.
    #[error("the session is {0:?}; open it first")]
    SessionNotActive(SessionStatus),
    /// Completed sessions are read-only.
    #[error("the session is completed and can no longer change")]
    SessionCompleted,
    /// Only draft or published activities can be edited or deleted.
    #[error("a {0:?} activity cannot be edited or deleted; close it first or edit a draft")]
    NotEditable(ActivityState),
    /// A host command was refused: the rule it broke, its field inside the request.
    #[error("{0}")]
    Command(Invalid),
    /// Other commands kept changing the activity while this one was applied.
    #[error("the activity kept changing; try the command again")]
    Contended,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(field: &'static str) -> impl FnOnce(Invalid) -> ActivityError {
    move |error| ActivityError::Invalid(error.within(field))
}

/// What an organizer gives to create an activity.
#[derive(Debug, Clone)]
pub struct NewActivity {
    /// The kind's name.
    pub kind: String,
    /// Title.
    pub title: String,
    /// Kind-specific configuration.
    pub config: Value,
    /// Optional time limit in seconds.
    pub time_limit_seconds: Option<u32>,
    /// Live or hidden results (default live).
    pub results_visibility: Option<ResultsVisibility>,
}

impl From<LoadError> for ActivityError {
    fn from(error: LoadError) -> Self {
        match error {
            LoadError::Prepare(error) => error.into(),
            LoadError::Store(error) => error.into(),
        }
    }
}

impl From<PrepareError> for ActivityError {
    fn from(error: PrepareError) -> Self {
        match error {
            PrepareError::UnknownKind { kind, known } => ActivityError::UnknownKind { kind, known },
            corrupt @ PrepareError::Corrupt { .. } => {
                ActivityError::Store(StoreError::Corrupt(corrupt.to_string()))
            }
        }
    }
}

fn unknown_kind(registry: &ActivityRegistry, kind: &str) -> ActivityError {
    ActivityError::UnknownKind {
        kind: kind.to_owned(),
        known: registry.iter().map(|k| k.kind().to_owned()).collect(),
    }
}

/// The results visibility for an activity of `kind` (`wanted`, or the default when None):
/// kinds whose results are always hidden until revealed (planning poker) refuse `live`.
fn visibility_for(
    kind: &dyn DynKind,
    wanted: Option<ResultsVisibility>,
) -> Result<ResultsVisibility, ActivityError> {
    match (kind.hidden_until_reveal(), wanted) {
        // Such results are always hidden until revealed.
        (true, Some(ResultsVisibility::Live)) => Err(ActivityError::Invalid(Invalid::new(
            "results_visibility",
            Rule::OneOf {
                allowed: vec!["hidden".into()],
            },
        ))),
        (true, _) => Ok(ResultsVisibility::Hidden),
        (false, wanted) => Ok(wanted.unwrap_or_default()),
    }
}

/// Adds a draft activity at the end of the session.
pub async fn create(
    live: &Live,
    session: &Session,
    new: NewActivity,
) -> Result<Activity, ActivityError> {
    let store = live.store.as_ref();
    let registry = &*live.registry;
    if session.status == SessionStatus::Completed {
        return Err(ActivityError::SessionCompleted);
    }
    let activity = draft(registry, session.id, new)?;
    let activity = store.insert_activity(&activity).await?;
    live.changed(session.id, Change::Activity);
    Ok(activity)
}

/// Checks `new` as creating it would and returns the draft activity, not yet stored
/// (position 0: the store places it).
pub fn draft(
    registry: &ActivityRegistry,
    session: SessionId,
    new: NewActivity,
) -> Result<Activity, ActivityError> {
    let kind = registry
        .get(&new.kind)
        .ok_or_else(|| unknown_kind(registry, &new.kind))?;
    let config = kind.check_config(&new.config).map_err(invalid("config"))?;
    let results_visibility = visibility_for(kind, new.results_visibility)?;
    let time_limit_seconds = new
        .time_limit_seconds
        .map(activity::parse_time_limit)
        .transpose()?;
    let now = Utc::now();
    Ok(Activity {
        id: ActivityId::new(),
        session_id: session,
        kind: new.kind,
        title: activity::parse_title(&new.title)?,
        position: 0,
        config,
        kind_state: Value::Object(serde_json::Map::new()),
        state: ActivityState::Draft,
        round: 1,
        results_visibility,
        results_revealed: false,
        time_limit_seconds,
        activated_at: None,
        deadline_at: None,
        closed_at: None,
        created_at: now,
        updated_at: now,
        template_key: None,
    })
}

/// The activity, if it belongs to `session`.
pub async fn in_session(
    store: &dyn Store,
    session: SessionId,
    id: ActivityId,
) -> Result<Activity, ActivityError> {
    store
        .activity(id)
        .await?
        .filter(|a| a.session_id == session)
        .ok_or(ActivityError::NotFound)
}

/// Changes to an activity; None leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ActivityChanges {
    /// New title.
    pub title: Option<String>,
    /// New configuration (draft or published only).
    pub config: Option<Value>,
    /// New time limit; `Some(None)` removes it.
    pub time_limit_seconds: Option<Option<u32>>,
    /// New visibility.
    pub results_visibility: Option<ResultsVisibility>,
}

/// Edits an activity. Configuration and time limit change only before it runs, so answers
/// always match the configuration they were given for.
pub async fn update(
    live: &Live,
    session: &Session,
    mut activity: Activity,
    changes: ActivityChanges,
) -> Result<Activity, ActivityError> {
    let store = live.store.as_ref();
    let registry = &*live.registry;
    if session.status == SessionStatus::Completed {
        return Err(ActivityError::SessionCompleted);
    }
    let structural = changes.config.is_some() || changes.time_limit_seconds.is_some();
    if structural
        && !matches!(
            activity.state,
            ActivityState::Draft | ActivityState::Published
        )
    {
        return Err(ActivityError::NotEditable(activity.state));
    }
    if let Some(title) = &changes.title {
        activity.title = activity::parse_title(title)?;
    }
    if let Some(config) = &changes.config {
        let kind = registry
            .get(&activity.kind)
            .ok_or_else(|| unknown_kind(registry, &activity.kind))?;
        activity.config = kind.check_config(config).map_err(invalid("config"))?;
    }
    if let Some(limit) = changes.time_limit_seconds {
        activity.time_limit_seconds = limit.map(activity::parse_time_limit).transpose()?;
    }
    if let Some(visibility) = changes.results_visibility {
        let kind = registry
            .get(&activity.kind)
            .ok_or_else(|| unknown_kind(registry, &activity.kind))?;
        activity.results_visibility = visibility_for(kind, Some(visibility))?;
    }
    activity.updated_at = Utc::now();
    store.update_activity(&activity).await?;
    live.changed(session.id, Change::Activity);
    Ok(activity)
}

/// Deletes an activity that is not running.
pub async fn delete(
    live: &Live,
    session: &Session,
    activity: &Activity,
) -> Result<(), ActivityError> {
    let store = live.store.as_ref();
    let tallies = &*live.tallies;
    if session.status == SessionStatus::Completed {
        return Err(ActivityError::SessionCompleted);
    }
    if activity.state == ActivityState::Active {
        return Err(ActivityError::NotEditable(activity.state));
    }
    store.delete_activity(activity.id).await?;
    tallies.forget(activity.id);
    live.changed(session.id, Change::Activity);
    Ok(())
}

/// Puts the session's activities in the given order, which must list each exactly once.
pub async fn reorder(
    live: &Live,
    session: &Session,
    order: &[ActivityId],
) -> Result<Vec<Activity>, ActivityError> {
    let store = live.store.as_ref();
    if session.status == SessionStatus::Completed {
        return Err(ActivityError::SessionCompleted);
    }
    let current = store.activities_of(session.id).await?;
    let mut given = order.to_vec();
    given.sort_unstable();
    let mut existing: Vec<ActivityId> = current.iter().map(|a| a.id).collect();
    existing.sort_unstable();
    if given != existing {
        return Err(ActivityError::Invalid(Invalid::new(
            "activity_ids",
            Rule::PerEntry {
                other: "activities".into(),
                count: existing.len(),
            },
        )));
    }
    store.reorder_activities(session.id, order).await?;
    live.changed(session.id, Change::Activity);
    Ok(store.activities_of(session.id).await?)
}

/// Moves an activity to another state. Activating needs an active session and no other
/// active activity; reopening a closed one starts a new round.
pub async fn transition(
    live: &Live,
    session: &Session,
    mut activity: Activity,
    to: ActivityState,
) -> Result<Activity, ActivityError> {
    let store = live.store.as_ref();
    let registry = &*live.registry;
    let writer = &live.writer;
    if session.status == SessionStatus::Completed {
        return Err(ActivityError::SessionCompleted);
    }
    let from = activity.state;
    if from == to {
        return Ok(activity);
    }
    if !from.allowed_next().contains(&to) {
        return Err(ActivityError::InvalidTransition {
            from,
            to,
            allowed: from.allowed_next().to_vec(),
        });
    }
    if to == ActivityState::Active && session.status != SessionStatus::Active {
        return Err(ActivityError::SessionNotActive(session.status));
    }
    let now = Utc::now();
    activity.state = to;
    activity.updated_at = now;
    match to {
        ActivityState::Active => {
            if from == ActivityState::Closed {
                activity.round += 1;
                activity.results_revealed = false;
                activity.kind_state = Value::Object(serde_json::Map::new());
            }
            activity.activated_at = Some(now);
            activity.closed_at = None;
            activity.deadline_at = activity
                .time_limit_seconds
                .map(|s| now + chrono::Duration::seconds(i64::from(s)));
        }
        ActivityState::Closed => {
            activity.closed_at = Some(now);
            activity.deadline_at = None;
        }
        ActivityState::Draft | ActivityState::Published => {}
    }
    match store.set_activity_state(&activity, from).await {
        Ok(true) => {}
        Ok(false) => {
            let current = in_session(store, session.id, activity.id).await?;
            return Err(ActivityError::InvalidTransition {
                from: current.state,
                to,
                allowed: current.state.allowed_next().to_vec(),
            });
        }
        Err(StoreError::Conflict(_)) => {
            let active = store
                .activities_of(session.id)
                .await?
                .into_iter()
                .find(|a| a.state == ActivityState::Active)
                .map(|a| a.id);
            return Err(ActivityError::AnotherActive { active });
        }
        Err(other) => return Err(other.into()),
    }
    if to == ActivityState::Active {
        writer
            .load(activity.clone(), registry.prepare(&activity)?)
            .await?;
    }
    live.changed(session.id, Change::Activity);
    Ok(activity)
}

/// Closes the session's running activity, if any (before the session ends).
pub async fn close_running(live: &Live, session: &Session) -> Result<(), ActivityError> {
    let store = live.store.as_ref();
    let running = store
        .activities_of(session.id)
        .await?
        .into_iter()
        .find(|a| a.state == ActivityState::Active);
    if let Some(activity) = running {
        match transition(live, session, activity, ActivityState::Closed).await {
            // Closed meanwhile by the organizer or a timer: the goal is reached.
            Ok(_) | Err(ActivityError::InvalidTransition { .. }) => {}
            Err(other) => return Err(other),
        }
    }
    Ok(())
}

/// A host command and its arguments.
#[derive(Debug, Clone, Copy)]
pub struct HostCommand<'a> {
    /// `reveal`, `hide`, `new_round`, or a kind's own command.
    pub name: &'a str,
    /// The command's arguments (null when none).
    pub args: &'a Value,
}

/// How often a host command is retried when another changed the activity meanwhile.
const COMMAND_ATTEMPTS: usize = 8;

/// Runs a host command: `reveal`, `hide` and `new_round` for every kind, anything else goes
/// to the kind. Commands are read-modify-write on the activity's run state, so each is
/// applied to the latest state and saved only if nobody changed it meanwhile; concurrent
/// commands (two moderators approving questions) are applied one after the other.
pub async fn command(
    live: &Live,
    session: &Session,
    activity: Activity,
    command: HostCommand<'_>,
) -> Result<Activity, ActivityError> {
    let store = live.store.as_ref();
    let registry = &*live.registry;
    let writer = &live.writer;
    let tallies = &*live.tallies;
    if session.status == SessionStatus::Completed {
        return Err(ActivityError::SessionCompleted);
    }
    let mut previous = activity;
    for _ in 0..COMMAND_ATTEMPTS {
        let now = Utc::now();
        let mut next = previous.clone();
        match command.name {
            "add_time" => {
                let seconds: i64 =
                    crate::kinds::arg(command.args, "seconds").map_err(ActivityError::Command)?;
                check_range("args.seconds", seconds, 1, i64::from(TIME_LIMIT_MAX))
                    .map_err(ActivityError::Command)?;
                if previous.state != ActivityState::Active {
                    return Err(ActivityError::Command(Invalid::new("", Rule::NotRunning)));
                }
                let Some(deadline) = previous.deadline_at else {
                    return Err(ActivityError::Command(Invalid::new("", Rule::NoTimeLimit)));
                };
                // From the stored deadline, or from now if it passed a moment ago and the
                // timer task has not closed the activity yet.
                next.deadline_at = Some(deadline.max(now) + chrono::Duration::seconds(seconds));
            }
            "reveal" => next.results_revealed = true,
            "hide" => next.results_revealed = false,
            "new_round" => {
                if previous.state != ActivityState::Active {
                    return Err(ActivityError::Command(Invalid::new("", Rule::NotRunning)));
                }
                let ending = live.results(&previous).await?;
                next.kind_state = ending
                    .prepared()
                    .next_round(&ending.results, previous.round);
                next.round += 1;
                next.results_revealed = false;
                next.activated_at = Some(now);
                next.deadline_at = next
                    .time_limit_seconds
                    .map(|s| now + chrono::Duration::seconds(i64::from(s)));
            }
            other => {
                let kind = registry
                    .get(&previous.kind)
                    .ok_or_else(|| unknown_kind(registry, &previous.kind))?;
                next.kind_state = kind
                    .host_command(
                        &previous.config,
                        &previous.kind_state,
                        other,
                        command.args,
                        now,
                    )
                    .map_err(ActivityError::Command)?;
            }
        }
        next.updated_at = now;
        if store.update_activity_run(&next, &previous).await? {
            let prepared = registry.prepare(&next)?;
            if next.round == previous.round {
                tallies.rebind(next.id, next.round, prepared);
            } else if next.state == ActivityState::Active {
                writer.load(next.clone(), prepared).await?;
            }
            live.changed(session.id, Change::Activity);
            // A reveal or a moderation decision changes what each audience sees: send
            // results to everyone now.
            live.changed(session.id, Change::Results(next.id));
            return Ok(next);
        }
        previous = in_session(store, session.id, previous.id).await?;
        if session.status == SessionStatus::Completed {
            return Err(ActivityError::SessionCompleted);
        }
    }
    Err(ActivityError::Contended)
}
