//! The replay page in a real browser: headless Chromium driven over the Chrome DevTools
//! Protocol. The page must load from a file path, play when its button is clicked (the
//! block tree grows, the story advances, virtual time moves) and keep frames short.
//!
//! Without a `chromium` binary the test says so loudly and passes, unless
//! `FORKSIM_REQUIRE_BROWSER=1` (set by `.ci/run`), which turns the missing browser into a
//! failure.

use std::io::ErrorKind;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tungstenite::{Message, WebSocket};

use crate::support::{forksim_ok, scenario};

/// Longest wait for any one step of the browser.
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// The page of a 100-node, 50-block run must stay below this.
const PAGE_MAX_BYTES: u64 = 5 * 1024 * 1024;
/// Real time the page plays before it is checked.
const PLAY_FOR: Duration = Duration::from_secs(3);

/// Writes a line to standard error past the test harness's capture (which takes only the
/// `eprintln!` family), so the measurements and a skip show in a plain `cargo test`.
fn note(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// The first Chromium found on `PATH`.
fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"].iter().find_map(
        |name| std::env::split_paths(&path).map(|dir| dir.join(name)).find(|p| p.is_file()),
    )
}

/// A headless browser in its own process group, killed with its children when dropped.
struct Browser {
    child: Child,
    profile: tempfile::TempDir,
}

impl Browser {
    fn launch(binary: &Path) -> Browser {
        use std::os::unix::process::CommandExt;
        let profile = tempfile::tempdir().expect("a temporary profile folder");
        let log = std::fs::File::create(profile.path().join("chromium.log")).expect("log file");
        let child = Command::new(binary)
            .args([
                "--headless=new",
                "--remote-debugging-port=0",
                &format!("--user-data-dir={}", profile.path().display()),
                "--no-sandbox",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--hide-scrollbars",
                "--window-size=1400,1000",
                "about:blank",
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        Browser { child, profile }
    }

    /// The browser's DevTools websocket address, from the `DevToolsActivePort` file it
    /// writes into its profile once it listens.
    fn websocket_url(&mut self) -> String {
        let file = self.profile.path().join("DevToolsActivePort");
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Ok(text) = std::fs::read_to_string(&file) {
                let mut lines = text.lines();
                if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                    return format!("ws://127.0.0.1:{port}{path}");
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromium exited ({status}) before listening:\n{}", self.log());
            }
            assert!(Instant::now() < deadline, "no DevToolsActivePort after 30 s:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log(&self) -> String {
        let text =
            std::fs::read_to_string(self.profile.path().join("chromium.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The renderer and GPU helpers are in the same group: end them too.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
    }
}

/// A DevTools Protocol connection, attached to one page.
struct Cdp {
    ws: WebSocket<TcpStream>,
    next_id: u64,
    session: Option<String>,
    /// Exceptions and console errors the page reported.
    page_errors: Vec<String>,
}

impl Cdp {
    fn connect(url: &str) -> Cdp {
        let address = url.trim_start_matches("ws://").split('/').next().expect("host:port");
        let stream = TcpStream::connect(address).unwrap_or_else(|e| panic!("{address}: {e}"));
        stream.set_read_timeout(Some(STEP_TIMEOUT)).expect("read timeout");
        let (ws, _) = tungstenite::client(url, stream)
            .unwrap_or_else(|e| panic!("websocket handshake with {url}: {e}"));
        ws.get_ref().set_read_timeout(Some(Duration::from_millis(200))).expect("read timeout");
        Cdp { ws, next_id: 1, session: None, page_errors: Vec::new() }
    }

    /// Sends a command to the attached page (or the browser before attaching) and waits
    /// for its answer, noting the page's errors among the events that come first.
    fn call(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        self.ws.send(Message::text(msg.to_string())).unwrap_or_else(|e| panic!("{method}: {e}"));
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            assert!(Instant::now() < deadline, "{method}: no answer after 30 s");
            let text = match self.ws.read() {
                Ok(Message::Text(t)) => t,
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    continue;
                }
                Err(e) => panic!("{method}: {e}"),
            };
            let reply: Value = serde_json::from_str(&text).expect("DevTools sends JSON");
            if reply["id"] == json!(id) {
                if let Some(error) = reply.get("error") {
                    panic!("{method} failed: {error}");
                }
                return reply["result"].clone();
            }
            match reply["method"].as_str() {
                Some("Runtime.exceptionThrown") => {
                    self.page_errors.push(reply["params"]["exceptionDetails"].to_string());
                }
                Some("Runtime.consoleAPICalled") if reply["params"]["type"] == "error" => {
                    self.page_errors.push(reply["params"]["args"].to_string());
                }
                _ => {}
            }
        }
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    fn eval(&mut self, expression: &str) -> Value {
        let result = self.call(
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
        );
        if let Some(e) = result.get("exceptionDetails") {
            panic!("{expression}: {e}");
        }
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` until it is true.
    fn wait_for(&mut self, what: &str, expression: &str) {
        let deadline = Instant::now() + STEP_TIMEOUT;
        while self.eval(expression) != json!(true) {
            assert!(Instant::now() < deadline, "{what}: not after 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A real left click at the centre of the element with this id.
    fn click(&mut self, id: &str) {
        let centre = self.eval(&format!(
            "(() => {{ const r = document.getElementById('{id}').getBoundingClientRect(); \
             return {{ x: r.x + r.width / 2, y: r.y + r.height / 2, w: r.width }}; }})()"
        ));
        assert!(centre["w"].as_f64().unwrap_or(0.0) > 0.0, "#{id} is not displayed");
        let (x, y) = (centre["x"].clone(), centre["y"].clone());
        self.call("Input.dispatchMouseEvent", json!({ "type": "mouseMoved", "x": x, "y": y }));
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": x, "y": y, "button": "left", "clickCount": 1 }),
            );
        }
    }
}

/// (median, 95th percentile) of `values`.
fn median_p95(values: &[f64]) -> (f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pick = |q: f64| v[((q * (v.len() - 1) as f64).round() as usize).min(v.len() - 1)];
    (pick(0.5), pick(0.95))
}

fn numbers(v: &Value) -> Vec<f64> {
    v.as_array().map(|a| a.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
}

/// The browser to drive, or `None` (after saying so) when there is none and CI does not
/// require one.
fn chromium_or_skip() -> Option<PathBuf> {
    let found = find_chromium();
    if found.is_none() {
        if std::env::var("FORKSIM_REQUIRE_BROWSER").as_deref() == Ok("1") {
            panic!("FORKSIM_REQUIRE_BROWSER=1 but no chromium on PATH (apt-get install chromium)");
        }
        note("\n***** browser test skipped: install chromium (apt-get install chromium) *****\n");
    }
    found
}

/// Opens `page` in a fresh headless browser and waits until it has drawn a few frames.
fn open_page(chromium: &Path, page: &Path) -> (Browser, Cdp) {
    let mut browser = Browser::launch(chromium);
    let mut cdp = Cdp::connect(&browser.websocket_url());
    let url = format!("file://{}", page.display());
    let target = cdp.call("Target.createTarget", json!({ "url": "about:blank" }));
    let attached = cdp
        .call("Target.attachToTarget", json!({ "targetId": target["targetId"], "flatten": true }));
    cdp.session = Some(attached["sessionId"].as_str().expect("a session id").to_string());
    cdp.call("Runtime.enable", json!({}));
    cdp.call(
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": false }),
    );
    cdp.call("Page.enable", json!({}));
    cdp.call("Page.navigate", json!({ "url": url }));
    cdp.wait_for(
        "the page loads and draws",
        "document.readyState === 'complete' && typeof window.forksimStats === 'object' \
         && window.forksimStats.frames.length > 5",
    );
    (browser, cdp)
}

/// Saves a screenshot of the page as `name` in Cargo's scratch folder for integration tests.
fn screenshot(cdp: &mut Cdp, name: &str) {
    let shot = cdp.call("Page.captureScreenshot", json!({ "format": "png" }));
    let png = data_encoding::BASE64
        .decode(shot["data"].as_str().expect("screenshot data").as_bytes())
        .expect("base64 screenshot");
    let shot_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::write(&shot_path, &png).unwrap_or_else(|e| panic!("{}: {e}", shot_path.display()));
    note(&format!("replay page screenshot: {}", shot_path.display()));
}

/// Closes the browser politely; the guard kills whatever is left.
fn close(mut cdp: Cdp, browser: Browser) {
    cdp.session = None;
    let _ = cdp.ws.send(Message::text(json!({ "id": 0, "method": "Browser.close" }).to_string()));
    drop(browser);
}

#[test]
fn replay_page_plays_in_a_real_browser() {
    let Some(chromium) = chromium_or_skip() else { return };

    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("replay-100");
    let s = scenario("replay-100.toml");
    forksim_ok(&["run", s.to_str().unwrap(), "--html", "--quiet", "--out", out.to_str().unwrap()]);
    let page = out.join("replay.html");
    let size = std::fs::metadata(&page).expect("replay.html written").len();
    let mb = size as f64 / 1e6;
    note(&format!("replay page size (100 nodes, 50 blocks): {size} bytes ({mb:.2} MB)"));
    assert!(size < PAGE_MAX_BYTES, "replay.html is {size} bytes, over {PAGE_MAX_BYTES}");

    let (browser, mut cdp) = open_page(&chromium, &page);
    assert_eq!(cdp.eval("document.getElementById('slots-panel').hidden"), json!(true));

    let before = cdp.eval("({ ...window.forksimStats, frames: 0, work: 0 })");
    assert_eq!(before["playing"], json!(false), "the page starts paused");
    cdp.eval("window.forksimStats.frames.length = 0; window.forksimStats.work.length = 0; true");
    cdp.click("play");
    std::thread::sleep(PLAY_FOR);
    let after = cdp.eval("({ ...window.forksimStats })");
    note(&format!(
        "replay page after {} s of play: tree blocks {} -> {}, event lines {} -> {}, virtual time {} -> {} ms",
        PLAY_FOR.as_secs(),
        before["treeBlocks"],
        after["treeBlocks"],
        before["events"],
        after["events"],
        before["time"],
        after["time"]
    ));
    assert_eq!(after["playing"], json!(true), "the click on #play started playback");
    let grew = |k: &str| after[k].as_f64().unwrap_or(0.0) > before[k].as_f64().unwrap_or(0.0);
    assert!(grew("time"), "virtual time did not advance");
    assert!(grew("treeBlocks"), "the block tree did not grow");
    assert!(grew("events"), "no narrated events appeared");

    let frames = numbers(&after["frames"]);
    let work = numbers(&after["work"]);
    assert!(frames.len() >= 30, "only {} animation frames in {PLAY_FOR:?}", frames.len());
    let (median, p95) = median_p95(&frames);
    let (work_median, work_p95) = median_p95(&work);
    note(&format!(
        "replay page frame time: median {median:.1} ms, p95 {p95:.1} ms over {} frames \
         (script work per frame: median {work_median:.2} ms, p95 {work_p95:.2} ms)",
        frames.len()
    ));

    // For the picture: pause at the first fork, with its messages on the way.
    cdp.click("play");
    cdp.eval(
        "(() => { const D = window.forksimData; let t = 0, at = null; \
         for (let i = 0; i < D.lines.t.length; i++) { t += D.lines.t[i]; \
           if (at === null && D.lines.k[i] === 2) at = t; } \
         window.forksimSeek(at === null ? D.end / 2 : at + 300); return true; })()",
    );
    std::thread::sleep(Duration::from_millis(300));
    screenshot(&mut cdp, "replay-page.png");
    assert!(cdp.page_errors.is_empty(), "the page reported errors: {:?}", cdp.page_errors);
    close(cdp, browser);
}

/// A DPoS page draws its slot strip: blocks in their producers' colours, missed slots,
/// and irreversible blocks, as the run's data says at the moment shown (one block per turn,
/// as Steem, so the irreversible block trails by about 14 slots and shows in the strip).
#[test]
fn slot_strip_draws_producers_missed_slots_and_irreversible_blocks() {
    let Some(chromium) = chromium_or_skip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("dpos");
    let s = scenario("consensus/dpos.toml");
    let set = ["--set", "run.blocks=400", "--set", "consensus.blocks_per_turn=1"];
    let run = [&["run", s.to_str().unwrap(), "--html", "--quiet"][..], &set[..]].concat();
    forksim_ok(&[&run[..], &["--out", out.to_str().unwrap()]].concat());
    let (browser, mut cdp) = open_page(&chromium, &out.join("replay.html"));
    assert_eq!(cdp.eval("document.getElementById('slots-panel').hidden"), json!(false));
    // Half-way through the run: the strip shows the slots before the one under way.
    cdp.eval("window.forksimSeek(window.forksimData.end / 2); true");
    cdp.wait_for("the strip is drawn", "window.forksimStats.slots !== undefined");
    std::thread::sleep(Duration::from_millis(300));
    let slots = cdp.eval("window.forksimStats.slots");
    note(&format!("slot strip half-way through a DPoS run: {slots}"));
    let n = |k: &str| slots[k].as_u64().unwrap_or(0);
    assert!(n("shown") > 20, "too few slots shown: {slots}");
    assert_eq!(n("filled") + n("missed") + n("empty"), n("shown"), "{slots}");
    assert!(n("filled") > n("shown") / 2, "most DPoS slots hold a block: {slots}");
    assert!(n("final") > 0 && n("final") < n("filled"), "irreversible trails the tip: {slots}");
    assert!(n("finalHeight") > 100, "the caption says where irreversibility stands: {slots}");
    screenshot(&mut cdp, "replay-page-slots.png");
    assert!(cdp.page_errors.is_empty(), "the page reported errors: {:?}", cdp.page_errors);
    close(cdp, browser);
}
