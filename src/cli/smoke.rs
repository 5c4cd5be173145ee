//! `conflicto smoke --url URL`: the post-deploy critical path against a running deployment.
//!
//! Health and readiness, the organizer's token, a session with a poll, two participants who
//! join and vote (one retries its request, which must count once), exact results (read until
//! every instance behind the load balancer agrees, at most 5 s), and the session deleted
//! again. One `PASS`/`FAIL` line per step; the exit code is 0 only when every
//! step passed. The session is deleted even when a step in between failed.

use std::fmt::Display;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::root_cause;

/// How long instances may take to agree on results (the relay reloads rounds every
/// 500 ms; this leaves room for a slow database).
const CONVERGE: Duration = Duration::from_secs(5);

/// Options of `conflicto smoke`.
#[derive(Debug, Clone, Args)]
pub struct SmokeArgs {
    /// The deployment, for example https://dev.conflicto.app (through its load balancer).
    #[arg(long, env = "SMOKE_URL", value_name = "URL")]
    pub url: url::Url,

    #[command(flatten)]
    pub organizer: super::OrganizerToken,

    /// Give up on one request after this many seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10)]
    pub timeout_seconds: u64,
}

pub async fn run(args: SmokeArgs) -> ExitCode {
    let client = match reqwest::Client::builder()
        .timeout(Duration::from_secs(args.timeout_seconds))
        .build()
    {
        Ok(client) => client,
        Err(error) => {
            println!("FAIL setup: cannot build an HTTP client: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut smoke = Smoke {
        api: Api {
            client,
            base: api_base(&args.url),
        },
        token: args.organizer.token,
        passed: 0,
        failed: 0,
    };
    let session = smoke.critical_path().await;
    if let Some(session) = session {
        smoke
            .step("clean up", async |s: &Smoke| {
                s.organizer(Method::DELETE, &format!("sessions/{session}"), None)
                    .await?;
                let gone = s
                    .api
                    .send(
                        Method::GET,
                        &format!("sessions/{session}"),
                        Some(&s.token),
                        None,
                    )
                    .await?;
                expect(gone.0 == StatusCode::NOT_FOUND, || {
                    format!("the deleted session still answers {}", gone.0)
                })?;
                Ok(format!("session {session} deleted"))
            })
            .await;
    }
    let total = smoke.passed + smoke.failed;
    if smoke.failed == 0 {
        println!(
            "smoke passed: {total} of {total} steps against {}",
            args.url
        );
        ExitCode::SUCCESS
    } else {
        println!(
            "smoke FAILED: {} of {total} steps failed against {}",
            smoke.failed, args.url
        );
        ExitCode::FAILURE
    }
}

/// `…/api/v1/` under the given URL, whatever path it had.
fn api_base(url: &url::Url) -> url::Url {
    let mut base = url.clone();
    let path = base.path().trim_end_matches('/').to_owned();
    base.set_path(&format!("{path}/api/v1/"));
    base.set_query(None);
    base
}

fn expect(ok: bool, why: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(why()) }
}

struct Api {
    client: reqwest::Client,
    base: url::Url,
}

impl Api {
    /// One request; any answer is returned with its status, only transport errors fail.
    async fn send(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Result<(StatusCode, Value), String> {
        let url = self.base.join(path).map_err(|e| format!("{path}: {e}"))?;
        let mut request = self.client.request(method.clone(), url);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .map_err(|e| format!("{method} {path}: {}", root_cause(&e)))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|e| format!("{method} {path}: {}", root_cause(&e)))?;
        let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, value))
    }

    /// A request that must succeed with a 2xx.
    async fn ok(
        &self,
        method: Method,
        path: &str,
        bearer: Option<&str>,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let (status, value) = self.send(method.clone(), path, bearer, body).await?;
        expect(status.is_success(), || {
            format!("{method} {path}: {status} {value}")
        })?;
        Ok(value)
    }
}

struct Smoke {
    api: Api,
    token: String,
    passed: u32,
    failed: u32,
}

impl Smoke {
    /// Runs one step, prints its line; `None` when it failed.
    async fn step<T: Display>(
        &mut self,
        name: &str,
        work: impl AsyncFnOnce(&Smoke) -> Result<T, String>,
    ) -> Option<T> {
        let started = Instant::now();
        let outcome = work(self).await;
        let took = started.elapsed().as_millis();
        match outcome {
            Ok(what) => {
                self.passed += 1;
                println!("PASS {name} ({took} ms): {what}");
                Some(what)
            }
            Err(why) => {
                self.failed += 1;
                println!("FAIL {name} ({took} ms): {why}");
                None
            }
        }
    }

    async fn organizer(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        self.api.ok(method, path, Some(&self.token), body).await
    }

    /// Every step up to the results; the session's id once one was created, so it can be
    /// deleted whatever happened after.
    async fn critical_path(&mut self) -> Option<String> {
        self.step("health", async |s: &Smoke| {
            let health = s.api.ok(Method::GET, "health/", None, None).await?;
            expect(health["status"] == "healthy", || format!("{health}"))?;
            Ok(format!(
                "{} {} ({})",
                health["status"].as_str().unwrap_or_default(),
                health["app_version"].as_str().unwrap_or_default(),
                health["environment"].as_str().unwrap_or_default()
            ))
        })
        .await;
        self.step("ready", async |s: &Smoke| {
            let ready = s.api.ok(Method::GET, "health/ready", None, None).await?;
            expect(ready["status"] == "ready", || format!("{ready}"))?;
            Ok("ready".to_owned())
        })
        .await;
        self.step("organizer login", async |s: &Smoke| {
            let me = s.organizer(Method::GET, "auth/me", None).await?;
            Ok(format!(
                "token of {}",
                me["organizer"]["email"].as_str().unwrap_or("an organizer")
            ))
        })
        .await?;

        let session = self
            .step("create session", async |s: &Smoke| {
                let title = format!(
                    "smoke {}",
                    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
                );
                let created = s
                    .organizer(
                        Method::POST,
                        "sessions/",
                        Some(json!({"title": title, "max_participants": 10})),
                    )
                    .await?;
                created["id"]
                    .as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("no id in {created}"))
            })
            .await?;
        self.rest_of_path(&session).await;
        Some(session)
    }

    async fn rest_of_path(&mut self, session: &str) -> Option<()> {
        let poll = self
            .step("create poll", async |s: &Smoke| {
                let created = s
                    .organizer(
                        Method::POST,
                        &format!("sessions/{session}/activities"),
                        Some(json!({
                            "kind": "poll", "title": "Smoke test", "results_visibility": "live",
                            "config": {"question": "Does it work?", "options": ["Yes", "Also yes"]},
                        })),
                    )
                    .await?;
                let id = created["id"]
                    .as_str()
                    .ok_or_else(|| format!("no id in {created}"))?
                    .to_owned();
                s.organizer(
                    Method::POST,
                    &format!("activities/{id}/transition"),
                    Some(json!({"to": "published"})),
                )
                .await?;
                s.organizer(
                    Method::PATCH,
                    &format!("sessions/{session}"),
                    Some(json!({"status": "active"})),
                )
                .await?;
                Ok(id)
            })
            .await?;

        let tokens = self
            .step("join two participants", async |s: &Smoke| {
                let mut tokens = Vec::new();
                for nickname in ["smoke-a", "smoke-b"] {
                    let joined = s
                        .api
                        .ok(
                            Method::POST,
                            &format!("sessions/{session}/join"),
                            None,
                            Some(json!({"nickname": nickname})),
                        )
                        .await?;
                    tokens.push(
                        joined["token"]
                            .as_str()
                            .ok_or_else(|| format!("no token in {joined}"))?
                            .to_owned(),
                    );
                }
                Ok(Tokens(tokens))
            })
            .await?;

        self.step("open poll", async |s: &Smoke| {
            s.organizer(
                Method::POST,
                &format!("activities/{poll}/transition"),
                Some(json!({"to": "active"})),
            )
            .await?;
            Ok("active".to_owned())
        })
        .await?;

        self.step("vote", async |s: &Smoke| {
            let path = format!("activities/{poll}/responses");
            let request_id = uuid::Uuid::new_v4().to_string();
            let first = json!({"answer": {"options": [0]}, "client_request_id": request_id});
            s.api
                .ok(Method::POST, &path, Some(&tokens.0[0]), Some(first.clone()))
                .await?;
            // A phone that lost the answer retries with the same request id.
            s.api
                .ok(Method::POST, &path, Some(&tokens.0[0]), Some(first))
                .await?;
            let second = json!({"answer": {"options": [1]},
                                "client_request_id": uuid::Uuid::new_v4().to_string()});
            s.api
                .ok(Method::POST, &path, Some(&tokens.0[1]), Some(second))
                .await?;
            Ok("2 participants voted, one request retried".to_owned())
        })
        .await?;

        self.step("exact results", async |s: &Smoke| {
            s.organizer(
                Method::POST,
                &format!("activities/{poll}/transition"),
                Some(json!({"to": "closed"})),
            )
            .await?;
            // Behind a load balancer the votes may have gone to other instances, whose
            // answers reach this one's tallies within a relay reload (docs/realtime.md):
            // read until they agree, for at most CONVERGE.
            let asked = Instant::now();
            loop {
                let results = s
                    .organizer(Method::GET, &format!("activities/{poll}/results"), None)
                    .await?;
                let counts: Vec<u64> = results["options"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|option| option["count"].as_u64().unwrap_or(u64::MAX))
                    .collect();
                if counts == [1, 1] {
                    let waited = asked.elapsed().as_millis();
                    return Ok(if waited < 100 {
                        "Yes 1, Also yes 1".to_owned()
                    } else {
                        format!("Yes 1, Also yes 1 (every instance agreed after {waited} ms)")
                    });
                }
                expect(asked.elapsed() < CONVERGE, || {
                    format!("expected counts [1, 1], got {counts:?} in {results}")
                })?;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
        .await?;
        Some(())
    }
}

/// The two participants' tokens (shown in the step line as a count only).
struct Tokens(Vec<String>);

impl Display for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} joined", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_base_is_under_any_path_the_url_has() {
        let base = |u: &str| api_base(&url::Url::parse(u).unwrap()).to_string();
        assert_eq!(
            base("https://dev.conflicto.app"),
            "https://dev.conflicto.app/api/v1/"
        );
        assert_eq!(
            base("http://127.0.0.1:8080/conflicto/?x=1"),
            "http://127.0.0.1:8080/conflicto/api/v1/"
        );
    }
}
