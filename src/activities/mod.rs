//! Activities: the framework every kind plugs into.
pub mod activity;
pub mod kind;
pub mod poll;
