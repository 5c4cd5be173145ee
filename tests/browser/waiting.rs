//! The phone when the server asks it to wait: a proxy in front of the real server answers
//! 429 and 503 on purpose (with `Retry-After`) to joins, the live stream and answers. The
//! phone says "joining…" and "sending…" instead of an error, honours the wait, and gets
//! in, follows the session and has its vote stored once, all without a reload.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use parking_lot::Mutex;
use serde_json::json;

use crate::common::TestDb;
use crate::driver::Driver;
use crate::helpers::TestApp;

/// What the proxy refuses next.
#[derive(Default)]
struct Faults {
    /// Joins answered 429 before one goes through.
    joins: AtomicU32,
    /// Stream opens answered 503.
    streams: AtomicU32,
    /// Answers are answered 503 until then.
    answers_until: Mutex<Option<Instant>>,
    /// Answers that reached the server.
    answers_passed: AtomicU32,
}

struct Proxy {
    upstream: String,
    client: reqwest::Client,
    faults: Faults,
}

fn refuse(status: StatusCode, code: &str) -> Response {
    let body = json!({"error": {"code": code, "message": "wait, on purpose", "details": {"retry_after_seconds": 1}}});
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("retry-after", HeaderValue::from_static("1"));
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

fn take(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

async fn forward(State(proxy): State<Arc<Proxy>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let post = request.method() == Method::POST;
    if post && path.ends_with("/join") && take(&proxy.faults.joins) {
        return refuse(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    }
    if path.ends_with("/events") && take(&proxy.faults.streams) {
        return refuse(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
    }
    if post && path.ends_with("/responses") {
        if proxy
            .faults
            .answers_until
            .lock()
            .is_some_and(|until| Instant::now() < until)
        {
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "not_ready");
        }
        proxy.faults.answers_passed.fetch_add(1, Ordering::SeqCst);
    }
    let url = format!(
        "{}{}",
        proxy.upstream,
        request.uri().path_and_query().map_or("/", |p| p.as_str())
    );
    let method = request.method().clone();
    let mut headers = request.headers().clone();
    headers.remove("host");
    let body = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let upstream = proxy
        .client
        .request(method, url)
        .headers(headers)
        .body(body)
        .send()
        .await
        .expect("the server answers");
    let status = upstream.status();
    let headers = upstream.headers().clone();
    let mut response = Response::new(Body::from_stream(upstream.bytes_stream()));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if name != "transfer-encoding" && name != "content-length" {
            response.headers_mut().insert(name, value.clone());
        }
    }
    response
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_phone_waits_politely_and_loses_nothing() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let host = app.host("ada@example.org", false).await;
    let (session, code) = app.open_session(&host, None).await;
    let poll = app
        .poll(
            &host,
            &session,
            json!({"question": "Lunch?", "options": ["Pizza", "Sushi"]}),
            json!({}),
        )
        .await;
    app.transition(&host, &poll, "active").await;

    let proxy = Arc::new(Proxy {
        upstream: app.base.clone(),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        faults: Faults::default(),
    });
    proxy.faults.joins.store(3, Ordering::SeqCst);
    proxy.faults.streams.store(2, Ordering::SeqCst);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let router = axum::Router::new()
        .fallback(forward)
        .with_state(proxy.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });

    // Joining meets three 429s: the phone says it is joining, and gets in.
    let phone = driver.phone("waiting").await;
    phone.goto(&format!("{base}/join/{code}")).await;
    phone.wait_text("#session-found", "Test event").await;
    phone.fill("#nickname", "Patient").await;
    phone.click("#join-form button[type=submit]").await;
    phone.wait_text("#join-wait", "Joining").await;
    phone.shot("40-phone-joining").await;
    assert_eq!(
        phone.text("#nickname-error").await,
        "",
        "no error while waiting"
    );
    assert_eq!(
        phone.text("#code-error").await,
        "",
        "no error while waiting"
    );
    // Two 503s on the stream are waited out too; then the poll shows.
    phone.wait_text(".who", "You are Patient").await;
    phone.wait_text(".conn", "live").await;
    phone.wait_for("#poll-0").await;
    assert_eq!(proxy.faults.joins.load(Ordering::SeqCst), 0);
    assert_eq!(proxy.faults.streams.load(Ordering::SeqCst), 0);

    // The vote meets 503s for four seconds: "sending…", then stored, once.
    *proxy.faults.answers_until.lock() = Some(Instant::now() + Duration::from_secs(4));
    phone.click("#poll-1").await;
    phone.click(".answer button[type=submit]").await;
    phone.wait_text(".notice.sending", "Sending").await;
    phone.shot("41-phone-sending").await;
    phone.check_accessibility("phone-sending").await;
    assert_eq!(
        phone
            .js(
                "return !!document.querySelector('.notice.error.sending:not([hidden])');",
                vec![]
            )
            .await,
        json!(false),
        "no error before 30 s"
    );
    phone.wait_text(".notice.ok", "Your vote is counted").await;
    phone.wait_gone(".notice.sending").await;
    let results = app.results(&host.token, &poll).await;
    assert_eq!(results["total_voters"], 1);
    assert_eq!(results["options"][1]["count"], 1, "{results}");
    assert!(
        proxy.faults.answers_passed.load(Ordering::SeqCst) >= 1,
        "the answer went through the proxy"
    );
    let pending = phone
        .js(
            "return localStorage.getItem(arguments[0]);",
            vec![json!(format!("conflicto.pending.{code}"))],
        )
        .await;
    assert_eq!(pending, serde_json::Value::Null, "nothing left to send");

    // Refused for longer than 30 s: the phone says so, keeps the answer, and sends it when
    // the server takes it again.
    *proxy.faults.answers_until.lock() = Some(Instant::now() + Duration::from_secs(36));
    phone.click("#poll-0").await;
    phone.click(".answer button[type=submit]").await;
    phone.wait_text(".notice.sending", "Sending").await;
    let kept = phone
        .js(
            "return localStorage.getItem(arguments[0]);",
            vec![json!(format!("conflicto.pending.{code}"))],
        )
        .await;
    assert!(
        kept.as_str().is_some_and(|k| k.contains("\"options\":[0]")),
        "kept on the phone: {kept}"
    );
    tokio::time::sleep(Duration::from_secs(28)).await;
    phone
        .wait_text(".notice.error.sending", "Not sent yet")
        .await;
    phone.shot("42-phone-not-sent-yet").await;
    phone.wait_text(".notice.ok", "Your vote is counted").await;
    phone.wait_gone(".notice.sending").await;
    let results = app.results(&host.token, &poll).await;
    assert_eq!(results["total_voters"], 1, "{results}");
    assert_eq!(
        results["options"][0]["count"], 1,
        "the changed vote, once: {results}"
    );
    phone.close().await;
}
