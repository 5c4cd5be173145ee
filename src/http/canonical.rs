//! Paths as people type them: every API path answers with and without its trailing slash.
//! A request whose path matches no route, but would with the slash added or taken away, is
//! served as the canonical path (the one in the OpenAPI document), so scripts and curl
//! work either way, POST bodies included, with no redirect to follow.

use axum::extract::Request;
use axum::http::Uri;
use axum::http::uri::PathAndQuery;

/// The API's routes, to find a request's canonical path.
pub struct CanonicalPaths {
    routes: matchit::Router<()>,
}

impl CanonicalPaths {
    /// From the OpenAPI document's paths (`/api/v1/sessions/{id}` style, as axum routes).
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a String>) -> Self {
        let mut routes = matchit::Router::new();
        for path in paths {
            // Every path is a valid axum route already; a duplicate cannot occur in a map.
            let _ = routes.insert(path.as_str(), ());
        }
        Self { routes }
    }

    /// The path to serve instead of `path`, if `path` is not a route but its twin is.
    pub fn canonical(&self, path: &str) -> Option<String> {
        if !path.starts_with("/api/") || self.routes.at(path).is_ok() {
            return None;
        }
        let twin = match path.strip_suffix('/') {
            Some(stripped) => stripped.to_owned(),
            None => format!("{path}/"),
        };
        self.routes.at(&twin).is_ok().then_some(twin)
    }

    /// Rewrites a request to its canonical path, keeping the query.
    pub fn rewrite(&self, mut request: Request) -> Request {
        let Some(path) = self.canonical(request.uri().path()) else {
            return request;
        };
        let with_query = match request.uri().query() {
            Some(query) => format!("{path}?{query}"),
            None => path,
        };
        let mut parts = request.uri().clone().into_parts();
        if let Ok(path_and_query) = with_query.parse::<PathAndQuery>() {
            parts.path_and_query = Some(path_and_query);
            if let Ok(uri) = Uri::from_parts(parts) {
                *request.uri_mut() = uri;
            }
        }
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths() -> CanonicalPaths {
        let routes = [
            "/api/v1/sessions/".to_owned(),
            "/api/v1/sessions/{id}".to_owned(),
            "/api/v1/health/".to_owned(),
        ];
        CanonicalPaths::new(routes.iter())
    }

    #[test]
    fn a_collection_answers_without_its_slash_and_an_item_with_one() {
        let paths = paths();
        assert_eq!(
            paths.canonical("/api/v1/sessions").as_deref(),
            Some("/api/v1/sessions/")
        );
        assert_eq!(
            paths.canonical("/api/v1/sessions/abc/").as_deref(),
            Some("/api/v1/sessions/abc")
        );
        assert_eq!(paths.canonical("/api/v1/sessions/"), None);
        assert_eq!(paths.canonical("/api/v1/nothing"), None);
        assert_eq!(paths.canonical("/join"), None);
    }
}
