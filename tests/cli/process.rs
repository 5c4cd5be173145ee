//! A `conflicto serve` child process: started, asked over HTTP, signalled, and its log
//! lines collected.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running server process.
pub struct Server {
    child: Child,
    /// The URL it printed ("Conflicto is running: open URL").
    pub url: String,
    logs: Arc<Mutex<Vec<String>>>,
}

/// The parts of an HTTP answer tests look at.
pub struct Answer {
    pub status: u16,
    pub request_id: String,
    pub body: String,
}

impl Server {
    /// Spawns `command` and waits (at most 30 s) for the line that names the URL.
    pub fn start(mut command: Command) -> Server {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn conflicto");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let stderr = child.stderr.take().unwrap();
        let (found, url) = std::sync::mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("Conflicto is running: open ") {
                    let _ = found.send(url.to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let url = match url.recv_timeout(Duration::from_secs(30)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "the server never printed its URL: {:#?}",
                    logs.lock().unwrap()
                );
            }
        };
        Server { child, url, logs }
    }

    /// GET `path` with a blocking client.
    pub fn get(&self, path: &str) -> Answer {
        let url = format!("{}{}", self.url.trim_end_matches('/'), path);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let response = reqwest::get(&url).await.expect("GET");
            let status = response.status().as_u16();
            let request_id = response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned();
            let body = response.text().await.unwrap();
            Answer {
                status,
                request_id,
                body,
            }
        })
    }

    /// GET `path` and parse JSON.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        serde_json::from_str(&self.get(path).body).unwrap()
    }

    /// Sends SIGTERM and waits for exit; returns the status and how long it took.
    pub fn terminate(&mut self) -> (ExitStatus, Duration) {
        self.signal("TERM")
    }

    /// Sends a signal by name and waits (at most 15 s) for exit.
    pub fn signal(&mut self, name: &str) -> (ExitStatus, Duration) {
        let started = Instant::now();
        let sent = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(sent.success());
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(15) {
                let _ = self.child.kill();
                panic!("the server ignored SIG{name}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every line written so far, stdout and stderr.
    pub fn logs(&self) -> Vec<String> {
        // The reader threads may still be flushing the last lines after exit.
        std::thread::sleep(Duration::from_millis(100));
        self.logs.lock().unwrap().clone()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
