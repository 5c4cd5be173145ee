//! The domain's records: what storage keeps and every layer above reads (activities,
//! sessions, join codes, participants, organizers and their tokens, templates), and the
//! [`changes::Changes`] port through which the domain tells the fan-out what changed. It
//! sits below storage, so storage names these types without reaching up into the use cases.

pub mod activity;
pub mod changes;
pub mod invalid;
pub mod join_code;
pub mod json;
pub mod organizer;
pub mod participant;
pub mod session;
pub mod template;
