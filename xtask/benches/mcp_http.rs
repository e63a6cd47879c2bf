//! `balance-mcp --listen` under load, as an MCP client over Streamable HTTP sees it:
//!
//! 1. `initialize` latency on a running server: median (and spread) of N handshakes, each a new
//!    session (closed with DELETE afterwards, untimed), over one kept-alive connection; and, once
//!    per round, from spawning the process to the answer of its first `initialize` (startup,
//!    a new connection and the handshake together);
//! 2. `tools/call get_balance {}` calls per second, sequential, over one session, against the
//!    server's `--demo` Twilio (a loopback server inside the process, one connection per request
//!    as its `connection: close` replies force);
//! 3. the server's RSS (`VmRSS`, and the peak `VmHWM`, from /proc/PID/status) at start and after
//!    those calls; the goal is VmRSS ≤ 16 MiB after 10,000.
//!
//! It builds the release binary first (`cargo build --release -p balance-cli --bin balance-mcp`),
//! or uses `MCP_BENCH_BIN`. Settings: `MCP_BENCH_INIT_REPS` (200), `MCP_BENCH_CALLS` (10000),
//! `MCP_BENCH_ROUNDS` (3: the whole measurement repeated on fresh server processes). Prints a
//! Markdown report on stdout. Linux only (reads /proc). Not part of CI:
//!
//! ```sh
//! cargo bench -p xtask --bench mcp_http
//! ```
//!
//! The client is plain blocking reqwest speaking the protocol's JSON-RPC by hand (the SSE replies
//! parsed for their `data:` line), so the figures are the server's, not a client library's.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "bench-token-0123456789abcdef0123456789";
const PROTOCOL: &str = "2025-11-25";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace")
        .to_owned();
    let binary = match std::env::var("MCP_BENCH_BIN") {
        Ok(path) => path.into(),
        Err(_) => build(&root),
    };
    let reps = setting("MCP_BENCH_INIT_REPS", 200);
    let calls = setting("MCP_BENCH_CALLS", 10_000);
    let rounds = setting("MCP_BENCH_ROUNDS", 3);

    let load_start = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let started = now();
    let results: Vec<Round> = (0..rounds)
        .map(|i| {
            eprintln!("round {}/{rounds}", i + 1);
            round(&binary, reps, calls)
        })
        .collect();
    let load_end = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    report(&results, reps, calls, &started, &load_start, &load_end);
}

/// `cargo build --release` of the server; its path.
fn build(root: &std::path::Path) -> std::path::PathBuf {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    eprintln!("== cargo build --release -p balance-cli --bin balance-mcp");
    let status = Command::new(cargo)
        .args([
            "build",
            "--release",
            "-p",
            "balance-cli",
            "--bin",
            "balance-mcp",
        ])
        .current_dir(root)
        .status()
        .expect("cargo runs");
    assert!(status.success(), "the release build failed");
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| root.join("target"));
    target.join("release/balance-mcp")
}

fn now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M:%S UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// What one server process measured.
struct Round {
    first_ms: f64,
    init_ms: Vec<f64>,
    call_ms: Vec<f64>,
    calls_per_s: f64,
    rss_start_kib: u64,
    rss_after_kib: u64,
    hwm_after_kib: u64,
    shutdown_ms: f64,
    exit: Option<i32>,
}

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server, and the moment it was spawned.
fn start(binary: &std::path::Path) -> (Server, Instant) {
    let mut cmd = Command::new(binary);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("TWILIO_") {
            cmd.env_remove(name);
        }
    }
    let spawned = Instant::now();
    let mut child = cmd
        .args(["--demo", "--listen", "127.0.0.1:0", "--max-sessions", "64"])
        .env("BALANCE_MCP_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn balance-mcp");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let line = lines
            .next()
            .expect("a `listening on` line")
            .expect("stderr");
        if let Some(url) = line.strip_prefix("balance-mcp: listening on ") {
            break url.to_owned();
        }
    };
    // Keep draining stderr so the server never blocks on it.
    std::thread::spawn(move || lines.for_each(drop));
    (Server { child, url }, spawned)
}

/// Resident and peak resident memory in KiB, from /proc/PID/status.
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Client {
    http: reqwest::blocking::Client,
    url: String,
}

impl Client {
    /// POSTs `message`; the session id the answer carries, and its JSON-RPC message if any.
    fn post(&self, session: Option<&str>, message: &Value) -> (Option<String>, Option<Value>) {
        let mut request = self
            .http
            .post(&self.url)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(message.to_string());
        if let Some(session) = session {
            request = request
                .header("mcp-session-id", session)
                .header("mcp-protocol-version", PROTOCOL);
        }
        let response = request.send().expect("an HTTP answer");
        assert!(response.status().is_success(), "HTTP {}", response.status());
        let id = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.text().expect("a body");
        let answer = body
            .lines()
            .filter_map(|line| line.strip_prefix("data:"))
            .map(str::trim)
            .find(|data| data.starts_with('{'))
            .map(|data| serde_json::from_str(data).expect("JSON-RPC"));
        (id, answer)
    }

    /// A new session: `initialize`, then `notifications/initialized`.
    fn open(&self) -> (String, Duration) {
        let hello = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL, "capabilities": {},
            "clientInfo": {"name": "mcp_http bench", "version": "0"}}});
        let sent = Instant::now();
        let (session, answer) = self.post(None, &hello);
        let took = sent.elapsed();
        let answer = answer.expect("an answer to initialize");
        assert_eq!(answer["result"]["protocolVersion"], PROTOCOL, "{answer}");
        let session = session.expect("a session id");
        let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        self.post(Some(&session), &initialized);
        (session, took)
    }

    fn close(&self, session: &str) {
        let response = self
            .http
            .delete(&self.url)
            .header("authorization", format!("Bearer {TOKEN}"))
            .header("mcp-session-id", session)
            .send()
            .expect("an HTTP answer");
        assert!(
            response.status().is_success(),
            "DELETE: {}",
            response.status()
        );
    }
}

fn round(binary: &std::path::Path, reps: usize, calls: usize) -> Round {
    // Made first, so that the startup figure is the server's alone.
    let http = reqwest::blocking::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let (server, spawned) = start(binary);
    let pid = server.child.id();
    let client = Client {
        http,
        url: server.url.clone(),
    };
    // The first session doubles as the warm-up (lazy statics, the connection, the demo server).
    let (session, _) = client.open();
    let first_ms = spawned.elapsed().as_secs_f64() * 1000.0;
    let (rss_start_kib, _) = memory(pid);
    let call = |id: usize| {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "get_balance", "arguments": {}}})
    };
    for id in 1..=100 {
        client.post(Some(&session), &call(id));
    }
    client.close(&session);

    let mut init_ms = Vec::with_capacity(reps);
    for _ in 0..reps {
        let (session, took) = client.open();
        init_ms.push(took.as_secs_f64() * 1000.0);
        client.close(&session);
    }

    let (session, _) = client.open();
    let mut call_ms = Vec::with_capacity(calls);
    let all = Instant::now();
    for id in 1..=calls {
        let sent = Instant::now();
        let (_, answer) = client.post(Some(&session), &call(id));
        call_ms.push(sent.elapsed().as_secs_f64() * 1000.0);
        let answer = answer.expect("an answer");
        assert_eq!(answer["result"]["isError"], false, "{answer}");
    }
    let calls_per_s = calls as f64 / all.elapsed().as_secs_f64();
    let (rss_after_kib, hwm_after_kib) = memory(pid);

    let sent = Instant::now();
    let kill = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    assert!(kill.is_ok_and(|s| s.success()), "kill -TERM");
    let mut server = server;
    let status = loop {
        if let Some(status) = server.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "no exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(1));
    };
    Round {
        first_ms,
        init_ms,
        call_ms,
        calls_per_s,
        rss_start_kib,
        rss_after_kib,
        hwm_after_kib,
        shutdown_ms: sent.elapsed().as_secs_f64() * 1000.0,
        exit: status.code(),
    }
}

fn sorted(values: &[f64]) -> Vec<f64> {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    values
}

fn median(values: &[f64]) -> f64 {
    let values = sorted(values);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let values = sorted(values);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values
        .get(rank.saturating_sub(1).min(values.len().saturating_sub(1)))
        .copied()
        .unwrap_or(f64::NAN)
}

fn spread(values: &[f64]) -> String {
    let values = sorted(values);
    match (values.first(), values.last()) {
        (Some(min), Some(max)) => format!("{min:.2}–{max:.2}"),
        _ => "none".into(),
    }
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn report(rounds: &[Round], reps: usize, calls: usize, started: &str, load: &str, load_end: &str) {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!("## balance-mcp --listen (Streamable HTTP)\n");
    println!(
        "- started {started}; {cores} cores; load average at start {}; at end {}",
        load.trim(),
        load_end.trim()
    );
    println!(
        "- {} rounds, each a fresh `balance-mcp --demo --listen 127.0.0.1:0` (release): {reps} initializes, then {calls} sequential `get_balance` calls over one session\n",
        rounds.len()
    );
    println!(
        "| round | spawn → first initialize answered, ms | initialize ms, median (min–max) | p90 | calls/s | call ms median | p99 | VmRSS after the first session MiB | VmRSS after calls MiB | VmHWM MiB | SIGTERM → exit ms | exit |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (i, r) in rounds.iter().enumerate() {
        println!(
            "| {} | {:.1} | {:.2} ({}) | {:.2} | {:.0} | {:.3} | {:.3} | {:.1} | {:.1} | {:.1} | {:.1} | {} |",
            i + 1,
            r.first_ms,
            median(&r.init_ms),
            spread(&r.init_ms),
            percentile(&r.init_ms, 90.0),
            r.calls_per_s,
            median(&r.call_ms),
            percentile(&r.call_ms, 99.0),
            mib(r.rss_start_kib),
            mib(r.rss_after_kib),
            mib(r.hwm_after_kib),
            r.shutdown_ms,
            r.exit.map_or("signal".into(), |c| c.to_string()),
        );
    }
    let of = |f: &dyn Fn(&Round) -> f64| median(&rounds.iter().map(f).collect::<Vec<_>>());
    let rss_after = of(&|r| mib(r.rss_after_kib));
    println!();
    println!(
        "- medians over the rounds: spawn → first initialize answered {:.1} ms; initialize {:.2} ms; {:.0} calls/s; VmRSS after {calls} calls {:.1} MiB (peak {:.1}); goal ≤ 16 MiB: {}",
        of(&|r| r.first_ms),
        of(&|r| median(&r.init_ms)),
        of(&|r| r.calls_per_s),
        rss_after,
        of(&|r| mib(r.hwm_after_kib)),
        if rss_after <= 16.0 { "met" } else { "NOT met" }
    );
}
