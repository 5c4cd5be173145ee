//! Company sign-in against a real OpenID Provider: panva's certified `oidc-provider`, run by
//! Node from tests/oidc (scripts/test.sh installs it). Each case starts its own provider.
//! Covered: the account made at the first sign-in, who may sign in (domain, group, verified
//! email, existing accounts only, disabled), a wrong issuer, a code issued to another client,
//! an expired ID token, and a state replayed or brought by another browser.

use conflicto::config::OidcConfig;
use reqwest::{StatusCode, Url};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::oidc::{CLIENT_ID, Provider, client, config, provider_available};
use crate::common::{TestDb, free_port};
use crate::helpers::{PASSWORD, TestApp, json};

both_backends!(
    a_first_company_sign_in_makes_the_account_and_the_next_finds_it,
    who_may_sign_in_is_decided_by_domain_group_and_verified_email,
    a_provider_naming_another_issuer_is_refused,
    a_code_issued_to_another_client_is_refused,
    an_expired_id_token_is_refused,
    a_state_works_once_and_only_in_its_browser
);

/// An app with company sign-in against a provider on `port`, and that provider.
async fn app_and_provider(
    db: TestDb,
    skew_seconds: i64,
    adjust: impl FnOnce(&mut OidcConfig),
) -> Option<(TestApp, Provider)> {
    if !provider_available() {
        return None;
    }
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let mut oidc = config(&issuer);
    adjust(&mut oidc);
    let app = TestApp::spawn_with(db, |c| c.oidc = Some(oidc), axum::Router::new()).await;
    let clients = json!([client(&app.base, CLIENT_ID), client(&app.base, "intruder")]);
    let provider = Provider::start(port, &issuer, &clients, skew_seconds);
    Some((app, provider))
}

/// A browser: keeps cookies, follows no redirect by itself.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Starts a company sign-in as `who` towards `next` and follows the redirects, `tamper`
/// having changed the authorization URL, up to the callback the provider sends the browser
/// to, which it does not open. `Err` is where the app sent the browser at once instead.
async fn to_callback(
    app: &TestApp,
    browser: &reqwest::Client,
    who: &str,
    next: &str,
    tamper: impl FnOnce(Url) -> Url,
) -> Result<Url, String> {
    let start = browser
        .get(app.url(&format!("/auth/oidc/start?next={next}")))
        .send()
        .await
        .unwrap();
    let location = start.headers()["location"].to_str().unwrap().to_owned();
    if location.starts_with("/login") {
        return Err(location);
    }
    let mut url = Url::parse(&location).unwrap();
    url.query_pairs_mut().append_pair("login_hint", who);
    let mut url = tamper(url);
    for _ in 0..10 {
        if url.path() == "/auth/oidc/callback" {
            return Ok(url);
        }
        let response = browser.get(url.clone()).send().await.unwrap();
        let Some(next) = response.headers().get("location") else {
            panic!("{url} answered {} without a redirect", response.status());
        };
        url = url.join(next.to_str().unwrap()).unwrap();
    }
    panic!("the sign-in went round in circles");
}

/// One company sign-in as `who`: the callback URL the provider sent the browser to, and
/// where the app sent it from there. `tamper` may change the authorization URL.
async fn sign_in(
    app: &TestApp,
    browser: &reqwest::Client,
    who: &str,
    tamper: impl FnOnce(Url) -> Url,
) -> (Option<String>, String) {
    let callback = match to_callback(app, browser, who, "/organizer/templates", tamper).await {
        Ok(callback) => callback,
        Err(location) => return (None, location),
    };
    let response = browser.get(callback.clone()).send().await.unwrap();
    let landed = response.headers()["location"].to_str().unwrap().to_owned();
    (Some(callback.to_string()), landed)
}

async fn me(app: &TestApp, browser: &reqwest::Client) -> (StatusCode, Value) {
    let response = browser
        .get(app.url("/api/v1/auth/me"))
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, json(response).await)
}

async fn a_first_company_sign_in_makes_the_account_and_the_next_finds_it(db: TestDb) {
    let Some((app, _provider)) = app_and_provider(db, 0, |_| {}).await else {
        return;
    };
    let login_page = app.get("/login").await.text().await.unwrap();
    assert!(login_page.contains("Sign in with Corp SSO"), "{login_page}");

    let first = browser();
    let (callback, landed) = sign_in(&app, &first, "ada@corp.example", |u| u).await;
    assert!(callback.is_some());
    assert_eq!(
        landed, "/organizer/templates",
        "back where the sign-in started"
    );
    let (status, body) = me(&app, &first).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["organizer"]["email"], "ada@corp.example");
    assert_eq!(body["organizer"]["is_admin"], false);
    let id = body["organizer"]["id"].clone();

    let second = browser();
    sign_in(&app, &second, "ada@corp.example", |u| u).await;
    let (_, again) = me(&app, &second).await;
    assert_eq!(
        again["organizer"]["id"], id,
        "the same account, not a second one"
    );
    let organizers = app.state.store.list_organizers().await.unwrap();
    assert_eq!(organizers.len(), 1);

    // An existing password account with that email is the one signed in to.
    app.host("grace@corp.example", false).await;
    let third = browser();
    sign_in(&app, &third, "grace@corp.example", |u| u).await;
    assert_eq!(
        me(&app, &third).await.1["organizer"]["email"],
        "grace@corp.example"
    );
    let password = app
        .call(
            reqwest::Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "grace@corp.example", "password": PASSWORD})),
        )
        .await;
    assert_eq!(
        password.status(),
        StatusCode::OK,
        "the password still works"
    );
}

async fn who_may_sign_in_is_decided_by_domain_group_and_verified_email(db: TestDb) {
    let Some((app, _provider)) = app_and_provider(db, 0, |_| {}).await else {
        return;
    };
    for (who, expected) in [
        ("bob@other.example", "/login?failed=not_allowed"),
        ("unverified@corp.example", "/login?failed=not_allowed"),
        ("staff@other.example", "/organizer/templates"),
    ] {
        let (_, landed) = sign_in(&app, &browser(), who, |u| u).await;
        assert_eq!(landed, expected, "{who}");
    }
    let page = app
        .get("/login?failed=not_allowed")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("may not sign in here"), "{page}");

    let (organizer, _) = app
        .state
        .store
        .organizer_by_email("staff@other.example")
        .await
        .unwrap()
        .unwrap();
    app.state
        .store
        .set_organizer_disabled(organizer.id, Some(chrono::Utc::now()))
        .await
        .unwrap();
    let (_, landed) = sign_in(&app, &browser(), "staff@other.example", |u| u).await;
    assert_eq!(landed, "/login?failed=disabled");
}

async fn a_provider_naming_another_issuer_is_refused(db: TestDb) {
    // The app is told the issuer is http://localhost:PORT; the provider there says it is
    // http://127.0.0.1:PORT. Discovery must match exactly, so nobody signs in.
    let Some((app, _provider)) = app_and_provider(db, 0, |c| {
        let port = c.issuer.port().unwrap();
        c.issuer = format!("http://localhost:{port}").parse().unwrap();
    })
    .await
    else {
        return;
    };
    let (callback, landed) = sign_in(&app, &browser(), "ada@corp.example", |u| u).await;
    assert_eq!(callback, None);
    assert_eq!(landed, "/login?failed=unavailable");
    assert!(app.state.store.list_organizers().await.unwrap().is_empty());
}

async fn a_code_issued_to_another_client_is_refused(db: TestDb) {
    let Some((app, _provider)) = app_and_provider(db, 0, |_| {}).await else {
        return;
    };
    // Another application of the same provider gets the code (its audience), and the code
    // is brought to this app's callback: the provider will not redeem it for this client.
    let (callback, landed) = sign_in(&app, &browser(), "ada@corp.example", |url| {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if k == "client_id" {
                    "intruder".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        let mut url = url.clone();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        url
    })
    .await;
    assert!(
        callback.is_some(),
        "the provider sent a code to the callback"
    );
    assert_eq!(landed, "/login?failed=refused");
    assert!(app.state.store.list_organizers().await.unwrap().is_empty());
}

async fn an_expired_id_token_is_refused(db: TestDb) {
    // The provider's clock runs two hours behind: what it signs expired long ago.
    let Some((app, _provider)) = app_and_provider(db, -7200, |_| {}).await else {
        return;
    };
    let (callback, landed) = sign_in(&app, &browser(), "ada@corp.example", |u| u).await;
    assert!(callback.is_some());
    assert_eq!(landed, "/login?failed=refused");
    assert!(app.state.store.list_organizers().await.unwrap().is_empty());
}

async fn a_state_works_once_and_only_in_its_browser(db: TestDb) {
    let Some((app, provider)) = app_and_provider(db, 0, |_| {}).await else {
        return;
    };
    let first = browser();
    let (callback, landed) = sign_in(&app, &first, "ada@corp.example", |u| u).await;
    assert_eq!(landed, "/organizer/templates");
    let callback = callback.unwrap();
    let state = Url::parse(&callback)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.into_owned())
        .unwrap();

    // The same callback again, with the state's cookie put back: refused.
    let replay = app
        .client
        .get(&callback)
        .header("cookie", format!("conflicto_oidc={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(replay.headers()["location"], "/login?failed=state");

    // A callback opened in another browser (a link someone was sent) signs nobody in, and
    // the state is gone for its own browser too.
    let own = browser();
    let callback = to_callback(&app, &own, "ada@corp.example", "/organizer", |u| u)
        .await
        .expect("the provider sent the browser back");
    let stranger = browser().get(callback.clone()).send().await.unwrap();
    assert_eq!(stranger.headers()["location"], "/login?failed=state");
    let late = own.get(callback).send().await.unwrap();
    assert_eq!(late.headers()["location"], "/login?failed=state");
    assert_eq!(me(&app, &own).await.0, StatusCode::UNAUTHORIZED);

    // The provider saying no (the person cancelled) is a refusal, not an error page.
    let denied = app
        .client
        .get(app.url("/auth/oidc/callback?error=access_denied&state=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.headers()["location"], "/login?failed=refused");
    drop(provider);
}
