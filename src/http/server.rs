//! The HTTP/1 server: hyper serves every connection, except that a live event stream leaves
//! hyper once its response is ready. Then [`Detached`] writes the stream to the socket
//! itself.
//!
//! Why: hyper keeps two buffers of at least 8 KiB each (reading, and the response head) for
//! as long as a connection is open, and `max_buf_size` cannot go below that. An event
//! stream stays open for the whole event, so those buffers would be most of what an open
//! phone costs (docs/performance.md, "Memory"). After the hand-over the connection holds
//! only its socket, the stream's state and whatever frame is being written.
//!
//! How: a handler marks its response [`Detachable`]. The per-request service sees the mark
//! on a GET's response and, instead of returning the response to hyper, puts it in the
//! connection's hand-over slot and never completes. The connection task then takes the
//! socket back from hyper ([`hyper::server::conn::http1::Connection::into_parts`]),
//! drops hyper's buffers, and writes the response head and its body in chunked encoding.
//! hyper has written nothing for that request, and, since clients do not pipeline (no
//! browser does, nor the ALB or nginx towards their targets), nothing is left in its write
//! buffer either: the previous response was read to its end before this request was sent.
//! The stream's connection closes when the stream ends (`connection: close` says so).
//!
//! Only HTTP/1 is served, as browsers speak HTTP/2 only over TLS and the TLS terminator
//! (the ALB, nginx) speaks HTTP/1.1 to the server.
//!
//! Two deadlines guard a connection while it waits for a request ([`Guarded`]): a request
//! head must arrive whole within [`Timeouts::head`] of its first byte (or of the
//! connection's start), against slow-loris clients; and a kept-alive connection may stay
//! silent between requests for [`Timeouts::idle`], longer than the load balancer's idle
//! timeout. hyper's own `header_read_timeout` cannot tell the two apart: it also closes a
//! kept-alive connection after that time without a request, so a load balancer that keeps
//! connections to its targets longer (the ALB: 300 s) could send a request on one the
//! server was closing, and answer the phone 502.

use std::convert::Infallible;
use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, Response, Version, header};
use axum::serve::Listener;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::http::connections::Peer;

/// Marks a response whose body the connection writes itself, outside hyper (see the module
/// documentation). Only the live event stream uses it.
#[derive(Debug, Clone, Copy)]
pub struct Detachable;

/// How long a connection may wait for requests.
#[derive(Debug, Clone, Copy)]
struct Timeouts {
    /// From a request head's first byte, or from the connection's start, to its end.
    head: Duration,
    /// Silence between requests on a kept-alive connection.
    idle: Duration,
}

/// The server's deadlines. `idle` is above the ALB's idle timeout of 300 s
/// (`deploy/terraform/modules/alb`) and nginx's upstream `keepalive_timeout` of 60 s, so the
/// server is never the first to close a connection a load balancer keeps.
const TIMEOUTS: Timeouts = Timeouts {
    head: Duration::from_secs(30),
    idle: Duration::from_secs(330),
};

/// Accepts connections until `stop` is cancelled, then waits for the open ones: hyper
/// finishes the request in flight on each, and detached streams end when the live streams
/// are told to (the app cancels them when it starts to drain).
pub async fn serve<L>(listener: L, router: Router, stop: CancellationToken)
where
    L: Listener<Addr = SocketAddr>,
    L::Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    serve_with(listener, router, stop, TIMEOUTS).await;
}

async fn serve_with<L>(mut listener: L, router: Router, stop: CancellationToken, timeouts: Timeouts)
where
    L: Listener<Addr = SocketAddr>,
    L::Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let connections = TaskTracker::new();
    loop {
        let (io, peer) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => break,
        };
        connections.spawn(connection(io, timeouts, peer, router.clone(), stop.clone()));
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// The response a request handed over, with what its head needs from the request.
struct HandOver {
    response: Response<Body>,
    version: Version,
}

/// Where the per-request service leaves a detached response for its connection task.
#[derive(Default)]
struct Slot {
    response: parking_lot::Mutex<Option<HandOver>>,
    filled: tokio::sync::Notify,
}

async fn connection<I>(
    io: I,
    timeouts: Timeouts,
    peer: SocketAddr,
    router: Router,
    stop: CancellationToken,
) where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let slot = Arc::new(Slot::default());
    let (io, requests) = Guarded::new(io, timeouts);
    let service = {
        let slot = slot.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let router = router.clone();
            let slot = slot.clone();
            let requests = requests.clone();
            async move {
                let _serving = requests.serving();
                let (method, version) = (request.method().clone(), request.version());
                let mut request = request.map(Body::new);
                request.extensions_mut().insert(ConnectInfo(Peer(peer)));
                let response = router
                    .oneshot(request)
                    .await
                    .unwrap_or_else(|never: Infallible| match never {});
                if method == Method::GET && response.extensions().get::<Detachable>().is_some() {
                    *slot.response.lock() = Some(HandOver { response, version });
                    slot.filled.notify_one();
                    // hyper never gets an answer for this request: the connection task
                    // takes the socket and drops this future with hyper's connection.
                    return std::future::pending::<Result<Response<Body>, Infallible>>().await;
                }
                Ok::<_, Infallible>(response)
            }
        })
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    // Our deadlines replace hyper's (see the module documentation).
    http.timer(TokioTimer::new()).header_read_timeout(None);
    let mut conn = http.serve_connection(TokioIo::new(io), service);
    let mut stopping = false;
    loop {
        tokio::select! {
            result = &mut conn => {
                if let Err(error) = result {
                    tracing::debug!(%error, "connection ended with an error");
                }
                return;
            }
            () = slot.filled.notified() => break,
            () = stop.cancelled(), if !stopping => {
                stopping = true;
                std::pin::Pin::new(&mut conn).graceful_shutdown();
            }
        }
    }
    let Some(hand_over) = slot.response.lock().take() else {
        return;
    };
    // Dropping hyper's connection frees its buffers and the pending request future.
    let mut io = conn.into_parts().io.into_inner();
    io.unguard();
    if let Err(error) = Detached::new(io, hand_over.version)
        .write(hand_over.response)
        .await
    {
        tracing::debug!(%error, "a detached stream ended with an error");
    }
}

/// What a connection's requests tell its [`Guarded`] reads: whether one is being served,
/// and how many have been.
#[derive(Default)]
struct Requests {
    serving: AtomicBool,
    served: AtomicU64,
}

impl Requests {
    /// Marks a request as served until the guard is dropped.
    fn serving(self: &Arc<Self>) -> Serving {
        self.serving.store(true, Ordering::Relaxed);
        Serving(self.clone())
    }
}

/// A request being served; see [`Requests::serving`].
struct Serving(Arc<Requests>);

impl Drop for Serving {
    fn drop(&mut self) {
        self.0.served.fetch_add(1, Ordering::Relaxed);
        self.0.serving.store(false, Ordering::Relaxed);
    }
}

/// A connection's socket with the deadlines of [`Timeouts`] on its reads while no request
/// is being served. A read past a deadline fails with `TimedOut`, and hyper closes the
/// connection. A detached stream's socket has no deadlines: its request is never done
/// being served, and [`Guarded::unguard`] drops them.
struct Guarded<I> {
    io: I,
    /// On the heap, so that a detached stream, which keeps its connection task's whole
    /// future for as long as it runs, pays one pointer for it.
    guard: Option<Box<Guard>>,
}

struct Guard {
    timeouts: Timeouts,
    requests: Arc<Requests>,
    /// Requests served when the reads last looked.
    served: u64,
    /// When the request head being read began: the connection's start, then the first
    /// byte read after each request.
    head_since: Option<tokio::time::Instant>,
    /// The last time anything was read or written.
    active_at: tokio::time::Instant,
    /// The timer, made when a read first waits.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl<I> Guarded<I> {
    /// The guarded socket, and what the connection's service tells its reads.
    fn new(io: I, timeouts: Timeouts) -> (Self, Arc<Requests>) {
        let now = tokio::time::Instant::now();
        let requests = Arc::new(Requests::default());
        let guarded = Self {
            io,
            guard: Some(Box::new(Guard {
                timeouts,
                requests: requests.clone(),
                served: 0,
                head_since: Some(now),
                active_at: now,
                timer: None,
            })),
        };
        (guarded, requests)
    }

    /// Drops the deadlines, for a detached stream.
    fn unguard(&mut self) {
        self.guard = None;
    }

    fn active(&mut self) {
        if let Some(guard) = self.guard.as_mut() {
            guard.active_at = tokio::time::Instant::now();
        }
    }
}

impl Guard {
    /// Catches up with the service: whether a request is being served now. Once one was
    /// served since the reads last looked, the next head has not begun.
    fn serving(&mut self) -> bool {
        let served = self.requests.served.load(Ordering::Relaxed);
        if served != self.served {
            self.served = served;
            self.head_since = None;
            self.active_at = tokio::time::Instant::now();
        }
        self.requests.serving.load(Ordering::Relaxed)
    }

    /// Notes bytes read: between requests, they begin the next head.
    fn bytes_read(&mut self) {
        let serving = self.serving();
        let now = tokio::time::Instant::now();
        self.active_at = now;
        if self.head_since.is_none() && !serving {
            self.head_since = Some(now);
        }
    }

    /// Notes a read that waits: the error that ends the connection once a deadline has
    /// passed; otherwise `cx` is woken at the deadline.
    fn waiting(&mut self, cx: &mut Context<'_>) -> Option<std::io::Error> {
        if self.serving() {
            return None;
        }
        let deadline = match self.head_since {
            Some(since) => since + self.timeouts.head,
            None => self.active_at + self.timeouts.idle,
        };
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        if timer.as_mut().poll(cx).is_pending() {
            return None;
        }
        let what = if self.head_since.is_some() {
            "no whole request head in time"
        } else {
            "kept alive without a request for too long"
        };
        Some(std::io::Error::new(std::io::ErrorKind::TimedOut, what))
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Guarded<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let before = buf.filled().len();
        let read = Pin::new(&mut this.io).poll_read(cx, buf);
        let Some(guard) = this.guard.as_mut() else {
            return read;
        };
        match read {
            Poll::Ready(Ok(())) => {
                // A read of nothing is the end of the stream, not a wait.
                if buf.filled().len() > before {
                    guard.bytes_read();
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => match guard.waiting(cx) {
                Some(error) => Poll::Ready(Err(error)),
                None => Poll::Pending,
            },
        }
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Guarded<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write(cx, data);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.active();
        }
        written
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let written = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(written, Poll::Ready(Ok(n)) if n > 0) {
            self.active();
        }
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}

/// A response written straight to the socket: the head, then the body in chunked encoding
/// (or, for an HTTP/1.0 client, until the connection closes), then the connection closes.
struct Detached<I> {
    io: I,
    chunked: bool,
}

impl<I: AsyncRead + AsyncWrite + Unpin> Detached<I> {
    fn new(io: I, version: Version) -> Self {
        Self {
            io,
            chunked: version != Version::HTTP_10,
        }
    }

    async fn write(mut self, response: Response<Body>) -> std::io::Result<()> {
        let (parts, mut body) = response.into_parts();
        let mut head = Vec::with_capacity(512);
        let version = if self.chunked { "HTTP/1.1" } else { "HTTP/1.0" };
        write!(head, "{version} {}\r\n", parts.status)?;
        for (name, value) in &parts.headers {
            if name == header::CONTENT_LENGTH
                || name == header::TRANSFER_ENCODING
                || name == header::CONNECTION
            {
                continue;
            }
            head.extend_from_slice(name.as_str().as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value.as_bytes());
            head.extend_from_slice(b"\r\n");
        }
        if self.chunked {
            head.extend_from_slice(b"transfer-encoding: chunked\r\n");
        }
        head.extend_from_slice(b"connection: close\r\n\r\n");
        self.io.write_all(&head).await?;
        drop(head);

        // The client sends nothing more on this connection; reading tells when it closes.
        let mut ignored = [0u8; 64];
        loop {
            let frame = tokio::select! {
                frame = body.frame() => frame,
                read = self.io.read(&mut ignored) => match read {
                    Ok(0) | Err(_) => return Ok(()),
                    Ok(_) => continue,
                },
            };
            match frame {
                None => break,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.data(data).await?;
                    }
                }
                Some(Err(error)) => {
                    // Ending without the last chunk tells the client the body is cut short.
                    tracing::debug!(%error, "a detached body failed");
                    return self.io.shutdown().await;
                }
            }
        }
        if self.chunked {
            self.io.write_all(b"0\r\n\r\n").await?;
        }
        self.io.shutdown().await
    }

    /// Writes one chunk in one vectored write: size line, data and line end together. The
    /// data is not copied: a stream that waits on a full socket holds only its share of a
    /// frame the room's log holds anyway.
    async fn data(&mut self, data: Bytes) -> std::io::Result<()> {
        use bytes::Buf as _;
        if data.is_empty() {
            return Ok(());
        }
        if !self.chunked {
            return self.io.write_all(&data).await;
        }
        let size = Bytes::from(format!("{:x}\r\n", data.len()));
        let mut chunk = size.chain(data).chain(Bytes::from_static(b"\r\n"));
        self.io.write_all_buf(&mut chunk).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncBufReadExt, BufReader};

    /// A router with a plain route and a detachable stream of three frames that then waits
    /// for `end`.
    fn router(end: CancellationToken) -> Router {
        Router::new()
            .route("/plain", get(|| async { "plain" }))
            .route(
                "/stream",
                get(move || {
                    let end = end.clone();
                    async move {
                        let frames =
                            futures_util::stream::iter(["one", "two", "three"].map(|f| {
                                Ok::<_, Infallible>(Bytes::from(format!("data: {f}\n\n")))
                            }));
                        let tail = futures_util::stream::once(async move {
                            end.cancelled().await;
                            Ok::<_, Infallible>(Bytes::from_static(b"data: end\n\n"))
                        });
                        let mut response = Response::new(Body::from_stream(
                            futures_util::StreamExt::chain(frames, tail),
                        ));
                        response.headers_mut().insert(
                            header::CONTENT_TYPE,
                            header::HeaderValue::from_static("text/event-stream"),
                        );
                        response.extensions_mut().insert(Detachable);
                        response
                    }
                }),
            )
    }

    async fn start(end: CancellationToken) -> (SocketAddr, CancellationToken) {
        start_with(end, TIMEOUTS).await
    }

    async fn start_with(
        end: CancellationToken,
        timeouts: Timeouts,
    ) -> (SocketAddr, CancellationToken) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        tokio::spawn(serve_with(listener, router(end), stop.clone(), timeouts));
        (addr, stop)
    }

    /// Short deadlines for tests: 300 ms for a head, 1.5 s between requests.
    const SHORT: Timeouts = Timeouts {
        head: Duration::from_millis(300),
        idle: Duration::from_millis(1500),
    };

    /// Sends GET /plain on the connection and reads the whole answer.
    async fn plain<R: AsyncBufReadExt + Unpin, W: AsyncWrite + Unpin>(
        reader: &mut R,
        write: &mut W,
    ) {
        write
            .write_all(b"GET /plain HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let lines = head(reader).await;
        assert!(lines[0].starts_with("HTTP/1.1 200"), "{lines:?}");
        let mut body = [0u8; 5];
        reader.read_exact(&mut body).await.unwrap();
        assert_eq!(&body, b"plain");
    }

    /// Waits for the server to close the connection, for at most `limit`.
    async fn closed<R: AsyncRead + Unpin>(reader: &mut R, limit: Duration) -> bool {
        let mut rest = Vec::new();
        matches!(
            tokio::time::timeout(limit, reader.read_to_end(&mut rest)).await,
            Ok(Ok(0)) | Ok(Err(_))
        )
    }

    #[tokio::test]
    async fn a_kept_alive_connection_outlasts_the_head_deadline_and_closes_after_the_idle_one() {
        let (addr, _stop) = start_with(CancellationToken::new(), SHORT).await;
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (read, mut write) = tcp.into_split();
        let mut reader = BufReader::new(read);
        plain(&mut reader, &mut write).await;
        // Silent for twice the head deadline: still open, as a load balancer expects.
        tokio::time::sleep(SHORT.head * 2).await;
        plain(&mut reader, &mut write).await;
        let quiet = std::time::Instant::now();
        assert!(
            closed(&mut reader, SHORT.idle * 3).await,
            "closed after the idle deadline"
        );
        assert!(
            quiet.elapsed() >= SHORT.idle,
            "not before it: {:?}",
            quiet.elapsed()
        );
    }

    #[tokio::test]
    async fn a_request_head_sent_too_slowly_is_cut_off() {
        let (addr, _stop) = start_with(CancellationToken::new(), SHORT).await;
        // A new connection that sends nothing.
        let silent = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (mut silent_read, _silent_write) = silent.into_split();
        // One that sends half a head, after a request.
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (read, mut write) = tcp.into_split();
        let mut reader = BufReader::new(read);
        plain(&mut reader, &mut write).await;
        write.write_all(b"GET /plain HTTP/1.1\r\nho").await.unwrap();
        let started = std::time::Instant::now();
        assert!(
            closed(&mut reader, SHORT.idle).await,
            "half a head is cut off"
        );
        assert!(
            started.elapsed() < SHORT.idle,
            "at the head deadline, not the idle one"
        );
        assert!(
            closed(&mut silent_read, SHORT.idle).await,
            "so is a connection that never sends"
        );
    }

    #[tokio::test]
    async fn a_detached_stream_has_no_deadline() {
        let end = CancellationToken::new();
        let (addr, _stop) = start_with(end.clone(), SHORT).await;
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        tokio::time::sleep(SHORT.idle * 2).await;
        end.cancel();
        let mut all = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut all))
            .await
            .expect("the stream ends when told")
            .unwrap();
        let all = String::from_utf8(all).unwrap();
        assert!(all.ends_with("data: end\n\n\r\n0\r\n\r\n"), "{all}");
    }

    /// Reads one response head; returns its lines.
    async fn head<R: AsyncBufReadExt + Unpin>(reader: &mut R) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).await.unwrap();
            let line = line.trim_end().to_owned();
            if line.is_empty() {
                return lines;
            }
            lines.push(line);
        }
    }

    #[tokio::test]
    async fn a_stream_after_a_request_on_the_same_connection_is_written_in_chunks_then_closed() {
        let end = CancellationToken::new();
        let (addr, _stop) = start(end.clone()).await;
        let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        let (read, mut write) = tcp.into_split();
        let mut reader = BufReader::new(read);

        // First a plain request, kept alive by hyper.
        write
            .write_all(b"GET /plain HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let plain = head(&mut reader).await;
        assert!(plain[0].starts_with("HTTP/1.1 200"), "{plain:?}");
        let mut body = [0u8; 5];
        reader.read_exact(&mut body).await.unwrap();
        assert_eq!(&body, b"plain");

        // Then the stream, on the same connection: it leaves hyper.
        write
            .write_all(b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let stream = head(&mut reader).await;
        assert_eq!(stream[0], "HTTP/1.1 200 OK");
        assert!(stream.contains(&"content-type: text/event-stream".to_owned()));
        assert!(stream.contains(&"transfer-encoding: chunked".to_owned()));
        assert!(stream.contains(&"connection: close".to_owned()));
        let mut chunks = Vec::new();
        for _ in 0..3 {
            let mut size = String::new();
            reader.read_line(&mut size).await.unwrap();
            let size = usize::from_str_radix(size.trim_end(), 16).unwrap();
            let mut data = vec![0u8; size + 2];
            reader.read_exact(&mut data).await.unwrap();
            assert_eq!(&data[size..], b"\r\n");
            chunks.push(String::from_utf8(data[..size].to_vec()).unwrap());
        }
        assert_eq!(
            chunks,
            ["data: one\n\n", "data: two\n\n", "data: three\n\n"]
        );
        end.cancel();
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest).await.unwrap();
        assert_eq!(
            rest, b"b\r\ndata: end\n\n\r\n0\r\n\r\n",
            "the last chunk, then EOF"
        );
    }

    #[tokio::test]
    async fn an_http_10_stream_is_ended_by_closing_the_connection() {
        let end = CancellationToken::new();
        end.cancel();
        let (addr, _stop) = start(end).await;
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET /stream HTTP/1.0\r\n\r\n")
            .await
            .unwrap();
        let mut all = String::new();
        tcp.read_to_string(&mut all).await.unwrap();
        let (head, body) = all.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.0 200 OK"), "{head}");
        assert!(!head.contains("transfer-encoding"), "{head}");
        assert_eq!(
            body,
            "data: one\n\ndata: two\n\ndata: three\n\ndata: end\n\n"
        );
    }

    #[tokio::test]
    async fn serving_stops_once_every_connection_is_done() {
        let end = CancellationToken::new();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        let server = tokio::spawn(serve(listener, router(end.clone()), stop.clone()));
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(b"GET /stream HTTP/1.1\r\nhost: x\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 12];
        tcp.read_exact(&mut first).await.unwrap();
        stop.cancel();
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!server.is_finished(), "waits for the open stream");
        end.cancel();
        tokio::time::timeout(Duration::from_secs(5), server)
            .await
            .expect("stops once the stream ends")
            .unwrap();
    }
}
