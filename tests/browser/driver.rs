//! Headless Chromium through chromedriver (fantoccini), with the waits, screenshots and
//! accessibility checks the page tests share.
//!
//! chromedriver and chromium come from Debian (`apt-get install chromium chromium-driver`);
//! `.ci/run` installs them. Without them the tests skip, unless CI or
//! CONFLICTO_REQUIRE_BROWSER=1 is set: then they fail.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The vendored axe-core (MPL-2.0), injected into pages by the tests only.
const AXE: &str = include_str!("vendor/axe-core-4.14.1/axe.min.js");

/// How long a wait for something on a page may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Where screenshots go: `target/browser-artifacts/` (CI keeps it as an artifact).
pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/browser-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact folder");
    dir
}

fn required() -> bool {
    std::env::var_os("CONFLICTO_REQUIRE_BROWSER").is_some_and(|v| v == "1")
        || std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false")
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A running chromedriver, stopped when dropped.
pub struct Driver {
    child: Child,
    url: String,
    chromium: PathBuf,
}

impl Driver {
    /// Starts chromedriver on a free port, or None (skip) when it or chromium is missing
    /// and browser tests are not required.
    pub async fn start() -> Option<Driver> {
        let driver = find_program(&["chromedriver"]);
        let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"]);
        let (Some(driver), Some(chromium)) = (driver, chromium) else {
            if required() {
                panic!(
                    "browser tests are required but chromedriver or chromium is missing (apt-get install chromium chromium-driver)"
                );
            }
            eprintln!("skipping browser tests: chromedriver or chromium is not installed");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(started.elapsed() < PATIENCE, "chromedriver did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Some(Driver {
            child,
            url,
            chromium,
        })
    }

    /// A new desktop browser (its own profile: cookies and storage are not shared) with a
    /// viewport of `width`×`height`.
    pub async fn browser(&self, name: &str, width: u32, height: u32) -> Browser {
        self.browser_with(name, width, height, &[]).await
    }

    /// A desktop browser started with extra Chromium switches.
    pub async fn browser_with(
        &self,
        name: &str,
        width: u32,
        height: u32,
        switches: &[&str],
    ) -> Browser {
        let browser = self.launch(name, json!({}), switches).await;
        browser.viewport(width, height).await;
        browser
    }

    /// A new phone: a 360×640 touch screen (Chromium's mobile emulation).
    pub async fn phone(&self, name: &str) -> Browser {
        self.launch(
            name,
            json!({"deviceMetrics": {"width": 360, "height": 640, "pixelRatio": 2.0, "touch": true}}),
            &[],
        )
        .await
    }

    async fn launch(&self, name: &str, mobile: Value, switches: &[&str]) -> Browser {
        let profile = tempfile::tempdir().expect("profile dir");
        let mut options = json!({
            "binary": self.chromium,
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--hide-scrollbars",
                format!("--user-data-dir={}", profile.path().display()),
                "--lang=en-US",
            ],
            "prefs": {"intl.accept_languages": "en-US,en"},
        });
        if let Some(args) = options["args"].as_array_mut() {
            args.extend(switches.iter().map(|s| json!(s)));
        }
        if mobile.as_object().is_some_and(|m| !m.is_empty()) {
            options["mobileEmulation"] = mobile;
        }
        let mut caps = serde_json::Map::new();
        caps.insert("goog:chromeOptions".into(), options);
        let client = ClientBuilder::rustls()
            .expect("tls")
            .capabilities(caps)
            .connect(&self.url)
            .await
            .expect("start a browser session");
        Browser {
            client,
            name: name.to_owned(),
            _profile: profile,
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One browser window with helpers that wait for the page instead of sleeping.
pub struct Browser {
    pub client: Client,
    pub name: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    /// Sizes the window so that the page itself gets `width`×`height`.
    pub async fn viewport(&self, width: u32, height: u32) {
        self.client
            .set_window_size(width, height)
            .await
            .expect("resize");
        let inner = self
            .js("return [window.innerWidth, window.innerHeight];", vec![])
            .await;
        let (w, h) = (
            inner[0].as_u64().unwrap_or(width.into()) as u32,
            inner[1].as_u64().unwrap_or(height.into()) as u32,
        );
        if (w, h) != (width, height) {
            self.client
                .set_window_size(2 * width - w.min(2 * width), 2 * height - h.min(2 * height))
                .await
                .expect("resize");
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Runs a script and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("{}: script failed: {e}\n{script}", self.name))
    }

    /// Waits until `css` matches a visible element, and returns its text.
    pub async fn wait_for(&self, css: &str) -> String {
        self.wait_text(css, "").await
    }

    /// Waits until the element matching `css` shows `text` (case-sensitive), and returns
    /// its whole text.
    pub async fn wait_text(&self, css: &str, text: &str) -> String {
        let started = Instant::now();
        let mut last = Value::Null;
        while started.elapsed() < PATIENCE {
            last = self
                .js(
                    "const e = document.querySelector(arguments[0]);
                     return e && e.offsetParent !== null ? e.innerText : (e && getComputedStyle(e).position === 'fixed' ? e.innerText : null);",
                    vec![json!(css), json!(text)],
                )
                .await;
            if let Some(found) = last.as_str()
                && found.contains(text)
            {
                return found.to_owned();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.shot(&format!("FAILED-{}", self.name)).await;
        panic!(
            "{}: `{css}` never showed {text:?}; last text: {last}",
            self.name
        );
    }

    /// Waits until `script` (JavaScript that may use `arguments`) returns true; fails with
    /// `what` and a screenshot after [`PATIENCE`].
    pub async fn wait_until(&self, what: &str, script: &str, args: Vec<Value>) {
        self.retry(what, async || {
            self.js(script, args.clone()).await == json!(true)
        })
        .await;
    }

    /// Waits until `css` matches nothing visible.
    pub async fn wait_gone(&self, css: &str) {
        self.retry(&format!("`{css}` is still shown"), async || {
            self.js(
                "const e = document.querySelector(arguments[0]); return !!(e && e.offsetParent !== null);",
                vec![json!(css)],
            )
            .await
                == json!(false)
        })
        .await;
    }

    /// Tries `attempt` every 100 ms until it succeeds; after [`PATIENCE`] saves a screenshot
    /// and fails with `what`.
    async fn retry(&self, what: &str, mut attempt: impl AsyncFnMut() -> bool) {
        let started = Instant::now();
        while !attempt().await {
            if started.elapsed() > PATIENCE {
                self.shot(&format!("FAILED-{}", self.name)).await;
                panic!("{}: {what}", self.name);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of the first element matching `css`, or "".
    pub async fn text(&self, css: &str) -> String {
        self.js(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';",
            vec![json!(css)],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Clicks the element matching `css` once it is there and enabled.
    pub async fn click(&self, css: &str) {
        self.retry(&format!("could not click `{css}`"), async || {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => {
                    element.is_enabled().await.unwrap_or(false) && element.click().await.is_ok()
                }
                Err(_) => false,
            }
        })
        .await;
    }

    /// Clicks the first button or link matching `css` whose text contains `label`.
    pub async fn click_text(&self, css: &str, label: &str) {
        self.retry(&format!("no `{css}` reading {label:?} to click"), async || {
            self.js(
                "const hit = [...document.querySelectorAll(arguments[0])]
                    .find(e => e.innerText.includes(arguments[1]) && !e.disabled && e.offsetParent !== null);
                 if (hit) { hit.scrollIntoView({block: 'center'}); hit.click(); return true; }
                 return false;",
                vec![json!(css), json!(label)],
            )
            .await
                == json!(true)
        })
        .await;
    }

    /// Replaces the value of the input matching `css` by typing `text` into it.
    pub async fn fill(&self, css: &str, text: &str) {
        self.fill_nth(css, 0, text).await;
    }

    /// Types `text` into the `n`th element matching `css` (0-based). A page may redraw the
    /// element between finding and typing: then it is found again.
    pub async fn fill_nth(&self, css: &str, n: usize, text: &str) {
        self.retry(
            &format!("no element {n} of `{css}` to type in"),
            async || match self.nth(css, n).await {
                Some(element) => {
                    element.clear().await.is_ok() && element.send_keys(text).await.is_ok()
                }
                None => false,
            },
        )
        .await;
    }

    /// Chooses the file at `path` in the file input matching `css`.
    pub async fn upload(&self, css: &str, path: &std::path::Path) {
        let path = path.to_str().expect("a UTF-8 path").to_owned();
        self.retry(&format!("no file input `{css}`"), async || {
            match self.nth(css, 0).await {
                Some(element) => element.send_keys(&path).await.is_ok(),
                None => false,
            }
        })
        .await;
    }

    /// Clicks the `n`th element matching `css` (0-based).
    pub async fn click_nth(&self, css: &str, n: usize) {
        self.retry(
            &format!("cannot click element {n} of `{css}`"),
            async || match self.nth(css, n).await {
                Some(element) => element.click().await.is_ok(),
                None => false,
            },
        )
        .await;
    }

    async fn nth(&self, css: &str, n: usize) -> Option<fantoccini::elements::Element> {
        let mut found = self.client.find_all(Locator::Css(css)).await.ok()?;
        (n < found.len()).then(|| found.swap_remove(n))
    }

    /// Sets a `<select>`'s value as a person choosing from it would.
    pub async fn select(&self, css: &str, value: &str) {
        self.wait_for(css).await;
        self.js(
            "const s = document.querySelector(arguments[0]); s.value = arguments[1];
             s.dispatchEvent(new Event('change', {bubbles: true})); return s.value;",
            vec![json!(css), json!(value)],
        )
        .await;
    }

    /// Saves a screenshot as `<name>.png` in the artifact folder.
    pub async fn shot(&self, name: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let _ = std::fs::write(artifacts().join(format!("{name}.png")), png);
        }
    }

    /// Runs axe-core on the page and fails on any serious or critical violation.
    pub async fn check_accessibility(&self, page: &str) {
        let loaded = self
            .js("return typeof window.axe === 'object';", vec![])
            .await;
        if loaded != json!(true) {
            self.js(&format!("{AXE}\n;return true;"), vec![]).await;
        }
        let violations = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, {resultTypes: ['violations']}).then(r => done(r.violations
                   .filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => ({id: v.id, impact: v.impact, help: v.help,
                               nodes: v.nodes.slice(0, 4).map(n => n.target.join(' ') + ' ' + (n.failureSummary || ''))}))))
                 .catch(e => done([{id: 'axe-error', help: String(e)}]));",
                vec![],
            )
            .await
            .expect("axe ran");
        let list = violations.as_array().cloned().unwrap_or_default();
        if !list.is_empty() {
            self.shot(&format!("FAILED-axe-{page}")).await;
        }
        assert!(
            list.is_empty(),
            "{page}: accessibility violations:\n{}",
            serde_json::to_string_pretty(&list).unwrap()
        );
    }

    /// Checks the big screen as the room sees it: no element leaves the viewport, nothing
    /// overlaps, the page does not scroll, and every text meant for the room is at least
    /// 2.2 % of the viewport height. Fails naming the offenders, with a screenshot.
    pub async fn check_room(&self, page: &str) {
        // Entries sliding or turning in are checked where they come to rest.
        self.retry("the screen never stopped moving", async || {
            self.js(
                "return document.getAnimations().every((a) => a.playState !== 'running' || a.effect?.target?.closest?.('.floats'));",
                vec![],
            )
            .await
                == json!(true)
        })
        .await;
        let offenders = self
            .js(
                "const w = innerWidth, h = innerHeight, min = 0.022 * h, out = [];
                 const shown = (el) => el.offsetParent !== null && !el.closest('.sr-only, .floats, .help, .toast');
                 const name = (el) => el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).trim().split(/\\s+/).join('.') : '');
                 const root = document.scrollingElement;
                 if (root.scrollHeight > h + 1 || root.scrollWidth > w + 1) out.push(`page scrolls: ${root.scrollWidth}x${root.scrollHeight}`);
                 // A typeset formula is one drawing: its parts overlap and shrink by design
                 // (fraction bars, scripts), so only its whole box is checked.
                 const inFormula = (el) => el.parentElement?.closest('.katex');
                 for (const el of document.querySelectorAll('main *')) {
                   if (!shown(el) || inFormula(el)) continue;
                   const r = el.getBoundingClientRect();
                   if (r.width && r.height && (r.left < -1 || r.top < -1 || r.right > w + 1 || r.bottom > h + 1)) {
                     out.push(`${name(el)} leaves the screen: ${Math.round(r.left)},${Math.round(r.top)}–${Math.round(r.right)},${Math.round(r.bottom)}`);
                   }
                   const text = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
                   const size = parseFloat(getComputedStyle(el).fontSize);
                   if (text && size < min - 0.5) out.push(`${name(el)} \"${el.textContent.trim().slice(0, 30)}\" is ${size.toFixed(1)}px, under ${min.toFixed(1)}px`);
                 }
                 // Nothing overlaps: no line of text and no drawn part (a QR code, a bar, a
                 // card) covers another that is not its own ancestor or descendant.
                 const boxes = [];
                 const walker = document.createTreeWalker(document.querySelector('main'), NodeFilter.SHOW_TEXT);
                 for (let n = walker.nextNode(); n; n = walker.nextNode()) {
                   if (!n.textContent.trim() || !shown(n.parentElement) || n.parentElement.closest('.katex')) continue;
                   const range = document.createRange();
                   range.selectNodeContents(n);
                   // Text cut with an ellipsis, or lines clamped, show only inside the boxes of
                   // the elements around them that clip.
                   const el = n.parentElement, clips = [];
                   for (let up = el; up && up !== document.body; up = up.parentElement) {
                     if (getComputedStyle(up).overflow !== 'visible') clips.push(up.getBoundingClientRect());
                   }
                   for (let r of range.getClientRects()) {
                     for (const clip of clips) r = new DOMRect(Math.max(r.left, clip.left), Math.max(r.top, clip.top), Math.min(r.right, clip.right) - Math.max(r.left, clip.left), Math.min(r.bottom, clip.bottom) - Math.max(r.top, clip.top));
                     if (r.width > 1 && r.height > 1) boxes.push([el, r]);
                   }
                 }
                 for (const el of document.querySelectorAll('main img, main .bar-track, main .column-track, main .poker-card, main .stack-card, main .card, main .question, main .buzz, main .tile, main .stat, main .corner, main .katex')) {
                   if (shown(el)) boxes.push([el, el.getBoundingClientRect()]);
                 }
                 const over = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 2 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2;
                 for (let i = 0; i < boxes.length && out.length < 12; i++) {
                   for (let j = i + 1; j < boxes.length; j++) {
                     const [a, ra] = boxes[i], [b, rb] = boxes[j];
                     if (a.contains(b) || b.contains(a) || !over(ra, rb)) continue;
                     out.push(`${name(a)} \"${a.textContent.trim().slice(0, 20)}\" overlaps ${name(b)} \"${b.textContent.trim().slice(0, 20)}\"`);
                     break;
                   }
                 }
                 return [...new Set(out)].slice(0, 12);",
                vec![],
            )
            .await;
        let list = offenders.as_array().cloned().unwrap_or_default();
        if !list.is_empty() {
            self.shot(&format!("FAILED-room-{page}")).await;
        }
        assert!(
            list.is_empty(),
            "{page}: the room cannot read it all:\n{}",
            serde_json::to_string_pretty(&list).unwrap()
        );
    }

    /// Opens the sign-in page at `login_url` (which may carry a `next`) and signs in.
    pub async fn sign_in(&self, login_url: &str, email: &str, password: &str) {
        self.goto(login_url).await;
        self.fill("#email", email).await;
        self.fill("#password", password).await;
        self.click("#login-form button[type=submit]").await;
    }

    /// Accepts every confirm() the page asks from now on.
    pub async fn accept_confirms(&self) {
        self.js("window.confirm = () => true; return true;", vec![])
            .await;
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
