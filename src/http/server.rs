//! The HTTP/1 server: hyper serves every connection, except that a live event stream leaves
//! hyper once its response is ready. Then [`Detached`] writes the stream to the socket
//! itself.
//!
//! Why: hyper keeps two buffers of at least 8 KiB each (reading, and the response head) for
//! as long as a connection is open, and `max_buf_size` cannot go below that. An event
//! stream stays open for the whole event, so those 16 KiB per phone were most of what
//! 19,000 phones cost (docs/performance.md, "Memory"). After the hand-over the connection
//! holds only its socket, the stream's state and whatever frame is being written.
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

use std::convert::Infallible;
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
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
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

use crate::http::connections::Peer;

/// Marks a response whose body the connection writes itself, outside hyper (see the module
/// documentation). Only the live event stream uses it.
#[derive(Debug, Clone, Copy)]
pub struct Detachable;

/// How long a new connection may take to send its request head (slow-loris guard).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Accepts connections until `stop` is cancelled, then waits for the open ones: hyper
/// finishes the request in flight on each, and detached streams end when the live streams
/// are told to (the app cancels them when it starts to drain).
pub async fn serve<L>(mut listener: L, router: Router, stop: CancellationToken)
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
        connections.spawn(connection(io, peer, router.clone(), stop.clone()));
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

async fn connection<I>(io: I, peer: SocketAddr, router: Router, stop: CancellationToken)
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let slot = Arc::new(Slot::default());
    let service = {
        let slot = slot.clone();
        hyper::service::service_fn(move |request: Request<Incoming>| {
            let router = router.clone();
            let slot = slot.clone();
            async move {
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
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
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
    let io = conn.into_parts().io.into_inner();
    if let Err(error) = Detached::new(io, hand_over.version)
        .write(hand_over.response)
        .await
    {
        tracing::debug!(%error, "a detached stream ended with an error");
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

    /// Writes one chunk in one write: size line, data and line end together.
    async fn data(&mut self, data: Bytes) -> std::io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        if !self.chunked {
            return self.io.write_all(&data).await;
        }
        let mut chunk = Vec::with_capacity(data.len() + 12);
        write!(chunk, "{:x}\r\n", data.len())?;
        chunk.extend_from_slice(&data);
        chunk.extend_from_slice(b"\r\n");
        self.io.write_all(&chunk).await
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = CancellationToken::new();
        tokio::spawn(serve(listener, router(end), stop.clone()));
        (addr, stop)
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
