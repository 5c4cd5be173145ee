//! The web app: server-rendered pages for the organizer, the big screen and the phones, and
//! the assets they use, all embedded in the binary (no CDN, no front-end build). Templates in
//! `templates/` (askama) render the shell of each page with its text in the visitor's
//! language; small JavaScript modules in `assets/js/` drive the live parts from the API and
//! the event stream. See docs/architecture.md ("Web app").

mod assets;
pub mod i18n;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::http::extract::{AppPath, AppQuery, session_cookie};
use crate::http::state::AppState;
use crate::ids::SessionId;
use i18n::{CATALOGS, Catalog, LANG_COOKIE, Lang};

/// An organizer's page: where it is, its title's key and the script that drives it. Every
/// one needs the login cookie; the pages under `/organizer/sessions/{id}` are about one
/// session, which their script reads from `data-session`.
struct OrganizerPage {
    route: &'static str,
    title_key: &'static str,
    script: &'static str,
}

/// The organizer's pages: the sessions, templates, history (engagement per event, two runs
/// side by side), the account, and a session's builder, run view and report.
static ORGANIZER_PAGES: [OrganizerPage; 7] = [
    OrganizerPage {
        route: "/organizer",
        title_key: "sessions.title",
        script: "sessions",
    },
    OrganizerPage {
        route: "/organizer/templates",
        title_key: "templates.title",
        script: "templates",
    },
    OrganizerPage {
        route: "/organizer/analytics",
        title_key: "history.title",
        script: "history",
    },
    OrganizerPage {
        route: "/organizer/account",
        title_key: "account.title",
        script: "account",
    },
    OrganizerPage {
        route: "/organizer/sessions/{id}",
        title_key: "builder.page",
        script: "builder",
    },
    OrganizerPage {
        route: "/organizer/sessions/{id}/run",
        title_key: "run.title",
        script: "run",
    },
    OrganizerPage {
        route: "/organizer/sessions/{id}/report",
        title_key: "report.title",
        script: "report",
    },
];

/// The page routes and `/assets/...`.
pub fn router() -> Router<AppState> {
    let mut router = Router::new()
        .route("/", get(landing))
        .route("/lang/{lang}", get(choose_language))
        .route("/login", get(login))
        .route("/welcome", get(welcome))
        .route("/auth/oidc/start", get(oidc_start))
        .route("/auth/oidc/callback", get(oidc_callback));
    for page in &ORGANIZER_PAGES {
        router = if page.route.contains("{id}") {
            router.route(
                page.route,
                get(
                    move |State(state): State<AppState>,
                          headers: HeaderMap,
                          Lang(t): Lang,
                          AppPath(id): AppPath<SessionId>| async move {
                        organizer_page(&state, &headers, t, page, Some(id)).await
                    },
                ),
            )
        } else {
            router.route(
                page.route,
                get(
                    move |State(state): State<AppState>, headers: HeaderMap, Lang(t): Lang| async move {
                        organizer_page(&state, &headers, t, page, None).await
                    },
                ),
            )
        };
    }
    router
        .route("/present/{id}", get(present))
        .route("/join", get(join))
        .route("/join/{code}", get(join_code))
        .route("/join/{code}/qr.svg", get(qr_code))
        .route("/assets/{*path}", get(assets::serve))
}

/// What every page's shell needs: the language, its strings, the page's script and the
/// data its script reads from `<body data-…>`.
pub struct Shell {
    /// The visitor's language.
    pub t: &'static Catalog,
    /// The page title (already translated).
    pub title: String,
    /// The module under `/assets/js/` that drives the page.
    pub script: &'static str,
    /// `data-` attributes of the body.
    pub data: Vec<(&'static str, String)>,
    /// The path of this page, for the language links.
    pub path: String,
    /// Whether the organizer's navigation shows.
    pub organizer: bool,
}

impl Shell {
    fn new(t: &'static Catalog, title_key: &str, script: &'static str, path: String) -> Shell {
        Shell {
            t,
            title: t.t(title_key).to_owned(),
            script,
            data: Vec::new(),
            path,
            organizer: false,
        }
    }

    fn data(mut self, key: &'static str, value: impl ToString) -> Shell {
        self.data.push((key, value.to_string()));
        self
    }

    /// Every shipped language, for the switcher.
    pub fn languages(&self) -> &'static [Catalog] {
        &CATALOGS
    }

    /// The link that switches this page to `catalog`'s language.
    pub fn language_href(&self, catalog: &Catalog) -> String {
        format!("/lang/{}?next={}", catalog.lang, query_value(&self.path))
    }
}

/// A page whose markup is only the shell and one main element the script fills.
#[derive(Template)]
#[template(path = "page.html")]
struct Page {
    shell: Shell,
}

#[derive(Template)]
#[template(path = "landing.html")]
struct Landing {
    shell: Shell,
}

#[derive(Template)]
#[template(path = "login.html")]
struct Login {
    shell: Shell,
    /// The company sign-in's link and button text, when one is configured.
    oidc: Option<(String, String)>,
    /// Why the last company sign-in failed: a `login.oidc_<code>` key.
    failed: Option<String>,
}

#[derive(Template)]
#[template(path = "join.html")]
struct Join {
    shell: Shell,
    code: String,
}

/// Renders a template, or answers 500 with a plain line (a template error is a bug, and the
/// envelope middleware logs it).
fn render(template: impl Template) -> Response {
    match template.render() {
        Ok(html) => (
            [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
            Html(html),
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "page template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

async fn landing(Lang(t): Lang) -> Response {
    render(Landing {
        shell: Shell::new(t, "landing.title", "landing", "/".into()),
    })
}

#[derive(Deserialize)]
struct Next {
    next: Option<String>,
    /// A company sign-in that failed, by [`crate::organizers::oidc::OidcError::code`].
    failed: Option<String>,
}

/// Where to go back to after choosing a language or signing in: only a path on this site.
/// The target is read the way a browser reads a `Location` (the URL Standard, through the
/// `url` crate: tabs and newlines dropped, leading spaces and control characters trimmed,
/// backslashes taken as slashes), so anything a browser would follow off the site falls back
/// to `/`; what stays is percent-encoded, safe in a header.
fn safe_next(next: Option<&str>) -> String {
    static SITE: std::sync::LazyLock<url::Url> = std::sync::LazyLock::new(|| {
        url::Url::parse("http://conflicto.invalid/").expect("a valid base URL")
    });
    let Some(raw) = next.filter(|raw| raw.len() <= 500) else {
        return "/".into();
    };
    // A browser ignores these wherever they are, so the first real character decides.
    let read: String = raw
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let read = read.trim_start_matches(|c: char| c <= ' ');
    if !read.starts_with('/') || read.starts_with("//") || read.starts_with("/\\") {
        return "/".into();
    }
    match SITE.join(read) {
        Ok(url) if url.origin() == SITE.origin() && url.username().is_empty() => {
            url[url::Position::BeforePath..].to_owned()
        }
        _ => "/".into(),
    }
}

/// Remembers a language (one year) and goes back to the page it was chosen on.
async fn choose_language(
    AppPath(lang): AppPath<String>,
    AppQuery(next): AppQuery<Next>,
) -> Response {
    let Some(catalog) = i18n::catalog(&lang) else {
        return crate::http::error::ApiError::not_found("no such language").into_response();
    };
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        catalog.lang
    );
    let mut response = Redirect::to(&safe_next(next.next.as_deref())).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn login(
    State(state): State<AppState>,
    Lang(t): Lang,
    AppQuery(query): AppQuery<Next>,
) -> Response {
    let next = safe_next(query.next.as_deref());
    let next = if next == "/" {
        "/organizer".to_owned()
    } else {
        next
    };
    let oidc = state.config.oidc.as_ref().map(|config| {
        let label = config.label.as_ref().map_or_else(
            || t.t("login.oidc").to_owned(),
            |label| t.t("login.oidc_named").replace("{name}", label),
        );
        (
            format!("/auth/oidc/start?next={}", query_value(&next)),
            label,
        )
    });
    // Only the codes the callback sends are shown; anything else in the address is ignored.
    let failed = query
        .failed
        .filter(|code| OIDC_FAILURES.contains(&code.as_str()))
        .map(|code| format!("login.oidc_{code}"));
    render(Login {
        shell: Shell::new(t, "login.title", "login", "/login".into()).data("next", next),
        oidc,
        failed,
    })
}

/// The codes a failed company sign-in comes back to the login page with.
const OIDC_FAILURES: [&str; 6] = [
    "unavailable",
    "state",
    "refused",
    "not_allowed",
    "no_account",
    "disabled",
];

/// The cookie that binds a company sign-in's state to the browser that started it.
const OIDC_COOKIE: &str = "conflicto_oidc";

/// Where the provider sends the browser back.
fn oidc_redirect_uri(state: &AppState) -> String {
    let mut url = state.public_base_url.clone();
    url.set_path("/auth/oidc/callback");
    url.set_query(None);
    url.to_string()
}

/// Starts a company sign-in: off to the provider, with the state in a cookie.
async fn oidc_start(State(state): State<AppState>, AppQuery(query): AppQuery<Next>) -> Response {
    let Some(config) = state.config.oidc.as_ref() else {
        return Redirect::to("/login").into_response();
    };
    let next = safe_next(query.next.as_deref());
    match crate::organizers::oidc::start(
        state.store.as_ref(),
        config,
        &oidc_redirect_uri(&state),
        &next,
    )
    .await
    {
        Ok(started) => {
            let cookie = crate::http::api::auth::set_cookie(
                &state,
                OIDC_COOKIE,
                &started.state,
                "SameSite=Lax; Path=/auth/oidc; Max-Age=600",
            );
            (
                [(header::SET_COOKIE, cookie)],
                Redirect::to(&started.authorize_url),
            )
                .into_response()
        }
        Err(error) => oidc_failed(&error),
    }
}

/// What the provider sends back.
#[derive(Debug, Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Finishes a company sign-in: the login cookie is set and the browser goes where it
/// started; a failure goes back to the login page, which says why.
async fn oidc_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppQuery(callback): AppQuery<Callback>,
) -> Response {
    let Some(config) = state.config.oidc.as_ref() else {
        return Redirect::to("/login").into_response();
    };
    let clear = crate::http::api::auth::set_cookie(
        &state,
        OIDC_COOKIE,
        "",
        "SameSite=Lax; Path=/auth/oidc; Max-Age=0",
    );
    let (Some(code), Some(returned_state)) = (callback.code, callback.state) else {
        tracing::warn!(error = ?callback.error, "the sign-in provider sent no code");
        let failed = crate::organizers::oidc::OidcError::Token(
            callback.error.unwrap_or_else(|| "no code".into()),
        );
        return ([(header::SET_COOKIE, clear)], oidc_failed(&failed)).into_response();
    };
    let finished = crate::organizers::oidc::finish(
        state.store.as_ref(),
        &state.key,
        config,
        &oidc_redirect_uri(&state),
        &code,
        &returned_state,
        crate::http::extract::cookie(&headers, OIDC_COOKIE),
    )
    .await;
    match finished {
        Ok(finished) => {
            let login = crate::http::api::auth::cookie(
                &state,
                &finished.login.token,
                crate::organizers::LOGIN_LIFETIME.num_seconds(),
            );
            let mut response = Redirect::to(&safe_next(Some(&finished.next))).into_response();
            response.headers_mut().append(header::SET_COOKIE, login);
            response.headers_mut().append(header::SET_COOKIE, clear);
            response
        }
        Err(error) => ([(header::SET_COOKIE, clear)], oidc_failed(&error)).into_response(),
    }
}

/// Back to the login page with the failure's code; the details go to the log.
fn oidc_failed(error: &crate::organizers::oidc::OidcError) -> Response {
    tracing::warn!(%error, "company sign-in failed");
    Redirect::to(&format!("/login?failed={}", error.code())).into_response()
}

/// Where an invitation or reset link leads: the page sets the password with the secret in
/// the address's fragment, which browsers never send, so no server log holds it.
async fn welcome(Lang(t): Lang) -> Response {
    render(Page {
        shell: Shell::new(t, "welcome.title", "welcome", "/welcome".into()),
    })
}

/// An organizer's page (of session `id` for the pages about one), or, without a valid login
/// cookie, a redirect to the login page that comes back here; when the database cannot tell,
/// the error.
async fn organizer_page(
    state: &AppState,
    headers: &HeaderMap,
    t: &'static Catalog,
    page: &OrganizerPage,
    id: Option<SessionId>,
) -> Response {
    let path = match id {
        Some(id) => page.route.replace("{id}", &id.to_string()),
        None => page.route.to_owned(),
    };
    let signed_in = match session_cookie(headers) {
        Some(token) => match crate::organizers::authenticate(state.store.as_ref(), token).await {
            Ok(found) => found.is_some(),
            // The database is down: say so, rather than ask for a login that cannot work.
            Err(error) => return crate::http::error::ApiError::from(error).into_response(),
        },
        None => false,
    };
    if !signed_in {
        return Redirect::to(&format!("/login?next={}", query_value(&path))).into_response();
    }
    let mut shell =
        Shell::new(t, page.title_key, page.script, path).data("kinds", state.registry.names());
    if let Some(id) = id {
        shell = shell.data("session", id);
    }
    shell.organizer = true;
    render(Page { shell })
}

/// A path made safe to put in a query string (the `next` of a redirect).
fn query_value(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The big screen. Its script reads the viewer key from `?key=` (the viewer link) and, when
/// there is none, asks for one with the organizer's cookie.
async fn present(
    State(state): State<AppState>,
    Lang(t): Lang,
    AppPath(id): AppPath<SessionId>,
) -> Response {
    render(Page {
        shell: Shell::new(t, "present.title", "present", format!("/present/{id}"))
            .data("session", id)
            .data("kinds", state.registry.names()),
    })
}

async fn join(State(state): State<AppState>, Lang(t): Lang) -> Response {
    render(Join {
        shell: Shell::new(t, "join.title", "join", "/join".into())
            .data("kinds", state.registry.names()),
        code: String::new(),
    })
}

/// A join code as typed or scanned: at most 12 letters and digits, upper-cased.
fn clean_code(code: &str) -> Option<String> {
    (code.len() <= 12 && code.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| code.to_ascii_uppercase())
}

async fn join_code(
    State(state): State<AppState>,
    Lang(t): Lang,
    AppPath(code): AppPath<String>,
) -> Response {
    let code = clean_code(&code).unwrap_or_default();
    render(Join {
        shell: Shell::new(t, "join.title", "join", format!("/join/{code}"))
            .data("code", &code)
            .data("kinds", state.registry.names()),
        code,
    })
}

/// The QR code of a join URL (`PUBLIC_BASE_URL/join/CODE`) as SVG.
async fn qr_code(State(state): State<AppState>, AppPath(code): AppPath<String>) -> Response {
    let Some(code) = clean_code(&code) else {
        return crate::http::error::ApiError::not_found("no such join code").into_response();
    };
    let url = state
        .public_base_url
        .join(&format!("join/{code}"))
        .map(String::from)
        .unwrap_or_default();
    match qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M) {
        Ok(qr) => {
            let svg = qr
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(256, 256)
                .quiet_zone(true)
                .dark_color(qrcode::render::svg::Color("#000000"))
                .light_color(qrcode::render::svg::Color("#ffffff"))
                .build();
            (
                [
                    (header::CONTENT_TYPE, "image/svg+xml"),
                    (header::CACHE_CONTROL, "public, max-age=3600"),
                ],
                svg,
            )
                .into_response()
        }
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_same_site_paths_are_followed_after_login() {
        assert_eq!(
            safe_next(Some("/organizer/sessions/x")),
            "/organizer/sessions/x"
        );
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(None), "/");
        // What browsers drop or rewrite before they follow a Location: tab, CR and LF
        // inside, leading spaces and control characters, backslashes for slashes, userinfo,
        // a scheme without slashes. (The query extractor has already decoded `%09` and
        // friends into these characters.)
        for evil in [
            "/\t/evil.example",
            "/\r/evil.example",
            "/\n/evil.example",
            "/\r\n/evil.example",
            "\t//evil.example",
            " //evil.example",
            "\u{1}//evil.example",
            "\\\\evil.example",
            "\\/evil.example",
            "/\t\\evil.example",
            "//user:pass@evil.example/x",
            "/\t/user@evil.example",
            "https:evil.example",
            "http:\\\\evil.example",
            "javascript:alert(1)",
            "///evil.example",
        ] {
            assert_eq!(safe_next(Some(evil)), "/", "{evil:?}");
        }
        // Same-site paths stay, in a form that is safe in a header.
        assert_eq!(safe_next(Some("/lang/de?next=/x")), "/lang/de?next=/x");
        assert_eq!(safe_next(Some("/a b")), "/a%20b");
        assert_eq!(
            safe_next(Some("/%2F%2Fevil.example")),
            "/%2F%2Fevil.example"
        );
        assert_eq!(safe_next(Some("/@evil.example")), "/@evil.example");
        assert_eq!(safe_next(Some("/ok\n")), "/ok");
    }

    #[test]
    fn join_codes_in_paths_are_letters_and_digits() {
        assert_eq!(clean_code("g75z5b").as_deref(), Some("G75Z5B"));
        assert_eq!(clean_code("../x"), None);
        assert_eq!(clean_code("ABCDEFGHIJKLMN"), None);
    }
}
