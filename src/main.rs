//! The `conflicto` binary: everything lives in the library; this only hands over to it.

/// mimalloc instead of glibc's allocator: cheaper per answer and per open stream under
/// load (docs/performance.md, "What each change bought").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    conflicto::memory::set_release(conflicto_memory::release);
    conflicto::cli::main()
}
