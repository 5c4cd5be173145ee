//! Giving freed memory back to the operating system. The binary's allocator (mimalloc)
//! keeps pages a thread freed for that thread's next allocations, and purges them only
//! while the thread allocates; a server whose threads go idle after a busy moment would
//! otherwise hold the moment's peak for good. So each runtime thread, when it parks with
//! nothing to do, lets the allocator release what it holds, at most once a second.
//!
//! The library does not choose the allocator: the binary registers how to release
//! ([`set_release`]); without one (tests, other embedders) parking costs nothing.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// How often one thread may release memory.
pub const RELEASE_EVERY: Duration = Duration::from_secs(1);

static RELEASE: OnceLock<fn()> = OnceLock::new();

/// Registers how the allocator gives memory back (once, at start-up).
pub fn set_release(release: fn()) {
    let _ = RELEASE.set(release);
}

/// For `on_thread_park`: releases memory if this thread has not done so for a second.
pub fn on_idle() {
    thread_local!(static LAST: Cell<Option<Instant>> = const { Cell::new(None) });
    let Some(release) = RELEASE.get() else {
        return;
    };
    LAST.with(|last| {
        if last.get().is_none_or(|at| at.elapsed() >= RELEASE_EVERY) {
            last.set(Some(Instant::now()));
            release();
            metrics::counter!("memory_releases_total").increment(1);
        }
    });
}
