//! `conflicto health-check --url URL`: one GET, one line of output, exit 0 when healthy.
//! Used by the container HEALTHCHECK and the deploy pipelines.

use std::process::ExitCode;
use std::time::Duration;

use serde::Deserialize;

use super::{HealthCheckArgs, root_cause};

/// The fields read from any of the three health answers.
#[derive(Debug, Deserialize)]
struct HealthAnswer {
    status: String,
    #[serde(default)]
    app_version: Option<String>,
    #[serde(default)]
    error: Option<ErrorPart>,
}

#[derive(Debug, Deserialize)]
struct ErrorPart {
    message: String,
}

/// The URL to check: a bare origin means `/api/v1/health/`.
pub fn target(url: &url::Url) -> url::Url {
    let mut url = url.clone();
    if url.path() == "/" || url.path().is_empty() {
        url.set_path("/api/v1/health/");
    }
    url
}

/// Checks once and prints `healthy: …` or `unhealthy: …`.
pub async fn run(args: HealthCheckArgs) -> ExitCode {
    let url = target(&args.url);
    match check(&url, Duration::from_secs(args.timeout_seconds)).await {
        Ok(line) => {
            println!("healthy: {line}");
            ExitCode::SUCCESS
        }
        Err(line) => {
            println!("unhealthy: {line}");
            ExitCode::FAILURE
        }
    }
}

async fn check(url: &url::Url, timeout: Duration) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let response = client.get(url.clone()).send().await.map_err(|e| {
        if e.is_timeout() {
            format!("{url} did not answer within {} s", timeout.as_secs())
        } else {
            format!("{url} could not be reached ({})", root_cause(&e))
        }
    })?;
    let status = response.status();
    let answer: Option<HealthAnswer> = response.json().await.ok();
    let good = matches!(
        answer.as_ref().map(|a| a.status.as_str()),
        Some("healthy" | "ready" | "alive")
    );
    match answer {
        Some(answer) if status.is_success() && good => Ok(format!(
            "{url} answered {} ({}, release {})",
            status.as_u16(),
            answer.status,
            answer.app_version.as_deref().unwrap_or("unknown")
        )),
        Some(answer) => Err(format!(
            "{url} answered {} ({}{})",
            status.as_u16(),
            answer.status,
            answer
                .error
                .map(|e| format!(": {}", e.message))
                .unwrap_or_default()
        )),
        None => Err(format!(
            "{url} answered {} without a health body",
            status.as_u16()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_origin_checks_the_health_endpoint() {
        let cases = [
            (
                "http://localhost:8080",
                "http://localhost:8080/api/v1/health/",
            ),
            (
                "http://x/api/v1/health/ready",
                "http://x/api/v1/health/ready",
            ),
        ];
        for (given, expected) in cases {
            assert_eq!(target(&given.parse().unwrap()).as_str(), expected);
        }
    }
}
