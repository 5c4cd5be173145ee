//! The calls into the allocators' C APIs that Conflicto makes, kept in a crate of its own so
//! that the server's crate can forbid `unsafe` code (see `src/memory.rs` there for why they
//! are made).

/// Gives freed memory back to the operating system: mimalloc collects the pages the calling
/// thread has freed and every purge it had put off; on glibc, `malloc_trim` returns what
/// SQLite (which allocates through the C library's `malloc`) has freed in every arena.
pub fn release() {
    // SAFETY: mi_collect takes no pointers and only walks mimalloc's own structures; any
    // thread may call it at any time.
    unsafe { libmimalloc_sys::mi_collect(true) }
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointers; it locks each arena while it trims it, so it
    // is safe beside other threads' malloc and free.
    unsafe {
        libc::malloc_trim(0);
    }
}
