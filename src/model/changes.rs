//! What use cases report after they commit: which part of a session changed. The live
//! fan-out (`realtime::Hub`, a layer above) implements [`Changes`] and publishes; the use
//! cases know only this trait.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::ids::{ActivityId, SessionId};
use crate::model::activity::Activity;

/// What changed in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Change {
    /// Status, title or settings.
    Session,
    /// The current activity (state, reveal, lock, config) or the agenda.
    Activity,
    /// Someone joined or opened a stream (the count, for organizer and big screen).
    Participants,
    /// Someone was removed or banned: phones hear of it too, so the removed one's open
    /// stream wakes, notices and ends.
    Removed,
    /// New answers were committed for this activity.
    Results(ActivityId),
    /// Emoji reactions were stored.
    Reactions,
}

/// Where committed changes are told, to reach every screen.
pub trait Changes: Send + Sync {
    /// `change` was committed in `session`.
    fn changed(&self, session: SessionId, change: Change);

    /// A running activity's countdown is due to be announced (`now` by the server's clock).
    fn timer(&self, activity: &Activity, now: DateTime<Utc>);
}

impl<T: Changes + ?Sized> Changes for Arc<T> {
    fn changed(&self, session: SessionId, change: Change) {
        (**self).changed(session, change);
    }

    fn timer(&self, activity: &Activity, now: DateTime<Utc>) {
        (**self).timer(activity, now);
    }
}
