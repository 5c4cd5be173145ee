//! The account page in a real browser: an admin invites an organizer with a one-time link,
//! the invited person sets a password on the page the link opens, and changing the password
//! on the account page signs out the account's other browser, which the page lists.

use serde_json::json;

use crate::common::TestDb;
use crate::driver::Driver;
use crate::helpers::{PASSWORD, TestApp};

const ADMIN: &str = "root@example.org";
const NEW_PASSWORD: &str = "purple elephant juggles seven lanterns";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_a_password_change_and_the_logins_list() {
    let Some(driver) = Driver::start().await else {
        return;
    };
    let app = TestApp::spawn(TestDb::sqlite().await).await;
    let base = app.base.clone();
    conflicto::organizers::create(app.state.store.as_ref(), ADMIN, PASSWORD, true)
        .await
        .expect("admin");

    // The admin signs in twice: this browser, and a laptop left signed in elsewhere.
    let admin = driver.browser("account-admin", 1366, 900).await;
    admin
        .sign_in(&format!("{base}/login"), ADMIN, PASSWORD)
        .await;
    admin.wait_for("#new-title").await;
    let laptop = driver.browser("account-laptop", 1280, 720).await;
    laptop
        .sign_in(&format!("{base}/login"), ADMIN, PASSWORD)
        .await;
    laptop.wait_for("#new-title").await;

    admin.goto(&format!("{base}/organizer/account")).await;
    admin.wait_for("#logins-list li:nth-child(2)").await;
    admin.wait_text("#logins-list", "This browser").await;
    admin.wait_text("#logins-list", "127.0.0.1").await;

    // An invitation link for a new organizer.
    admin.fill("#invite-email", "new@example.org").await;
    admin.click("#invite-form button[type=submit]").await;
    let link = admin.wait_text("#link", "new@example.org").await;
    assert!(link.contains("/welcome#cfl_"), "{link}");
    let url = admin
        .js(
            "return document.querySelector('#link code').textContent;",
            vec![],
        )
        .await;
    let url = url.as_str().unwrap().to_owned();
    admin.shot("60-account-admin").await;
    admin.check_accessibility("account").await;

    // The invited person opens it: the secret leaves the address bar, a weak password is
    // refused beside the form, a good one signs them in.
    let invited = driver.browser("account-invited", 1280, 720).await;
    invited.goto(&url).await;
    invited.wait_for("#welcome-form").await;
    let shown = invited.js("return location.href;", vec![]).await;
    assert!(
        !shown.as_str().unwrap().contains("cfl_"),
        "the secret is not left in the address: {shown}"
    );
    invited.fill("#password", "password12").await;
    invited.fill("#repeat", "password12").await;
    invited.click("#welcome-form button[type=submit]").await;
    invited
        .wait_text("#welcome-form .notice", "too easy to guess")
        .await;
    invited.shot("61-welcome-weak").await;
    invited.check_accessibility("welcome").await;
    invited.fill("#password", NEW_PASSWORD).await;
    invited.fill("#repeat", NEW_PASSWORD).await;
    invited.click("#welcome-form button[type=submit]").await;
    invited.wait_for("#new-title").await;
    invited.close().await;

    // The admin changes the password: the laptop is signed out, this browser stays.
    admin.goto(&format!("{base}/organizer/account")).await;
    admin.wait_for("#logins-list li:nth-child(2)").await;
    admin.wait_text("#organizers-list", "new@example.org").await;
    admin.fill("#current-password", PASSWORD).await;
    admin.fill("#new-password", NEW_PASSWORD).await;
    admin.fill("#repeat-password", NEW_PASSWORD).await;
    admin.click("#password-form button[type=submit]").await;
    admin
        .wait_text("#password-form .notice", "Every other login has ended")
        .await;
    admin.wait_gone("#logins-list li:nth-child(2)").await;
    laptop.goto(&format!("{base}/organizer/account")).await;
    laptop.wait_for("#login-form").await;
    admin.goto(&format!("{base}/organizer")).await;
    admin.wait_for("#new-title").await;
    assert_eq!(
        admin
            .js(
                "return document.querySelectorAll('#logout').length;",
                vec![]
            )
            .await,
        json!(1)
    );
    admin.close().await;
    laptop.close().await;
}

/// Company sign-in in Chromium: the login page offers the provider's button, which goes to
/// the real OpenID Provider and back signed in; a refusal comes back as a sentence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn company_sign_in_through_a_real_provider() {
    use crate::common::oidc::{CLIENT_ID, Provider, client, config, provider_available};
    let Some(driver) = Driver::start().await else {
        return;
    };
    if !provider_available() {
        return;
    }
    let port = crate::common::free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let oidc = config(&issuer);
    let app = TestApp::spawn_with(
        TestDb::sqlite().await,
        |c| c.oidc = Some(oidc),
        axum::Router::new(),
    )
    .await;
    let base = app.base.clone();
    let clients = json!([client(&base, CLIENT_ID)]);
    let _provider = Provider::start(port, &issuer, &clients, 0);

    // The provider signs in its default person, staff@corp.example.
    let page = driver.browser("account-oidc", 1280, 720).await;
    page.goto(&format!("{base}/organizer/templates")).await;
    page.wait_text("#oidc-sign-in", "Sign in with Corp SSO")
        .await;
    page.shot("62-login-company").await;
    page.check_accessibility("login-company").await;
    page.click("#oidc-sign-in").await;
    page.wait_for("main h1").await;
    page.wait_text("main h1", "Templates").await;
    let me = page
        .js(
            "return fetch('/api/v1/auth/me').then((r) => r.json()).then((b) => b.organizer.email);",
            vec![],
        )
        .await;
    assert_eq!(me, json!("staff@corp.example"));

    // Someone outside the allowed domain is told so on the login page.
    page.goto(&format!("{base}/login?failed=not_allowed")).await;
    page.wait_text("#oidc-error", "may not sign in here").await;
    page.close().await;
}
