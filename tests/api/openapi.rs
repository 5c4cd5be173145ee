//! The OpenAPI document matches the implementation: every documented operation is routed
//! (never the 404 fallback or a 405), every routed API operation is documented, and the
//! reference page is served from the binary.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};

use crate::both_backends;
use crate::common::TestDb;
use crate::helpers::{TestApp, assert_envelope, json};

/// Every API operation the router serves, as `METHOD path`. Kept by hand on purpose: adding
/// a route without documenting it (or the reverse) fails this test.
const ROUTED: &[&str] = &[
    "GET /api/v1/health/",
    "GET /api/v1/health/ready",
    "GET /api/v1/health/live",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/logout",
    "GET /api/v1/auth/me",
    "POST /api/v1/auth/tokens",
    "GET /api/v1/auth/tokens",
    "DELETE /api/v1/auth/tokens/{id}",
    "POST /api/v1/auth/password",
    "GET /api/v1/auth/logins",
    "DELETE /api/v1/auth/logins/{id}",
    "POST /api/v1/auth/redeem",
    "GET /api/v1/admin/organizers",
    "POST /api/v1/admin/invitations",
    "POST /api/v1/admin/organizers/{id}/reset",
    "POST /api/v1/sessions/",
    "GET /api/v1/sessions/",
    "GET /api/v1/sessions/{id}",
    "PATCH /api/v1/sessions/{id}",
    "DELETE /api/v1/sessions/{id}",
    "GET /api/v1/sessions/code/{code}",
    "GET /api/v1/sessions/{id}/status",
    "POST /api/v1/sessions/{id}/join",
    "GET /api/v1/sessions/{id}/nicknames/validate",
    "POST /api/v1/participants/{id}/heartbeat",
    "GET /api/v1/participants/me",
    "GET /api/v1/participants/me/course",
    "POST /api/v1/participants/me/steps",
    "POST /api/v1/participants/me/finish",
    "GET /api/v1/sessions/{id}/progress",
    "GET /api/v1/sessions/{id}/participants",
    "DELETE /api/v1/sessions/{id}/participants/{participant_id}",
    "GET /api/v1/activities/types",
    "GET /api/v1/activities/types/{kind}/schema",
    "POST /api/v1/sessions/{id}/activities",
    "GET /api/v1/sessions/{id}/activities",
    "POST /api/v1/sessions/{id}/activities/reorder",
    "GET /api/v1/activities/{id}",
    "PATCH /api/v1/activities/{id}",
    "DELETE /api/v1/activities/{id}",
    "POST /api/v1/activities/{id}/transition",
    "POST /api/v1/activities/{id}/commands/{command}",
    "GET /api/v1/activities/{id}/results",
    "GET /api/v1/activities/{id}/results/{list}",
    "POST /api/v1/activities/{id}/responses",
    "GET /api/v1/activities/{id}/responses/me",
    "POST /api/v1/sessions/{id}/reactions",
    "POST /api/v1/images",
    "GET /api/v1/images/{id}",
    "GET /api/v1/sessions/{id}/reactions",
    "GET /api/v1/sessions/{id}/summary",
    "GET /api/v1/sessions/{id}/export.csv",
    "GET /api/v1/sessions/{id}/export.json",
    "GET /api/v1/sessions/{id}/export.xlsx",
    "GET /api/v1/sessions/{id}/events",
    "GET /api/v1/sessions/{id}/snapshot",
    "POST /api/v1/sessions/{id}/viewer-link",
    "POST /api/v1/sessions/import",
    "GET /api/v1/sessions/{id}/definition",
    "POST /api/v1/sessions/{id}/activities/csv/{kind}",
    "POST /api/v1/templates/",
    "GET /api/v1/templates/",
    "GET /api/v1/templates/{id}",
    "PATCH /api/v1/templates/{id}",
    "DELETE /api/v1/templates/{id}",
    "POST /api/v1/templates/{id}/versions",
    "GET /api/v1/templates/{id}/versions/{version}",
    "GET /api/v1/templates/{id}/versions/{version}/changes",
    "POST /api/v1/templates/{id}/sessions",
    "POST /api/v1/sessions/{id}/anonymize",
    "GET /api/v1/sessions/{id}/analytics",
    "GET /api/v1/sessions/{id}/analytics/{table}",
    "GET /api/v1/analytics/sessions",
    "GET /api/v1/analytics/sessions.csv",
    "GET /api/v1/analytics/compare",
    "GET /api/v1/analytics/compare.csv",
];

async fn documented(app: &TestApp) -> BTreeSet<String> {
    let document = json(app.get("/api/v1/openapi.json").await).await;
    assert_eq!(
        document["openapi"].as_str().map(|v| v.starts_with("3.")),
        Some(true)
    );
    let mut operations = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                operations.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    operations
}

both_backends!(
    every_reference_in_the_document_resolves,
    bounds_the_server_enforces_are_in_the_schema,
    every_routed_operation_is_documented_and_nothing_else,
    every_documented_operation_reaches_a_handler,
    the_reference_page_is_served_without_any_cdn,
    the_security_each_operation_lists_is_what_the_server_asks_for,
    every_operation_lists_the_statuses_the_middleware_answers,
    integers_written_with_a_decimal_point_are_integers
);

async fn every_routed_operation_is_documented_and_nothing_else(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let documented = documented(&app).await;
    let routed: BTreeSet<String> = ROUTED.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(documented, routed, "document and router differ");
}

/// An operation that lists no security answers a caller without credentials; every other
/// one answers 401 `unauthorized`, which it lists.
async fn the_security_each_operation_lists_is_what_the_server_asks_for(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let document = json(app.get("/api/v1/openapi.json").await).await;
    let schemes = document["components"]["securitySchemes"]
        .as_object()
        .expect("security schemes");
    let uuid = "00000000-0000-7000-8000-000000000000";
    let mut checked = 0;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let requirements = operation["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path} lists no security"));
            for requirement in requirements {
                for scheme in requirement.as_object().unwrap().keys() {
                    assert!(schemes.contains_key(scheme), "{method} {path}: {scheme}");
                }
            }
            let concrete = path
                .replace("{id}", uuid)
                .replace("{participant_id}", uuid)
                .replace("{code}", "ABCDEF")
                .replace("{kind}", "poll")
                .replace("{command}", "reveal")
                .replace("{table}", "attendance")
                .replace("{list}", "answers")
                .replace("{version}", "1");
            let body = operation.get("requestBody").map(|_| serde_json::json!({}));
            let response = app
                .call(
                    method.to_uppercase().parse().unwrap(),
                    &concrete,
                    None,
                    body,
                )
                .await;
            let status = response.status();
            if requirements.is_empty() {
                assert_ne!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} is public"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::UNAUTHORIZED,
                    "{method} {path} lists security"
                );
                assert!(
                    operation["responses"].get("401").is_some(),
                    "{method} {path}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, ROUTED.len());
}

/// What the extractors and middleware answer is documented on every operation they guard.
async fn every_operation_lists_the_statuses_the_middleware_answers(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let document = json(app.get("/api/v1/openapi.json").await).await;
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let responses = operation["responses"].as_object().unwrap();
            let mut wanted = vec!["408", "429", "500", "503"];
            if path.contains('{') {
                wanted.extend(["400", "404"]);
            }
            if operation.get("requestBody").is_some() {
                wanted.extend(["400", "413", "415"]);
            }
            for status in wanted {
                assert!(
                    responses.contains_key(status),
                    "{method} {path} lacks {status}"
                );
            }
            for (status, response) in responses {
                if status.as_str() >= "400" {
                    assert!(
                        response["description"]
                            .as_str()
                            .is_some_and(|d| d.contains('`')),
                        "{method} {path} {status} names no error code"
                    );
                }
            }
        }
    }
}

/// JSON Schema's integers include 35.0; the server takes it as 35, and still refuses 35.5.
async fn integers_written_with_a_decimal_point_are_integers(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let host = app.host("ada@example.org", false).await;
    let created = app
        .call(
            Method::POST,
            "/api/v1/sessions/",
            Some(&host.token),
            Some(serde_json::json!({"title": "Town hall", "max_participants": 35.0})),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(json(created).await["max_participants"], 35);
    let fractional = app
        .call(
            Method::POST,
            "/api/v1/sessions/",
            Some(&host.token),
            Some(serde_json::json!({"title": "Town hall", "max_participants": 35.5})),
        )
        .await;
    assert_eq!(fractional.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_envelope(&json(fractional).await, "invalid_body");
    let token = app
        .call(
            Method::POST,
            "/api/v1/auth/tokens",
            Some(&host.token),
            Some(serde_json::json!({"name": "ci", "expires_in_days": 1e1})),
        )
        .await;
    assert_eq!(token.status(), StatusCode::CREATED);
}

async fn every_documented_operation_reaches_a_handler(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let uuid = "00000000-0000-7000-8000-000000000000";
    for operation in documented(&app).await {
        let (method, template) = operation.split_once(' ').unwrap();
        let path = template
            .replace("{id}", uuid)
            .replace("{participant_id}", uuid)
            .replace("{code}", "ABCDEF")
            .replace("{kind}", "poll")
            .replace("{command}", "reveal");
        let response = app
            .call(method.parse::<Method>().unwrap(), &path, None, None)
            .await;
        let status = response.status();
        assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{operation}");
        if status == StatusCode::NOT_FOUND {
            let body = json(response).await;
            assert_ne!(
                body["error"]["message"], "no such resource",
                "{operation} fell through to the fallback"
            );
        }
        assert!(
            status.as_u16() < 500 || status == StatusCode::SERVICE_UNAVAILABLE,
            "{operation}: {status}"
        );
    }
}

async fn the_reference_page_is_served_without_any_cdn(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let page = app.get("/api/v1/docs/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger"), "{html}");
    for cdn in ["cdn.", "unpkg", "jsdelivr", "googleapis"] {
        assert!(!html.contains(cdn), "the page loads from {cdn}");
    }
    let script = app.get("/api/v1/docs/swagger-ui-bundle.js").await;
    assert_eq!(
        script.status(),
        StatusCode::OK,
        "the UI is vendored in the binary"
    );
    let initializer = app
        .get("/api/v1/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains("/api/v1/openapi.json"),
        "{initializer}"
    );
}

/// Every `$ref` in the document points at a schema the document has.
async fn every_reference_in_the_document_resolves(db: TestDb) {
    fn refs(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    if key == "$ref" {
                        if let Some(target) = inner.as_str() {
                            out.push(target.to_owned());
                        }
                    } else {
                        refs(inner, out);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|item| refs(item, out)),
            _ => {}
        }
    }
    let app = TestApp::spawn(db).await;
    let document = json(app.get("/api/v1/openapi.json").await).await;
    let mut targets = Vec::new();
    refs(&document, &mut targets);
    assert!(!targets.is_empty());
    let missing: BTreeSet<&String> = targets
        .iter()
        .filter(|target| {
            let Some(name) = target.strip_prefix("#/components/schemas/") else {
                return true;
            };
            document["components"]["schemas"].get(name).is_none()
        })
        .collect();
    assert!(missing.is_empty(), "unresolved: {missing:?}");
}

/// The limits the server enforces are in the document, so a client can keep to them:
/// paging, a session's capacity, an API token's lifetime.
async fn bounds_the_server_enforces_are_in_the_schema(db: TestDb) {
    let app = TestApp::spawn(db).await;
    let document = json(app.get("/api/v1/openapi.json").await).await;
    let parameters = document["paths"]["/api/v1/sessions/"]["get"]["parameters"]
        .as_array()
        .expect("paging parameters");
    let bound = |name: &str, key: &str| {
        parameters
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| p["schema"][key].clone())
            .unwrap_or_default()
    };
    assert_eq!(bound("page", "minimum"), 1);
    assert_eq!(bound("per_page", "minimum"), 1);
    assert_eq!(bound("per_page", "maximum"), 100);
    let schemas = &document["components"]["schemas"];
    for (schema, field, min, max) in [
        ("CreateSessionRequest", "max_participants", 1, 50_000),
        ("UpdateSessionRequest", "max_participants", 1, 50_000),
        ("CreateTokenRequest", "expires_in_days", 1, 3650),
    ] {
        let property = &schemas[schema]["properties"][field];
        assert_eq!(property["minimum"], min, "{schema}.{field}: {property}");
        assert_eq!(property["maximum"], max, "{schema}.{field}: {property}");
    }
}
