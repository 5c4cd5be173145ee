//! The web app over plain HTTP: pages render in the visitor's language, organizer pages need
//! the login cookie, assets are embedded with ETags, QR codes encode the join URL. What the
//! pages do in a browser is tested in `tests/browser`.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION};

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{PASSWORD, TestApp, assert_envelope, json};

async fn login_cookie(app: &TestApp) -> String {
    conflicto::organizers::create(
        app.state.store.as_ref(),
        "page@example.org",
        PASSWORD,
        false,
    )
    .await
    .unwrap();
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({"email": "page@example.org", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("conflicto_session="))
        .expect("login cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

both_backends!(
    pages_speak_the_visitors_language,
    organizer_pages_need_the_login_cookie,
    assets_are_embedded_with_etags,
    the_qr_code_is_an_svg_of_the_join_url
);

async fn pages_speak_the_visitors_language(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let english = app.get("/join").await;
    assert_eq!(english.status(), StatusCode::OK);
    assert!(
        english.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let csp = english.headers()[CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"), "{csp}");
    let html = english.text().await.unwrap();
    assert!(html.contains("<html lang=\"en\">") && html.contains("Join a session"));

    let german = app
        .client
        .get(app.url("/join"))
        .header("accept-language", "de-DE,de;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        german.contains("<html lang=\"de\">") && german.contains("An einer Session teilnehmen")
    );

    // Choosing a language sets a cookie and goes back, but never off-site.
    let chosen = app.get("/lang/de?next=/join/ABC234").await;
    assert_eq!(chosen.status(), StatusCode::SEE_OTHER);
    assert_eq!(chosen.headers()[LOCATION], "/join/ABC234");
    assert!(
        chosen.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("conflicto_lang=de;")
    );
    // Every spelling a browser would follow off the site, as sent in the query string:
    // tab, CR and LF (alone and together), backslashes, userinfo. None reaches a 500.
    for next in [
        "//evil.example/",
        "/%09/evil.example",
        "/%0A/x",
        "/%0D/evil.example",
        "/%0D%0A/evil.example",
        "%09//evil.example",
        "%5C%5Cevil.example",
        "/%5Cevil.example",
        "//user@evil.example",
        "https:evil.example",
    ] {
        let off_site = app.get(&format!("/lang/de?next={next}")).await;
        assert_eq!(off_site.status(), StatusCode::SEE_OTHER, "{next}");
        assert_eq!(off_site.headers()[LOCATION], "/", "{next}");
        let login = app.get(&format!("/login?next={next}")).await;
        assert_eq!(login.status(), StatusCode::OK, "{next}");
        let page = login.text().await.unwrap();
        assert!(page.contains("data-next=\"/organizer\""), "{next}");
    }
    let unknown = app.get("/lang/xx").await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_envelope(&json(unknown).await, "not_found");
}

async fn organizer_pages_need_the_login_cookie(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let anonymous = app.get("/organizer").await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    assert_eq!(anonymous.headers()[LOCATION], "/login?next=%2Forganizer");
    let id = uuid::Uuid::now_v7();
    let run = app.get(&format!("/organizer/sessions/{id}/run")).await;
    assert_eq!(run.status(), StatusCode::SEE_OTHER);

    let bad = app.get("/organizer/sessions/not-an-id/run").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert_envelope(&json(bad).await, "invalid_path");

    let cookie = login_cookie(&app).await;
    let pages = [
        ("/organizer".to_owned(), "sessions"),
        ("/organizer/templates".to_owned(), "templates"),
        ("/organizer/analytics".to_owned(), "history"),
        ("/organizer/account".to_owned(), "account"),
        (format!("/organizer/sessions/{id}"), "builder"),
        (format!("/organizer/sessions/{id}/run"), "run"),
        (format!("/organizer/sessions/{id}/report"), "report"),
    ];
    for (path, script) in &pages {
        let away = app.get(path).await;
        assert_eq!(away.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            away.headers()[LOCATION].to_str().unwrap(),
            format!(
                "/login?next={}",
                path.replace('/', "%2F").replace('-', "%2D")
            ),
            "{path}"
        );
        let page = app
            .client
            .get(app.url(path))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), StatusCode::OK, "{path}");
        let html = page.text().await.unwrap();
        assert!(html.contains("id=\"logout\""), "{path}");
        assert!(
            html.contains(&format!("/assets/js/{script}.js")),
            "{path} runs {script}.js"
        );
    }
    let builder = app
        .client
        .get(app.url(&format!("/organizer/sessions/{id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert!(
        builder
            .text()
            .await
            .unwrap()
            .contains(&format!("data-session=\"{id}\""))
    );

    // The organizer's pages follow the live stream with the same cookie.
    let host = app.host("owner@example.org", false).await;
    let session = app
        .session(&host, serde_json::json!({"title": "Mine"}))
        .await;
    let sid = session["id"].as_str().unwrap();
    let mut stream = app
        .client
        .get(app.url(&format!("/api/v1/sessions/{sid}/events")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        stream.status(),
        StatusCode::NOT_FOUND,
        "another organizer's session"
    );
    let own = app
        .session(
            &crate::helpers::Host {
                token: cookie.trim_start_matches("conflicto_session=").to_owned(),
            },
            serde_json::json!({"title": "Own"}),
        )
        .await;
    stream = app
        .client
        .get(app.url(&format!(
            "/api/v1/sessions/{}/events",
            own["id"].as_str().unwrap()
        )))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let first = stream.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("retry:"));
}

async fn assets_are_embedded_with_etags(db: TestDb) {
    let app = TestApp::spawn(db).await;
    for path in [
        "/assets/app.css",
        "/assets/icon.svg",
        "/assets/js/lib.js",
        "/assets/js/join.js",
        "/assets/js/present.js",
        "/assets/js/run.js",
        "/assets/js/builder.js",
        "/assets/js/report.js",
        "/assets/js/kinds.js",
        "/assets/js/forms.js",
        "/assets/js/control.js",
        "/assets/js/sessions.js",
        "/assets/js/login.js",
        "/assets/js/landing.js",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let etag = response.headers()[ETAG].clone();
        let again = app
            .client
            .get(app.url(path))
            .header(IF_NONE_MATCH, etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{path}");
    }
    let js = app.get("/assets/js/lib.js").await;
    assert_eq!(js.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    let missing = app.get("/assets/js/nope.js").await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_envelope(&json(missing).await, "not_found");
    let escape = app.get("/assets/../Cargo.toml").await;
    assert_ne!(escape.status(), StatusCode::OK);
}

async fn the_qr_code_is_an_svg_of_the_join_url(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let svg = app.get("/join/abc234/qr.svg").await;
    assert_eq!(svg.status(), StatusCode::OK);
    assert_eq!(svg.headers()[CONTENT_TYPE], "image/svg+xml");
    let body = svg.text().await.unwrap();
    assert!(body.contains("<svg") && body.len() > 1000);
    let bad = app.get("/join/not-a-code!/qr.svg").await;
    assert_eq!(bad.status(), StatusCode::NOT_FOUND);
    // The page for a code carries it, upper-cased, for its script.
    let page = app.get("/join/abc234").await.text().await.unwrap();
    assert!(page.contains("data-code=\"ABC234\"") && page.contains("value=\"ABC234\""));
}

/// Every module a page loads imports only modules that exist, and only names they export,
/// so no page breaks on a typo. The kinds' modules (and the test build's toy kind) count.
#[test]
fn every_script_import_resolves() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut scripts = Vec::new();
    for dir in [
        "assets/js",
        "assets/js/kinds",
        "tests/toy_kind/assets/js/kinds",
    ] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "js") {
                scripts.push(path);
            }
        }
    }
    for path in scripts {
        let source = std::fs::read_to_string(&path).unwrap();
        for line in source.lines().filter(|l| l.starts_with("import ")) {
            let target = line.rsplit("from '").next().unwrap().trim_end_matches("';");
            // The toy kind is served beside the real kinds, so it imports as they do.
            let target = path.parent().unwrap().join(target).canonicalize();
            let target = target.or_else(|_| {
                root.join("assets/js/kinds")
                    .join(line.rsplit("from '").next().unwrap().trim_end_matches("';"))
                    .canonicalize()
            });
            let Ok(target) = target else {
                panic!("{}: {line}", path.display());
            };
            let exported = std::fs::read_to_string(&target).unwrap();
            let names = line
                .split_once('{')
                .and_then(|(_, rest)| rest.split_once('}'))
                .map_or("", |(names, _)| names);
            for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let name = name.split(" as ").next().unwrap();
                assert!(
                    ["function", "async function", "const", "let", "class"]
                        .iter()
                        .any(|what| exported.contains(&format!("export {what} {name}"))),
                    "{}: {name} is not exported by {}",
                    path.display(),
                    target.display()
                );
            }
        }
    }
}

/// Every kind the server registers has its browser module.
#[test]
fn every_kind_has_a_browser_module() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let registry = conflicto::kinds::ActivityRegistry::with_builtin_kinds();
    for kind in registry.iter() {
        let name = kind.kind();
        let found = ["assets/js/kinds", "tests/toy_kind/assets/js/kinds"]
            .iter()
            .any(|dir| root.join(dir).join(format!("{name}.js")).is_file());
        assert!(found, "no assets/js/kinds/{name}.js");
    }
}
