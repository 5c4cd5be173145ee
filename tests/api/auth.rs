//! Organizer authentication: login, the cookie and its CSRF protection, API tokens, logout,
//! and the rate limit on login attempts.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{PASSWORD, TestApp, assert_envelope, json};

both_backends!(
    login_returns_a_token_and_sets_a_safe_cookie,
    wrong_credentials_get_one_answer_whatever_was_wrong,
    repeated_failed_logins_are_rate_limited,
    the_cookie_needs_the_csrf_token_to_change_anything,
    api_tokens_work_until_revoked_and_logout_ends_a_login
);

async fn login_returns_a_token_and_sets_a_safe_cookie(db: TestDb) {
    let app = TestApp::spawn(db).await;
    conflicto::organizers::create(app.state.store.as_ref(), "ada@example.org", PASSWORD, false)
        .await
        .unwrap();
    let response = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "ADA@example.org", "password": PASSWORD})),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.starts_with("conflicto_session=cfo_"), "{cookie}");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    let body = json(response).await;
    assert!(body["token"].as_str().unwrap().starts_with("cfo_"));
    assert_eq!(body["organizer"]["email"], "ada@example.org");
    assert!(body["csrf_token"].is_string());

    let me = app
        .call(
            Method::GET,
            "/api/v1/auth/me",
            Some(body["token"].as_str().unwrap()),
            None,
        )
        .await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(json(me).await["organizer"]["email"], "ada@example.org");
}

async fn wrong_credentials_get_one_answer_whatever_was_wrong(db: TestDb) {
    let app = TestApp::spawn(db).await;
    conflicto::organizers::create(app.state.store.as_ref(), "ada@example.org", PASSWORD, false)
        .await
        .unwrap();
    for (email, password) in [
        ("ada@example.org", "wrong password!"),
        ("nobody@example.org", PASSWORD),
        ("not an email", PASSWORD),
    ] {
        let response = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{email}");
        assert_envelope(&json(response).await, "invalid_credentials");
    }
    let missing = app.call(Method::GET, "/api/v1/sessions/", None, None).await;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    let bogus = app
        .call(
            Method::GET,
            "/api/v1/sessions/",
            Some("cfo_not-a-real-token"),
            None,
        )
        .await;
    assert_eq!(bogus.status(), StatusCode::UNAUTHORIZED);
}

async fn repeated_failed_logins_are_rate_limited(db: TestDb) {
    let app = TestApp::spawn(db).await;
    conflicto::organizers::create(app.state.store.as_ref(), "ada@example.org", PASSWORD, false)
        .await
        .unwrap();
    let mut limited = None;
    for attempt in 0..12 {
        let response = app
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"email": "ada@example.org", "password": "guess guess guess"})),
            )
            .await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some((attempt, response));
            break;
        }
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let (attempt, response) = limited.expect("login attempts are limited");
    assert!(
        attempt >= 5,
        "the first few attempts are allowed ({attempt})"
    );
    assert!(response.headers().contains_key("retry-after"));
    assert_envelope(&json(response).await, "rate_limited");
    // Even the right password waits now: guessing cannot race the limit.
    let right = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "ada@example.org", "password": PASSWORD})),
        )
        .await;
    assert_eq!(right.status(), StatusCode::TOO_MANY_REQUESTS);
}

async fn the_cookie_needs_the_csrf_token_to_change_anything(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let me = json(
        app.call(Method::GET, "/api/v1/auth/me", Some(&host.token), None)
            .await,
    )
    .await;
    let csrf = me["csrf_token"].as_str().unwrap().to_owned();
    let cookie = format!("conflicto_session={}", host.token);

    let read = app
        .client
        .get(app.url("/api/v1/sessions/"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        read.status(),
        StatusCode::OK,
        "reading with the cookie needs no CSRF token"
    );

    let forged = app
        .client
        .post(app.url("/api/v1/sessions/"))
        .header("cookie", &cookie)
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert_envelope(&json(forged).await, "csrf_failed");

    let wrong = app
        .client
        .post(app.url("/api/v1/sessions/"))
        .header("cookie", &cookie)
        .header("x-csrf-token", "AAAA")
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);

    let good = app
        .client
        .post(app.url("/api/v1/sessions/"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(good.status(), StatusCode::CREATED);
}

async fn api_tokens_work_until_revoked_and_logout_ends_a_login(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/auth/tokens",
            Some(&host.token),
            Some(json!({"name": "ci script", "expires_in_days": 30})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = json(created).await;
    let script = created["token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.call(Method::GET, "/api/v1/sessions/", Some(&script), None)
            .await
            .status(),
        StatusCode::OK
    );

    let listed = json(
        app.call(Method::GET, "/api/v1/auth/tokens", Some(&host.token), None)
            .await,
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(
        listed["items"][0].get("token").is_none(),
        "the secret is never listed"
    );

    let id = created["id"].as_str().unwrap();
    let revoked = app
        .call(
            Method::DELETE,
            &format!("/api/v1/auth/tokens/{id}"),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.call(Method::GET, "/api/v1/sessions/", Some(&script), None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );

    let bad_name = app
        .call(
            Method::POST,
            "/api/v1/auth/tokens",
            Some(&host.token),
            Some(json!({"name": ""})),
        )
        .await;
    assert_eq!(bad_name.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let logout = app
        .call(Method::POST, "/api/v1/auth/logout", Some(&host.token), None)
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert!(
        logout.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    assert_eq!(
        app.call(Method::GET, "/api/v1/auth/me", Some(&host.token), None)
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
}
