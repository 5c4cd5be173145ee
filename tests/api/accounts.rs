//! The organizer's account: changing the password ends other logins, logins and API
//! tokens are listed with their last use and can be ended, API tokens expire by default and
//! end with the token that made them, an admin's one-time invitation and reset links, a
//! disabled account, and bans that cover the browser.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{PASSWORD, TestApp, assert_envelope, json};

both_backends!(
    changing_the_password_ends_every_other_login,
    logins_and_tokens_are_listed_with_their_last_use_and_can_be_ended,
    api_tokens_expire_by_default_and_revoking_one_revokes_what_it_made,
    an_admin_invitation_works_once_and_expires,
    an_admin_reset_link_sets_a_password_and_ends_every_token,
    a_disabled_organizer_cannot_sign_in_and_loses_every_token,
    a_ban_covers_the_browser_and_the_nickname_for_the_session
);

const NEW_PASSWORD: &str = "purple elephant juggles seven lanterns";

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.call(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
    )
    .await
}

async fn token_of(app: &TestApp, email: &str, password: &str) -> String {
    let response = login(app, email, password).await;
    assert_eq!(response.status(), StatusCode::OK);
    json(response).await["token"].as_str().unwrap().to_owned()
}

async fn status_of(app: &TestApp, token: &str) -> StatusCode {
    app.call(Method::GET, "/api/v1/auth/me", Some(token), None)
        .await
        .status()
}

async fn new_api_token(app: &TestApp, with: &str, body: Value) -> Value {
    let response = app
        .call(Method::POST, "/api/v1/auth/tokens", Some(with), Some(body))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    json(response).await
}

async fn changing_the_password_ends_every_other_login(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let here = app.host("ada@example.org", false).await.token;
    let elsewhere = token_of(&app, "ada@example.org", PASSWORD).await;
    let script = new_api_token(&app, &here, json!({"name": "ci"})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let change = |current: &'static str, new: &'static str| {
        app.call(
            Method::POST,
            "/api/v1/auth/password",
            Some(&here),
            Some(json!({"current_password": current, "new_password": new})),
        )
    };

    let wrong = change("not my password at all", NEW_PASSWORD).await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    assert_envelope(&json(wrong).await, "wrong_password");
    let weak = change(PASSWORD, "password12").await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = json(weak).await;
    assert_envelope(&body, "invalid_field");
    assert_eq!(body["error"]["details"]["field"], "new_password");
    assert_eq!(body["error"]["details"]["rule"], "guessable");
    assert_eq!(status_of(&app, &elsewhere).await, StatusCode::OK);

    assert_eq!(
        change(PASSWORD, NEW_PASSWORD).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        status_of(&app, &here).await,
        StatusCode::OK,
        "this login stays"
    );
    assert_eq!(
        status_of(&app, &elsewhere).await,
        StatusCode::UNAUTHORIZED,
        "every other login ended"
    );
    assert_eq!(
        status_of(&app, &script).await,
        StatusCode::OK,
        "API tokens stay"
    );
    assert_eq!(
        login(&app, "ada@example.org", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "ada@example.org", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn logins_and_tokens_are_listed_with_their_last_use_and_can_be_ended(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let here = app.host("ada@example.org", false).await.token;
    let laptop = token_of(&app, "ada@example.org", PASSWORD).await;
    assert_eq!(status_of(&app, &laptop).await, StatusCode::OK);
    let other = app.host("bob@example.org", false).await.token;

    let listed = json(
        app.call(Method::GET, "/api/v1/auth/logins", Some(&here), None)
            .await,
    )
    .await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{listed}");
    assert_eq!(items.iter().filter(|i| i["current"] == true).count(), 1);
    for item in items {
        assert_eq!(item["last_used_from"], "127.0.0.1", "{item}");
        assert!(item["last_used_at"].is_string(), "{item}");
        assert!(item["expires_at"].is_string(), "{item}");
    }
    let laptop_id = items.iter().find(|i| i["current"] == false).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Bob cannot end Ada's login, and a login is not an API token.
    let foreign = app
        .call(
            Method::DELETE,
            format!("/api/v1/auth/logins/{laptop_id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(foreign.status(), StatusCode::NOT_FOUND);
    assert_envelope(&json(foreign).await, "token_not_found");
    let wrong_kind = app
        .call(
            Method::DELETE,
            format!("/api/v1/auth/tokens/{laptop_id}"),
            Some(&here),
            None,
        )
        .await;
    assert_eq!(wrong_kind.status(), StatusCode::NOT_FOUND);
    assert_eq!(status_of(&app, &laptop).await, StatusCode::OK);

    let ended = app
        .call(
            Method::DELETE,
            format!("/api/v1/auth/logins/{laptop_id}"),
            Some(&here),
            None,
        )
        .await;
    assert_eq!(ended.status(), StatusCode::NO_CONTENT);
    assert_eq!(status_of(&app, &laptop).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app, &here).await, StatusCode::OK);

    // API tokens show where they were last used once they were used.
    let made = new_api_token(&app, &here, json!({"name": "export"})).await;
    assert!(made["last_used_at"].is_null());
    let secret = made["token"].as_str().unwrap();
    assert_eq!(status_of(&app, secret).await, StatusCode::OK);
    let tokens = json(
        app.call(Method::GET, "/api/v1/auth/tokens", Some(&here), None)
            .await,
    )
    .await;
    assert_eq!(tokens["items"][0]["name"], "export");
    assert_eq!(tokens["items"][0]["last_used_from"], "127.0.0.1");
}

async fn api_tokens_expire_by_default_and_revoking_one_revokes_what_it_made(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let here = app.host("ada@example.org", false).await.token;
    let parent = new_api_token(&app, &here, json!({"name": "deploy"})).await;
    let expires: chrono::DateTime<chrono::Utc> =
        parent["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_hours() as f64 / 24.0;
    assert!((89.9..=90.0).contains(&days), "expires in {days} days");
    assert!(parent["parent_id"].is_null(), "made by a login: no parent");

    let parent_secret = parent["token"].as_str().unwrap();
    let child = new_api_token(
        &app,
        parent_secret,
        json!({"name": "child", "expires_in_days": 3650}),
    )
    .await;
    assert_eq!(child["parent_id"], parent["id"]);
    let child_expires: chrono::DateTime<chrono::Utc> =
        child["expires_at"].as_str().unwrap().parse().unwrap();
    // PostgreSQL keeps microseconds, so the stored parent expiry may be a little earlier.
    assert!(
        (expires - child_expires).num_milliseconds().abs() < 1,
        "a child never outlives its parent: {child_expires} vs {expires}"
    );
    let child_secret = child["token"].as_str().unwrap();
    let grandchild = new_api_token(&app, child_secret, json!({"name": "grandchild"})).await;
    let grandchild_secret = grandchild["token"].as_str().unwrap();
    assert_eq!(status_of(&app, grandchild_secret).await, StatusCode::OK);

    let revoked = app
        .call(
            Method::DELETE,
            format!("/api/v1/auth/tokens/{}", parent["id"].as_str().unwrap()),
            Some(&here),
            None,
        )
        .await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    for secret in [parent_secret, child_secret, grandchild_secret] {
        assert_eq!(status_of(&app, secret).await, StatusCode::UNAUTHORIZED);
    }
    let left = json(
        app.call(Method::GET, "/api/v1/auth/tokens", Some(&here), None)
            .await,
    )
    .await;
    assert_eq!(left["items"], json!([]));
}

fn link_secret(link: &Value) -> String {
    let url = link["url"].as_str().unwrap();
    let (page, secret) = url.split_once('#').expect("the secret is in the fragment");
    assert!(page.ends_with("/welcome"), "{url}");
    assert!(secret.starts_with("cfl_"), "{url}");
    secret.to_owned()
}

async fn redeem(app: &TestApp, secret: &str, password: &str) -> reqwest::Response {
    app.call(
        Method::POST,
        "/api/v1/auth/redeem",
        None,
        Some(json!({"token": secret, "password": password})),
    )
    .await
}

async fn an_admin_invitation_works_once_and_expires(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let admin = app.host("root@example.org", true).await.token;
    let plain = app.host("ada@example.org", false).await.token;
    let invite = |token: String, email: &str| {
        let body = json!({"email": email});
        let app = &app;
        async move {
            app.call(
                Method::POST,
                "/api/v1/admin/invitations",
                Some(&token),
                Some(body),
            )
            .await
        }
    };
    let refused = invite(plain.clone(), "new@example.org").await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let taken = invite(admin.clone(), "ADA@example.org").await;
    assert_eq!(taken.status(), StatusCode::CONFLICT);
    assert_envelope(&json(taken).await, "email_taken");

    let made = invite(admin.clone(), "New@Example.org").await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let link = json(made).await;
    assert_eq!(link["email"], "new@example.org");
    assert_eq!(link["purpose"], "invite");
    let secret = link_secret(&link);

    let weak = redeem(&app, &secret, "aaaaaaaaaa").await;
    assert_eq!(weak.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let used = redeem(&app, &secret, NEW_PASSWORD).await;
    assert_eq!(
        used.status(),
        StatusCode::OK,
        "a weak try does not use the link"
    );
    let body = json(used).await;
    assert_eq!(body["organizer"]["email"], "new@example.org");
    assert_eq!(body["organizer"]["is_admin"], false);
    assert_eq!(
        status_of(&app, body["token"].as_str().unwrap()).await,
        StatusCode::OK
    );
    let again = redeem(&app, &secret, NEW_PASSWORD).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
    assert_envelope(&json(again).await, "link_invalid");

    let listed = json(
        app.call(Method::GET, "/api/v1/admin/organizers", Some(&admin), None)
            .await,
    )
    .await;
    let emails: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["root@example.org", "ada@example.org", "new@example.org"]
    );

    // A link is refused once its 72 hours are over.
    let late = json(invite(admin.clone(), "late@example.org").await).await;
    let hash = conflicto::auth::hash_token(&link_secret(&late));
    let after = chrono::Utc::now() + conflicto::organizers::LINK_LIFETIME;
    let outcome = app
        .state
        .store
        .redeem_account_link(&hash, after, "unused", conflicto::ids::OrganizerId::new())
        .await
        .unwrap();
    assert_eq!(outcome, conflicto::storage::Redeemed::Invalid);
    assert_eq!(
        redeem(&app, &link_secret(&late), NEW_PASSWORD)
            .await
            .status(),
        StatusCode::OK,
        "before then it works"
    );
}

async fn an_admin_reset_link_sets_a_password_and_ends_every_token(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let admin = app.host("root@example.org", true).await.token;
    let stolen = app.host("ada@example.org", false).await.token;
    let script = new_api_token(&app, &stolen, json!({"name": "attacker's"})).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = json(
        app.call(Method::GET, "/api/v1/auth/me", Some(&stolen), None)
            .await,
    )
    .await;
    let id = me["organizer"]["id"].as_str().unwrap();
    let unknown = app
        .call(
            Method::POST,
            format!(
                "/api/v1/admin/organizers/{}/reset",
                conflicto::ids::OrganizerId::new()
            ),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_envelope(&json(unknown).await, "organizer_not_found");

    let made = app
        .call(
            Method::POST,
            format!("/api/v1/admin/organizers/{id}/reset"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(made.status(), StatusCode::CREATED);
    let link = json(made).await;
    assert_eq!(link["purpose"], "reset");
    assert_eq!(
        status_of(&app, &stolen).await,
        StatusCode::OK,
        "not before use"
    );

    let used = redeem(&app, &link_secret(&link), NEW_PASSWORD).await;
    assert_eq!(used.status(), StatusCode::OK);
    assert_eq!(json(used).await["organizer"]["id"], id);
    assert_eq!(status_of(&app, &stolen).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status_of(&app, &script).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login(&app, "ada@example.org", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login(&app, "ada@example.org", NEW_PASSWORD).await.status(),
        StatusCode::OK
    );
}

async fn a_disabled_organizer_cannot_sign_in_and_loses_every_token(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let token = app.host("ada@example.org", false).await.token;
    let (organizer, _) = app
        .state
        .store
        .organizer_by_email("ada@example.org")
        .await
        .unwrap()
        .unwrap();
    let store = app.state.store.as_ref();
    assert!(
        store
            .set_organizer_disabled(organizer.id, Some(chrono::Utc::now()))
            .await
            .unwrap()
    );
    assert_eq!(status_of(&app, &token).await, StatusCode::UNAUTHORIZED);
    let refused = login(&app, "ada@example.org", PASSWORD).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert_envelope(&json(refused).await, "account_disabled");
    let wrong = login(&app, "ada@example.org", "a wrong password here").await;
    assert_eq!(
        wrong.status(),
        StatusCode::UNAUTHORIZED,
        "a wrong password learns nothing"
    );

    assert!(
        store
            .set_organizer_disabled(organizer.id, None)
            .await
            .unwrap()
    );
    assert_eq!(
        login(&app, "ada@example.org", PASSWORD).await.status(),
        StatusCode::OK
    );
    assert!(store.delete_organizer(organizer.id).await.unwrap());
    assert_eq!(
        login(&app, "ada@example.org", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

/// Joins with the given browser cookie (or none); returns the status, the body, and the
/// browser cookie the server set, if any.
async fn join_from(
    app: &TestApp,
    session: &str,
    nickname: &str,
    browser: Option<&str>,
) -> (StatusCode, Value, Option<String>) {
    let mut request = app
        .client
        .post(app.url(&format!("/api/v1/sessions/{session}/join")))
        .json(&json!({"nickname": nickname}));
    if let Some(browser) = browser {
        request = request.header("cookie", format!("conflicto_browser={browser}"));
    }
    let response = request.send().await.unwrap();
    let set = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("conflicto_browser="))
        .map(|v| v.split(';').next().unwrap().to_owned());
    (response.status(), json(response).await, set)
}

async fn a_ban_covers_the_browser_and_the_nickname_for_the_session(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let (id, _) = app.open_session(&host, None).await;
    let (status, troll, cookie) = join_from(&app, &id, "Troll", None).await;
    assert_eq!(status, StatusCode::CREATED);
    let cookie = cookie.expect("a browser without the cookie gets one");
    assert!(cookie.starts_with("cfb_"), "{cookie}");
    let (status, _, again) = join_from(&app, &id, "Friend", Some(&cookie)).await;
    assert_eq!(status, StatusCode::CREATED, "one browser, two people: fine");
    assert_eq!(again, None, "a browser keeps its cookie");

    let banned = app
        .call(
            Method::DELETE,
            format!(
                "/api/v1/sessions/{id}/participants/{}?ban=true",
                troll["participant_id"].as_str().unwrap()
            ),
            Some(&host.token),
            None,
        )
        .await;
    assert_eq!(banned.status(), StatusCode::NO_CONTENT);

    let (status, body, _) = join_from(&app, &id, "Totally New", Some(&cookie)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the browser stays out");
    assert_envelope(&body, "banned");
    let (status, body, _) = join_from(&app, &id, " troll ", None).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the nickname stays out");
    assert_envelope(&body, "banned");
    let (status, _, _) = join_from(&app, &id, "Someone Else", None).await;
    assert_eq!(status, StatusCode::CREATED, "another browser joins");

    // The ban is for this session only.
    let (other, _) = app.open_session(&host, None).await;
    let (status, _, _) = join_from(&app, &other, "Troll", Some(&cookie)).await;
    assert_eq!(status, StatusCode::CREATED);
}
