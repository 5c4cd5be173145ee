//! Participants: join, rejoin, presence and removal.
pub mod participant;
