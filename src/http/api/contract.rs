//! Finishes the generated OpenAPI document into the contract clients can hold the server to:
//! every operation names who may call it (`security`) and every status the server can
//! answer it with, each with its error codes. The handlers' `#[utoipa::path]` attributes
//! document what is particular to each operation; what the extractors and the middleware
//! answer for every operation alike (a malformed path, a missing token, the flood guard,
//! a database outage) is added here once, from the operation's own shape, so it cannot be
//! forgotten on a new route.

use serde_json::{Map, Value, json};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone: no credential.
    Public,
    /// An organizer's login or API token, or the login cookie with `X-CSRF-Token`.
    Organizer,
    /// A participant's token from joining.
    Participant,
    /// An organizer or a participant of the session.
    Either,
    /// An organizer, a participant or a big-screen viewer, as a bearer token or `?token=`.
    Stream,
    /// An organizer or the session's big screen with its viewer token, as a bearer token or
    /// `?token=`.
    Screen,
}

/// The operations anyone may call. Everything not listed here or below is the organizer's.
const PUBLIC: &[&str] = &[
    "GET /api/v1/health/",
    "GET /api/v1/health/ready",
    "GET /api/v1/health/live",
    "GET /api/v1/activities/types",
    "GET /api/v1/activities/types/{kind}/schema",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/redeem",
    "POST /api/v1/sessions/{id}/join",
    "GET /api/v1/sessions/{id}/nicknames/validate",
    "GET /api/v1/sessions/code/{code}",
    "GET /api/v1/images/{id}",
];

/// The operations only a participant may call.
const PARTICIPANT: &[&str] = &[
    "POST /api/v1/participants/{id}/heartbeat",
    "GET /api/v1/participants/me",
    "POST /api/v1/sessions/{id}/reactions",
    "POST /api/v1/activities/{id}/responses",
    "GET /api/v1/activities/{id}/responses/me",
    "GET /api/v1/participants/me/course",
    "POST /api/v1/participants/me/steps",
    "POST /api/v1/participants/me/finish",
];

/// The operations an organizer or a participant may call.
const EITHER: &[&str] = &[
    "GET /api/v1/sessions/{id}/status",
    "GET /api/v1/activities/{id}/results",
];

/// The live stream and its snapshot, which viewers' screens read too.
const STREAM: &[&str] = &[
    "GET /api/v1/sessions/{id}/events",
    "GET /api/v1/sessions/{id}/snapshot",
];

/// What the big screen reads beside the stream, which participants may not.
const SCREEN: &[&str] = &["GET /api/v1/sessions/{id}/progress"];

/// Who may call `METHOD path`.
pub fn access(operation: &str) -> Access {
    if PUBLIC.contains(&operation) {
        Access::Public
    } else if PARTICIPANT.contains(&operation) {
        Access::Participant
    } else if EITHER.contains(&operation) {
        Access::Either
    } else if STREAM.contains(&operation) {
        Access::Stream
    } else if SCREEN.contains(&operation) {
        Access::Screen
    } else {
        Access::Organizer
    }
}

impl Access {
    /// The document's `security` list: any one entry suffices.
    fn requirements(self) -> Value {
        let organizer = [json!({"organizer": []}), json!({"organizer_cookie": []})];
        let participant = json!({"participant": []});
        match self {
            Access::Public => json!([]),
            Access::Organizer => json!(organizer),
            Access::Participant => json!([participant]),
            Access::Either => json!([organizer[0], organizer[1], participant]),
            Access::Stream => json!([
                organizer[0],
                organizer[1],
                participant,
                {"viewer": []},
                {"token_query": []}
            ]),
            Access::Screen => json!([
                organizer[0],
                organizer[1],
                {"viewer": []},
                {"token_query": []}
            ]),
        }
    }
}

/// The ways to prove who is calling.
fn security_schemes() -> Value {
    json!({
        "organizer": {
            "type": "http", "scheme": "bearer", "bearerFormat": "cfo_…",
            "description": "An organizer's login token (POST /auth/login) or API token (POST /auth/tokens). The scheme name is matched in any case."
        },
        "organizer_cookie": {
            "type": "apiKey", "in": "cookie", "name": "conflicto_session",
            "description": "The login cookie pages use; requests that change anything also send X-CSRF-Token from GET /auth/me."
        },
        "participant": {
            "type": "http", "scheme": "bearer", "bearerFormat": "cfp_…",
            "description": "A participant's token from POST /sessions/{id}/join."
        },
        "viewer": {
            "type": "http", "scheme": "bearer", "bearerFormat": "cfv_…",
            "description": "A big screen's viewer token from POST /sessions/{id}/viewer-link."
        },
        "token_query": {
            "type": "apiKey", "in": "query", "name": "token",
            "description": "Any of the tokens above, for clients that cannot send headers (EventSource)."
        }
    })
}

/// A response in the one error envelope, saying which codes it carries.
fn error_response(codes: &str) -> Value {
    json!({
        "description": codes,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}
    })
}

/// The statuses every operation of this shape can answer, whatever its handler does.
fn shared_statuses(
    access: Access,
    params: &[Value],
    has_body: bool,
) -> Vec<(&'static str, String)> {
    let located = |place: &str| params.iter().any(|p| p["in"] == place);
    let mut statuses = Vec::new();
    let mut bad = Vec::new();
    if located("path") {
        bad.push("`invalid_path` (a path segment of the wrong form)");
    }
    if located("query") {
        bad.push("`invalid_query`, `invalid_paging` (a query parameter of the wrong form)");
    }
    if has_body {
        bad.push("`malformed_json` (not JSON)");
    }
    if !bad.is_empty() {
        statuses.push(("400", bad.join("; ")));
    }
    if access != Access::Public {
        statuses.push((
            "401",
            "`unauthorized`: no token, or one that is unknown or expired".into(),
        ));
        let forbidden = match access {
            Access::Organizer => {
                "`organizer_only` (a participant's token), `csrf_failed` (the cookie without X-CSRF-Token), `forbidden` (admins only)"
            }
            Access::Participant => {
                "`participant_removed` (removed or banned), `forbidden` (another session's participant)"
            }
            Access::Screen => "`organizer_only` (a participant's token)",
            _ => "`participant_removed`, `results_hidden`, `forbidden`",
        };
        statuses.push(("403", forbidden.into()));
    }
    if located("path") {
        statuses.push((
            "404",
            "`not_found` or the resource's own code (`session_not_found`, `activity_not_found`, …): no such resource, or not yours".into(),
        ));
    }
    statuses.push((
        "408",
        "`request_timeout`: the request took longer than the server waits".into(),
    ));
    if has_body {
        statuses.push((
            "413",
            "`payload_too_large`: a body over the server's limit (256 KiB by default)".into(),
        ));
        statuses.push((
            "415",
            "`unsupported_media_type`: send `Content-Type: application/json`".into(),
        ));
        statuses.push((
            "422",
            "`invalid_body` (wrong shape or unknown field), `invalid_field` (a broken rule: `details.field`, `details.rule`, `details.params`)".into(),
        ));
    }
    statuses.push((
        "429",
        "`rate_limited`, with `Retry-After`: see docs/security.md".into(),
    ));
    statuses.push((
        "500",
        "`internal_error`: details only in the server log".into(),
    ));
    statuses.push((
        "503",
        "`database_unavailable`, `unavailable`: try again after `Retry-After`".into(),
    ));
    statuses
}

/// Adds the security requirements, the shared statuses and the security schemes to the
/// generated document.
pub fn finish(document: &utoipa::openapi::OpenApi) -> Value {
    let mut document = serde_json::to_value(document).unwrap_or_else(|_| json!({}));
    if let Some(paths) = document["paths"].as_object_mut() {
        for (path, item) in paths.iter_mut() {
            let Some(item) = item.as_object_mut() else {
                continue;
            };
            let shared_params: Vec<Value> = item
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for (method, operation) in item.iter_mut() {
                if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                    continue;
                }
                let access = access(&format!("{} {path}", method.to_uppercase()));
                finish_operation(operation, access, &shared_params);
            }
        }
    }
    let components = document
        .as_object_mut()
        .map(|d| d.entry("components").or_insert_with(|| json!({})));
    if let Some(components) = components.and_then(Value::as_object_mut) {
        components.insert("securitySchemes".into(), security_schemes());
        if let Some(schemas) = components.get_mut("schemas").and_then(Value::as_object_mut) {
            for schema in schemas.values_mut() {
                not_blank(schema);
            }
            cross_field_rules(schemas);
        }
    }
    document
}

/// A character the server does not trim: Unicode's White_Space, as Rust's `str::trim`
/// knows it, spelled out because ECMA's `\s` differs (it lacks U+0085 and has U+FEFF).
const NOT_BLANK: &str =
    r"[^\t\n\u000b\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// Texts that must say something (`minLength` 1) are trimmed by the server before their
/// least length is checked, so the schema says they hold a character that is not blank.
fn not_blank(schema: &mut Value) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let plain_text = object.get("type") == Some(&json!("string"))
        && !object.contains_key("pattern")
        && !object.contains_key("format")
        && !object.contains_key("enum");
    if plain_text && object.get("minLength").and_then(Value::as_u64) == Some(1) {
        object.insert("pattern".into(), Value::from(NOT_BLANK));
    }
    for key in ["properties", "items", "additionalProperties"] {
        match object.get_mut(key) {
            Some(Value::Object(inner)) if key == "properties" => {
                inner.values_mut().for_each(not_blank);
            }
            Some(inner) => not_blank(inner),
            None => {}
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(Value::Array(items)) = object.get_mut(key) {
            items.iter_mut().for_each(not_blank);
        }
    }
}

/// Rules between fields, which the types cannot say: a template's first version comes
/// from exactly one of a session and a definition, and a session's banned words are each
/// short.
fn cross_field_rules(schemas: &mut Map<String, Value>) {
    if let Some(template) = schemas.get_mut("CreateTemplateRequest") {
        template["oneOf"] = json!([
            {"required": ["session_id"], "properties": {"session_id": {"type": "string"}, "definition": {"type": "null"}}},
            {"required": ["definition"], "properties": {"definition": {"type": "object"}, "session_id": {"type": "null"}}}
        ]);
    }
    if let Some(settings) = schemas.get_mut("SessionSettings") {
        settings["properties"]["banned_words"]["maxItems"] =
            Value::from(crate::moderation::BANNED_MAX);
        settings["properties"]["banned_words"]["items"]["maxLength"] =
            Value::from(crate::moderation::BANNED_LENGTH_MAX);
    }
}

fn finish_operation(operation: &mut Value, access: Access, shared_params: &[Value]) {
    let mut params: Vec<Value> = shared_params.to_vec();
    params.extend(
        operation["parameters"]
            .as_array()
            .cloned()
            .unwrap_or_default(),
    );
    let has_body = operation.get("requestBody").is_some();
    let Some(operation) = operation.as_object_mut() else {
        return;
    };
    operation.insert("security".into(), access.requirements());
    let responses = operation
        .entry("responses")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(responses) = responses.as_object_mut() else {
        return;
    };
    for (status, codes) in shared_statuses(access, &params, has_body) {
        responses
            .entry(status)
            .or_insert_with(|| error_response(&codes));
    }
    // A handler's own error response that names no code gets the codes of its status.
    for (status, response) in responses.iter_mut() {
        let described = response["description"].as_str().unwrap_or_default();
        if status.as_str() >= "400" && !described.contains('`') {
            let codes = codes_of(status);
            response["description"] = Value::from(if described.is_empty() {
                codes.to_owned()
            } else {
                format!("{described}: {codes}")
            });
        }
    }
}

/// The error codes a status can carry, as docs/api.md lists them.
fn codes_of(status: &str) -> &'static str {
    match status {
        "400" => {
            "`invalid_path`, `invalid_query`, `invalid_paging`, `malformed_json`, `malformed_csv`, `bad_request`"
        }
        "401" => "`unauthorized`, `invalid_credentials`",
        "403" => {
            "`forbidden`, `organizer_only`, `csrf_failed`, `participant_removed`, `banned`, `results_hidden`, `not_yourself`, `account_disabled`, `wrong_password`"
        }
        "404" => {
            "`not_found` or the resource's own code (`session_not_found`, `activity_not_found`, `participant_not_found`, `token_not_found`, `kind_not_found`, `template_not_found`, `version_not_found`, `variant_not_found`, `list_not_found`, `organizer_not_found`, `link_invalid`)"
        }
        "409" => {
            "`invalid_transition`, `session_completed`, `session_not_open`, `session_not_active`, `session_full`, `late_join_closed`, `nickname_taken`, `another_activity_active`, `activity_not_active`, `activity_not_editable`, `template_name_taken`, `made_from_variant`, `session_not_completed`, `email_taken`, `activity_busy`, `already_answered`, `session_closed`, `conflict`"
        }
        "410" => "`session_ended`",
        "413" => "`payload_too_large`",
        "415" => "`unsupported_media_type`",
        "422" => {
            "`invalid_body`, `invalid_field`, `invalid_nickname`, `invalid_answer`, `invalid_client_request_id`, `unknown_kind`, `invalid_command`, `invalid_definition`, `invalid_csv`, `invalid_emoji`, `invalid_image`, `invalid_content`"
        }
        "429" => "`rate_limited`",
        "503" => "`database_unavailable`, `not_ready`, `schema_incompatible`, `unavailable`",
        _ => "`error`",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_operation_is_listed_once() {
        let mut all: Vec<&str> = [PUBLIC, PARTICIPANT, EITHER, STREAM, SCREEN].concat();
        let count = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), count, "an operation is in two lists");
    }

    #[test]
    fn an_operation_with_a_body_and_a_path_gets_every_shared_status() {
        let params = [json!({"in": "path", "name": "id"})];
        let statuses: Vec<&str> = shared_statuses(Access::Organizer, &params, true)
            .into_iter()
            .map(|(status, _)| status)
            .collect();
        assert_eq!(
            statuses,
            [
                "400", "401", "403", "404", "408", "413", "415", "422", "429", "500", "503"
            ]
        );
        let public: Vec<&str> = shared_statuses(Access::Public, &[], false)
            .into_iter()
            .map(|(status, _)| status)
            .collect();
        assert_eq!(public, ["408", "429", "500", "503"]);
    }
}
