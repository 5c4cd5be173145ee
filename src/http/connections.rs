//! Open connections are bounded by the process's open-file limit, with room kept for the
//! database. Without a bound, a crowd past the limit makes `accept` fail and, worse, leaves
//! the database pool unable to open files, so answers fail as a whole batch. With it, a
//! connection past the bound waits in the kernel's accept queue until another closes.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::serve::Listener;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// File descriptors kept free for other uses than connections: the listener, logs, and
/// per database connection a socket (PostgreSQL) or the database, WAL and index files
/// (SQLite), counting SQLite's one writing connection beside the pool.
fn reserve(database_connections: u32) -> u64 {
    64 + 4 * (u64::from(database_connections) + 1)
}

/// Raises the open-file limit to its hard maximum and returns how many connections may be
/// open at once under it.
pub fn limit(database_connections: u32) -> usize {
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1024);
    let connections = files.saturating_sub(reserve(database_connections)).max(16);
    tracing::info!(
        open_files = files,
        max_connections = connections,
        "connections are bounded by the open-file limit"
    );
    usize::try_from(connections).unwrap_or(usize::MAX)
}

/// A listener that accepts only while fewer than its bound of connections are open.
pub struct Bounded<L> {
    inner: L,
    permits: Arc<Semaphore>,
}

impl<L> Bounded<L> {
    pub fn new(inner: L, max: usize) -> Self {
        Self {
            inner,
            permits: Arc::new(Semaphore::new(max)),
        }
    }
}

impl<L: Listener> Listener for Bounded<L> {
    type Io = Held<L::Io>;
    type Addr = L::Addr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        let permit = match self.permits.clone().try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => {
                tracing::debug!("at the connection limit: new connections wait until one closes");
                metrics::counter!("http_connection_limit_reached_total").increment(1);
                // The semaphore is never closed.
                self.permits
                    .clone()
                    .acquire_owned()
                    .await
                    .unwrap_or_else(|_| unreachable!("the connection semaphore is never closed"))
            }
        };
        let (io, addr) = self.inner.accept().await;
        metrics::gauge!("http_connections_open").increment(1.0);
        (
            Held {
                io,
                _permit: permit,
            },
            addr,
        )
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// The peer's address, as handlers see it through `ConnectInfo<Peer>`.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub std::net::SocketAddr);

/// A connection holding its place under the bound until it is dropped.
pub struct Held<T> {
    io: T,
    _permit: OwnedSemaphorePermit,
}

impl<T> Drop for Held<T> {
    fn drop(&mut self) {
        metrics::gauge!("http_connections_open").decrement(1.0);
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Held<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Held<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_connection_past_the_bound_waits_until_another_closes() {
        let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = tcp.local_addr().unwrap();
        let mut listener = Bounded::new(tcp, 1);
        let first = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (held, _) = listener.accept().await;
        let _second = tokio::net::TcpStream::connect(addr).await.unwrap();
        let waiting =
            tokio::time::timeout(std::time::Duration::from_millis(200), listener.accept()).await;
        assert!(waiting.is_err(), "accepted past the bound");
        drop(held);
        drop(first);
        let accepted =
            tokio::time::timeout(std::time::Duration::from_secs(5), listener.accept()).await;
        assert!(
            accepted.is_ok(),
            "the waiting connection was never accepted"
        );
    }
}
