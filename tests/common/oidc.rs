//! The OpenID Provider the company sign-in tests run against: panva's certified
//! `oidc-provider`, run by Node from tests/oidc (scripts/test.sh installs it).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use conflicto::config::{OidcConfig, Secret};
use serde_json::{Value, json};

/// The app's client id and secret at the test provider.
pub const CLIENT_ID: &str = "conflicto";
const CLIENT_SECRET: &str = "a-test-client-secret-of-some-length";

/// Company sign-in against `issuer`: people of corp.example or of the group
/// `conflicto-organizers` may sign in; the button says "Corp SSO".
pub fn config(issuer: &str) -> OidcConfig {
    OidcConfig {
        issuer: issuer.parse().unwrap(),
        client_id: CLIENT_ID.into(),
        client_secret: Secret::new(CLIENT_SECRET),
        allowed_domains: vec!["corp.example".into()],
        allowed_groups: vec!["conflicto-organizers".into()],
        groups_claim: "groups".into(),
        create_accounts: true,
        label: Some("Corp SSO".into()),
    }
}

/// A client registration at the provider, `id`, whose callback is the app at `base`.
pub fn client(base: &str, id: &str) -> Value {
    json!({
        "client_id": id,
        "client_secret": CLIENT_SECRET,
        "redirect_uris": [format!("{base}/auth/oidc/callback")],
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
    })
}

/// A running provider; stopped when dropped.
pub struct Provider {
    child: Child,
    port: u16,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn provider_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc")
}

/// Whether Node and the provider package are here; in CI their absence fails the test.
pub fn provider_available() -> bool {
    let installed = provider_dir().join("node_modules/oidc-provider").is_dir()
        && Command::new("node").arg("--version").output().is_ok();
    if !installed && super::postgres_required() {
        panic!(
            "the OIDC tests need Node.js and `npm ci --prefix tests/oidc` (scripts/test.sh runs it)"
        );
    }
    installed
}

impl Provider {
    /// Starts the provider on `port`, naming `issuer`, with `clients` registered, its clock
    /// `skew_seconds` off.
    pub fn start(port: u16, issuer: &str, clients: &Value, skew_seconds: i64) -> Provider {
        let mut child = Command::new("node")
            .arg(provider_dir().join("provider.mjs"))
            .env("PORT", port.to_string())
            .env("ISSUER", issuer)
            .env("CLIENTS", clients.to_string())
            .env("SKEW_SECONDS", skew_seconds.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node");
        // The provider prints one line once it listens.
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)
            .expect("the provider's first line");
        assert!(line.starts_with("listening"), "{line}");
        Provider { child, port }
    }
}
