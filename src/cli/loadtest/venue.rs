//! "Venue Wi-Fi" (`--venue-wifi`): the phones reach the servers through a proxy on
//! 127.0.0.1 that delays every chunk of bytes, in each direction, by 150 ± 50 ms, and holds
//! 2 % of them a further 200–1,000 ms, as a TCP retransmission on a lossy network would.
//! Chunks stay in order, so a held chunk holds up everything behind it, as on TCP. This
//! stands in for `tc netem`, which these machines' kernel lacks.

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use rand::Rng;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// Delay of every chunk, each way.
const DELAY: Duration = Duration::from_millis(150);
/// Up to this much more or less.
const JITTER: Duration = Duration::from_millis(50);
/// The share of chunks held as if lost and sent again.
const HELD: f64 = 0.02;
/// How long a held chunk waits beyond its delay, at least and at most.
const HOLD: (Duration, Duration) = (Duration::from_millis(200), Duration::from_millis(1000));

/// What the report says of the link.
pub const DESCRIPTION: &str =
    "every chunk delayed 150 ± 50 ms each way, 2 % held 200–1,000 ms more";

/// The plan with its servers behind proxies, when it asks for venue Wi-Fi.
pub async fn routed(mut plan: super::phones::Plan) -> anyhow::Result<super::phones::Plan> {
    if plan.venue_wifi {
        plan.urls = route(&plan.urls).await?;
    }
    Ok(plan)
}

/// Starts one proxy per server and returns the URLs the phones should use instead.
pub async fn route(urls: &[url::Url]) -> anyhow::Result<Vec<url::Url>> {
    let mut routed = Vec::with_capacity(urls.len());
    for url in urls {
        let host = url.host_str().unwrap_or("127.0.0.1");
        let port = url.port_or_known_default().unwrap_or(80);
        let target = tokio::net::lookup_host((host, port))
            .await?
            .next()
            .ok_or_else(|| anyhow::anyhow!("{url}: no address"))?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut proxied = url.clone();
        proxied
            .set_host(Some("127.0.0.1"))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        proxied
            .set_port(Some(listener.local_addr()?.port()))
            .map_err(|()| anyhow::anyhow!("{url}: cannot set a port"))?;
        tokio::spawn(serve(listener, target));
        routed.push(proxied);
    }
    Ok(routed)
}

async fn serve(listener: TcpListener, target: SocketAddr) {
    while let Ok((inbound, _)) = listener.accept().await {
        tokio::spawn(carry(inbound, target));
    }
}

async fn carry(inbound: TcpStream, target: SocketAddr) {
    let Ok(outbound) = TcpStream::connect(target).await else {
        return;
    };
    let _ = inbound.set_nodelay(true);
    let _ = outbound.set_nodelay(true);
    let (from_phone, to_phone) = inbound.into_split();
    let (from_server, to_server) = outbound.into_split();
    tokio::join!(pipe(from_phone, to_server), pipe(from_server, to_phone));
}

/// When a chunk read now arrives: its delay, sometimes a hold, never before the one ahead.
fn arrival(now: Instant, ahead: Instant) -> Instant {
    let mut rng = rand::rng();
    let spread = JITTER.as_secs_f64();
    let mut at =
        now + DELAY - JITTER + Duration::from_secs_f64(rng.random_range(0.0..=2.0 * spread));
    if rng.random_bool(HELD) {
        at +=
            Duration::from_secs_f64(rng.random_range(HOLD.0.as_secs_f64()..=HOLD.1.as_secs_f64()));
    }
    at.max(ahead)
}

/// One direction: a reader that stamps each chunk with its arrival, a writer that delivers
/// it then. The end of the stream travels the same way.
async fn pipe(mut from: OwnedReadHalf, mut to: OwnedWriteHalf) {
    let (chunks, mut arriving) = tokio::sync::mpsc::unbounded_channel::<(Instant, Bytes)>();
    let reader = async move {
        let mut buffer = vec![0_u8; 16 * 1024];
        let mut ahead = Instant::now();
        while let Ok(n) = from.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            ahead = arrival(Instant::now(), ahead);
            if chunks
                .send((ahead, Bytes::copy_from_slice(&buffer[..n])))
                .is_err()
            {
                break;
            }
        }
    };
    let writer = async move {
        while let Some((at, chunk)) = arriving.recv().await {
            tokio::time::sleep_until(at).await;
            if to.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    };
    tokio::join!(reader, writer);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_arrive_in_order_after_their_delay() {
        let now = Instant::now();
        let mut ahead = now;
        for _ in 0..1_000 {
            let at = arrival(now, ahead);
            assert!(at >= ahead, "in order");
            assert!(at >= now + DELAY - JITTER);
            ahead = at;
        }
    }

    #[tokio::test]
    async fn the_proxy_carries_bytes_both_ways_late() {
        let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url: url::Url = format!("http://{}/", server.local_addr().unwrap())
            .parse()
            .unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = server.accept().await.unwrap();
            let mut got = [0_u8; 4];
            socket.read_exact(&mut got).await.unwrap();
            socket.write_all(b"pong").await.unwrap();
        });
        let routed = route(&[url]).await.unwrap();
        let mut phone =
            TcpStream::connect((routed[0].host_str().unwrap(), routed[0].port().unwrap()))
                .await
                .unwrap();
        let sent = Instant::now();
        phone.write_all(b"ping").await.unwrap();
        let mut answer = [0_u8; 4];
        phone.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"pong");
        assert!(
            sent.elapsed() >= 2 * (DELAY - JITTER),
            "{:?}",
            sent.elapsed()
        );
    }
}
