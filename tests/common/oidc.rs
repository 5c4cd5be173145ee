//! The OpenID Provider the company sign-in tests run against: panva's certified
//! `oidc-provider`, run by Node from tests/oidc (scripts/test.sh installs it).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

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
