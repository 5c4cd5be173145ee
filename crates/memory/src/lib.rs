//! The one call into mimalloc's C API that Conflicto makes, kept in a crate of its own so
//! that the server's crate can forbid `unsafe` code (see `src/memory.rs` there for why it
//! is made).

/// Asks mimalloc to collect now: the pages the calling thread has freed, and every purge
/// the allocator had put off, go back to the operating system.
pub fn release() {
    // SAFETY: mi_collect takes no pointers and only walks mimalloc's own structures; any
    // thread may call it at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
}
