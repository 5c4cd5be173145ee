//! Sessions: create, list, read, edit, open, close and delete a live event.
pub mod join_code;
pub mod session;
