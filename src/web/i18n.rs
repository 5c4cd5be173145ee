//! The text of the pages, one JSON file per language in `locales/`, embedded in the binary.
//! Adding a language is adding one file: every file found is offered, and a test checks that
//! each has exactly the keys of `en.json` (a counted string's plural forms follow each
//! language's own categories). Templates look strings up with [`Catalog::t`]; the
//! JavaScript modules get the whole catalog as JSON in the page.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "locales/"]
struct Files;

/// The test build's toy kind's keys (see `activities::toy`), merged into each language.
#[cfg(feature = "toy-kind")]
#[derive(RustEmbed)]
#[folder = "tests/toy_kind/locales/"]
struct ToyFiles;

/// The plural categories of `Intl.PluralRules`: a key ending in one of them is a form of a
/// counted string.
pub const PLURAL_CATEGORIES: [&str; 6] = ["zero", "one", "two", "few", "many", "other"];

/// The cookie that remembers the chosen language.
pub const LANG_COOKIE: &str = "conflicto_lang";
/// The language used when nothing else matches, and the reference for the others' keys.
pub const DEFAULT_LANG: &str = "en";

/// One language's strings.
#[derive(Debug)]
pub struct Catalog {
    /// The language tag, the file's name without `.json` (`en`, `de`).
    pub lang: String,
    /// The language's own name (the `language.name` string), for the switcher.
    pub name: String,
    strings: BTreeMap<String, String>,
    /// The strings as JSON, safe to put inside a `<script>` element.
    pub json: String,
}

impl Catalog {
    /// The string for `key`, or the key itself when it is missing (a test keeps that from
    /// happening in a shipped file).
    pub fn t<'a>(&'a self, key: &'a str) -> &'a str {
        self.strings.get(key).map(String::as_str).unwrap_or(key)
    }

    /// Every key, for the completeness test.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.strings.keys().map(String::as_str)
    }
}

/// Every embedded language, the default first.
pub static CATALOGS: LazyLock<Vec<Catalog>> = LazyLock::new(|| {
    let mut catalogs: Vec<Catalog> = Files::iter()
        .filter_map(|name| {
            let lang = name.strip_suffix(".json")?.to_owned();
            let file = Files::get(&name)?;
            let strings: BTreeMap<String, String> = serde_json::from_slice(&file.data)
                .unwrap_or_else(|e| panic!("locales/{name} is not a flat JSON object: {e}"));
            #[cfg(feature = "toy-kind")]
            let mut strings = strings;
            #[cfg(feature = "toy-kind")]
            if let Some(toy) = ToyFiles::get(&name) {
                let keys: BTreeMap<String, String> = serde_json::from_slice(&toy.data)
                    .unwrap_or_else(|e| panic!("the toy kind's {name} is not flat JSON: {e}"));
                strings.extend(keys);
            }
            // `<` escaped, so no string can close the script element it is embedded in.
            let json = serde_json::to_string(&strings)
                .expect("strings serialise")
                .replace('<', "\\u003c");
            let name = strings
                .get("language.name")
                .cloned()
                .unwrap_or(lang.clone());
            Some(Catalog {
                lang,
                name,
                strings,
                json,
            })
        })
        .collect();
    catalogs.sort_by_key(|c| (c.lang != DEFAULT_LANG, c.lang.clone()));
    assert!(
        catalogs.first().is_some_and(|c| c.lang == DEFAULT_LANG),
        "locales/{DEFAULT_LANG}.json is missing"
    );
    catalogs
});

/// The catalog for a language tag, if shipped.
pub fn catalog(lang: &str) -> Option<&'static Catalog> {
    CATALOGS.iter().find(|c| c.lang.eq_ignore_ascii_case(lang))
}

/// The language of a request: the `conflicto_lang` cookie, then the first shipped language
/// in `Accept-Language`, then English.
pub fn negotiate(headers: &HeaderMap) -> &'static Catalog {
    let from_cookie = crate::http::extract::cookie(headers, LANG_COOKIE).and_then(catalog);
    let from_header = || {
        let accept = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)?
            .to_str()
            .ok()?;
        let mut ranked: Vec<(f32, &str)> = accept
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.trim().split(';');
                let tag = pieces.next()?.trim();
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse::<f32>().ok())
                    .unwrap_or(1.0);
                Some((q, tag))
            })
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        ranked
            .into_iter()
            .find_map(|(_, tag)| catalog(tag.split('-').next().unwrap_or(tag)))
    };
    from_cookie.or_else(from_header).unwrap_or(&CATALOGS[0])
}

/// The negotiated catalog, as an extractor.
pub struct Lang(pub &'static Catalog);

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang(negotiate(&parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_language_has_exactly_the_english_keys() {
        // A counted string is one key per plural category (`x.one`, `x.other`), and
        // languages have different categories: those keys are compared by their base, and
        // each language must have the `other` form.
        let base = |key: &str| -> String {
            match key.rsplit_once('.') {
                Some((stem, category)) if PLURAL_CATEGORIES.contains(&category) => {
                    format!("{stem}.*")
                }
                _ => key.to_owned(),
            }
        };
        let english: BTreeSet<String> = CATALOGS[0].keys().map(base).collect();
        assert!(CATALOGS.len() >= 2, "English and German ship");
        for catalog in CATALOGS.iter() {
            let keys: BTreeSet<String> = catalog.keys().map(base).collect();
            let missing: Vec<_> = english.difference(&keys).collect();
            let extra: Vec<_> = keys.difference(&english).collect();
            assert!(
                missing.is_empty() && extra.is_empty(),
                "{}: missing {missing:?}, extra {extra:?}",
                catalog.lang
            );
            for key in catalog.keys() {
                assert!(
                    !catalog.t(key).trim().is_empty(),
                    "{}: {key} is empty",
                    catalog.lang
                );
                if let Some(stem) = base(key).strip_suffix(".*") {
                    let other = format!("{stem}.other");
                    assert!(
                        catalog.keys().any(|k| k == other),
                        "{}: {stem} has no `other` form",
                        catalog.lang
                    );
                }
            }
        }
    }

    /// Pages show an error by its code (`error.<code>`) and a broken rule by its code
    /// (`rule.<code>`, and `rule.<code>_max` for a limit with no minimum), never the
    /// server's English: every code the server can send needs its message everywhere.
    #[test]
    fn every_error_code_and_rule_has_a_message_in_every_language() {
        use crate::http::error::ErrorCode;
        use crate::model::invalid::Rule;
        let mut wanted: Vec<String> = ErrorCode::ALL
            .iter()
            .map(|code| format!("error.{}", code.as_str()))
            .collect();
        wanted.extend(Rule::CODES.iter().map(|code| format!("rule.{code}")));
        wanted.extend(["rule.length_max".into(), "rule.count_max".into()]);
        for catalog in CATALOGS.iter() {
            let missing: Vec<&String> = wanted
                .iter()
                .filter(|key| !catalog.keys().any(|k| k == key.as_str()))
                .collect();
            assert!(missing.is_empty(), "{}: missing {missing:?}", catalog.lang);
        }
    }

    #[test]
    fn the_language_comes_from_the_cookie_then_the_browser() {
        let mut headers = HeaderMap::new();
        assert_eq!(negotiate(&headers).lang, "en");
        headers.insert(
            "accept-language",
            "sv-SE, de-CH;q=0.8, en;q=0.5".parse().unwrap(),
        );
        assert_eq!(negotiate(&headers).lang, "de", "the first one shipped");
        headers.insert("accept-language", "pl-PL,pl;q=0.9".parse().unwrap());
        assert_eq!(negotiate(&headers).lang, "pl");
        headers.insert("cookie", "a=b; conflicto_lang=en".parse().unwrap());
        assert_eq!(negotiate(&headers).lang, "en");
        headers.insert("cookie", "conflicto_lang=xx".parse().unwrap());
        assert_eq!(negotiate(&headers).lang, "pl");
    }

    /// Eight languages ship, and each translation keeps the English string's placeholders
    /// (`{count}`, `{field}`): a lost one would show a raw brace or drop a number.
    #[test]
    fn every_translation_keeps_its_placeholders() {
        let langs: Vec<&str> = CATALOGS.iter().map(|c| c.lang.as_str()).collect();
        for lang in ["en", "de", "fr", "es", "it", "nl", "pt", "pl"] {
            assert!(langs.contains(&lang), "{lang} ships");
        }
        let placeholders = |text: &str| -> BTreeSet<String> {
            text.split('{')
                .skip(1)
                .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_owned()))
                .collect()
        };
        let stem = |key: &str| match key.rsplit_once('.') {
            Some((stem, category)) if PLURAL_CATEGORIES.contains(&category) => {
                format!("{stem}.other")
            }
            _ => key.to_owned(),
        };
        let english = &CATALOGS[0];
        for catalog in CATALOGS.iter() {
            for key in catalog.keys() {
                let wanted = placeholders(english.t(&stem(key)));
                let found = placeholders(catalog.t(key));
                // A singular form may say "one" instead of {count}.
                assert!(
                    found.is_subset(&wanted) && (key.ends_with(".one") || found == wanted),
                    "{}: {key} has {found:?}, English {wanted:?}",
                    catalog.lang
                );
            }
        }
    }

    #[test]
    fn strings_cannot_close_their_script_element() {
        for catalog in CATALOGS.iter() {
            assert!(!catalog.json.contains('<'), "{}", catalog.lang);
        }
    }
}
