//! A thread of its own for the tasks that write to storage in bulk: the answers' and the
//! joins' group commits, presence flushes and reaction flushes.
//!
//! A write transaction holds the store's write gate (on SQLite, its one writing
//! connection) from `BEGIN` to `COMMIT`, and every statement in it is a round trip: to
//! SQLite's worker thread, or to PostgreSQL. After each one the writing task must be polled
//! again. On the request handlers' runtime it would wait its turn behind thousands of
//! requests and live streams, several milliseconds a statement under load, with the gate
//! held all the while. Here nothing else queues, so a batch takes the time its statements
//! take (docs/performance.md, "What each change bought").
//!
//! The thread runs a current-thread Tokio runtime until the [`WriteThread`] is dropped;
//! then every task still on it is dropped, as the request runtime's tasks are at exit.

use std::future::Future;

use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// The runtime thread for storage's bulk writers; stops when dropped.
pub struct WriteThread {
    handle: Handle,
    /// Dropping it ends the thread's `block_on`, and with it the runtime.
    _stop: oneshot::Sender<()>,
}

impl WriteThread {
    /// Starts the thread and its runtime.
    pub fn start() -> std::io::Result<WriteThread> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .on_thread_park(crate::memory::on_idle)
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("conflicto-writes".into())
            .spawn(move || {
                // Runs the spawned tasks until the handle's owner is gone.
                let _ = runtime.block_on(stopped);
            })?;
        Ok(WriteThread {
            handle,
            _stop: stop,
        })
    }

    /// Runs `task` on the thread.
    pub fn spawn<F>(&self, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        drop(self.handle.spawn(task));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_tasks_on_its_own_thread_until_dropped() {
        let thread = WriteThread::start().unwrap();
        let (tx, rx) = oneshot::channel();
        thread.spawn(async move {
            let _ = tx.send(std::thread::current().name().map(str::to_owned));
        });
        assert_eq!(rx.await.unwrap().as_deref(), Some("conflicto-writes"));

        // A task still running when the thread stops is dropped, not leaked.
        let (held, released) = oneshot::channel::<()>();
        thread.spawn(async move {
            let _held = held;
            std::future::pending::<()>().await;
        });
        drop(thread);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), released).await;
        assert!(
            matches!(ended, Ok(Err(_))),
            "the pending task was not dropped with the thread's runtime"
        );
    }
}
