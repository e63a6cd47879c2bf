//! Per-fetch overhead against raw reqwest, batch throughput and peak memory, measured side by
//! side in one run against a loopback server started here. Run with
//! `cargo bench -p balance-api --bench overhead`; BENCHMARKS.md holds results and method.
//! With `BENCH_BASE_URL` set (e.g. `http://127.0.0.1:8089`), the fetch rates and the peak RSS
//! are measured against that server instead (it must answer the balance path with `BODY`):
//! xtask/bench/overhead-nginx.sh runs them against nginx pinned to another core.

use balance_api::{AccountSid, Client, Credentials, RetryPolicy};
use futures_util::{StreamExt, stream};
use std::time::{Duration, Instant};

const SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN: &str = "bench-token";
const BODY: &str =
    r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"0.05","currency":"USD"}"#;
const REPS: usize = 15;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `--rss-child KIND URL`: the memory measurement re-runs this binary alone.
    if let Some(i) = args.iter().position(|a| a == "--rss-child") {
        let (kind, url) = (&args[i + 1], &args[i + 2]);
        rss_child(kind, url);
        return;
    }
    // `--fetches-child VARIANT URL N [IN_FLIGHT]`: only N fetches of one variant (0 raw,
    // 1 generated, 2 balance-api), IN_FLIGHT at a time (default 1, sequential), for
    // instruction counts under callgrind.
    if let Some(i) = args.iter().position(|a| a == "--fetches-child") {
        let variant = args[i + 1].parse().expect("variant 0, 1 or 2");
        let fetches = args[i + 3].parse().expect("fetch count");
        let in_flight = args
            .get(i + 4)
            .map_or(1, |n| n.parse().expect("in-flight count"));
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(Clients::new(&args[i + 2]).rate(variant, in_flight, fetches));
        return;
    }
    let fast = match std::env::var("BENCH_BASE_URL") {
        Ok(url) => url.trim_end_matches('/').to_owned(),
        Err(_) => server::start(Duration::ZERO),
    };
    println!("fetch rates and peak RSS against {fast}\n");
    let slow = server::start(Duration::from_millis(20));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");

    println!("| measurement | raw reqwest (a) | generated (b) | balance-api (c) | b/a | c/a |");
    println!("|---|---|---|---|---|---|");
    for (label, in_flight, fetches) in [
        ("sequential fetches/s", 1, 2_000),
        ("16 in flight, fetches/s", 16, 4_000),
    ] {
        let mut rates = [Vec::new(), Vec::new(), Vec::new()];
        let clients = Clients::new(&fast);
        for _ in 0..REPS {
            // Interleaved, so drift on the machine hits every variant alike.
            for (variant, rate) in rates.iter_mut().enumerate() {
                rate.push(rt.block_on(clients.rate(variant, in_flight, fetches)));
            }
        }
        let [a, b, c] = rates.map(Stats::of);
        println!(
            "| {label} | {a} | {b} | {c} | {:.2} | {:.2} |",
            b.median / a.median,
            c.median / a.median
        );
    }

    let mut walls = Vec::new();
    for _ in 0..REPS {
        walls.push(rt.block_on(batch(&slow)));
    }
    let w = Stats::of(walls);
    println!(
        "\nbatch: 1000 accounts, 20 ms per request, concurrency 32: median {:.3} s (min {:.3}, max {:.3}); floor 0.625 s; ratio {:.2}",
        w.median,
        w.min,
        w.max,
        w.median / 0.625
    );

    for kind in ["raw", "balance-api"] {
        let mut peaks = Vec::new();
        for _ in 0..3 {
            let out = std::process::Command::new(std::env::current_exe().expect("exe"))
                .args(["--rss-child", kind, &fast])
                .output()
                .expect("child runs");
            let text = String::from_utf8_lossy(&out.stdout);
            peaks.push(text.trim().parse::<f64>().expect("child prints KiB") / 1024.0);
        }
        let p = Stats::of(peaks);
        println!(
            "peak RSS, 10,000 sequential fetches, {kind}: median {:.1} MiB (min {:.1}, max {:.1})",
            p.median, p.min, p.max
        );
    }
}

struct Clients {
    raw: reqwest::Client,
    generated: balance_api_gen::Client,
    wrapper: Client,
    url: String,
    generated_sid: balance_api_gen::fetch_balance::AccountSid,
}

/// The hand-written baseline decodes into its own struct, as a user without this crate would.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct RawBalance {
    account_sid: Option<String>,
    balance: Option<String>,
    currency: Option<String>,
}

impl Clients {
    fn new(base: &str) -> Self {
        let sid: AccountSid = SID.parse().expect("sid");
        let wrapper = Client::builder()
            .credentials(Credentials::auth_token(sid, TOKEN).expect("creds"))
            .base_url(base)
            .build()
            .expect("client");
        // Every variant with the library's default timeouts: 10 s to connect, 30 s a request.
        let http = || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(10))
                .timeout(Duration::from_secs(30))
                .build()
                .expect("reqwest client")
        };
        let generated = balance_api_gen::Client::new_with_client(base, http(), Default::default());
        let url = format!("{base}/2010-04-01/Accounts/{SID}/Balance.json");
        Self {
            raw: http(),
            generated,
            wrapper,
            url,
            generated_sid: SID.parse().expect("sid"),
        }
    }

    async fn one(&self, variant: usize) {
        match variant {
            0 => {
                let r = self
                    .raw
                    .get(&self.url)
                    .basic_auth(SID, Some(TOKEN))
                    .send()
                    .await
                    .expect("raw");
                let _: RawBalance = r.json().await.expect("raw json");
            }
            1 => {
                self.generated
                    .fetch_balance(&self.generated_sid)
                    .await
                    .expect("generated");
            }
            _ => {
                self.wrapper.fetch_balance().await.expect("wrapper");
            }
        }
    }

    async fn rate(&self, variant: usize, in_flight: usize, fetches: usize) -> f64 {
        let started = Instant::now();
        stream::iter(0..fetches)
            .map(|_| self.one(variant))
            .buffer_unordered(in_flight)
            .collect::<Vec<()>>()
            .await;
        fetches as f64 / started.elapsed().as_secs_f64()
    }
}

async fn batch(base: &str) -> f64 {
    let client = Client::builder()
        .credentials(Credentials::auth_token(SID.parse().expect("sid"), TOKEN).expect("creds"))
        .base_url(base)
        .retry(RetryPolicy::default())
        .build()
        .expect("client");
    let accounts: Vec<AccountSid> = (0..1000u32)
        .map(|i| format!("AC{i:032x}").parse().expect("sid"))
        .collect();
    let started = Instant::now();
    let results: Vec<_> = stream::iter(&accounts)
        .map(|account| client.fetch_balance_of(account))
        .buffer_unordered(32)
        .collect()
        .await;
    let wall = started.elapsed().as_secs_f64();
    assert!(results.iter().all(Result::is_ok), "every fetch succeeded");
    wall
}

/// 10,000 sequential fetches in a fresh process, then its peak RSS in KiB on stdout.
fn rss_child(kind: &str, base: &str) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // Only the client being measured exists in this process.
    rt.block_on(async {
        if kind == "raw" {
            let raw = reqwest::Client::new();
            let url = format!("{base}/2010-04-01/Accounts/{SID}/Balance.json");
            for _ in 0..10_000 {
                let r = raw
                    .get(&url)
                    .basic_auth(SID, Some(TOKEN))
                    .send()
                    .await
                    .expect("raw");
                let _: RawBalance = r.json().await.expect("raw json");
            }
        } else {
            let client = Client::builder()
                .credentials(
                    Credentials::auth_token(SID.parse().expect("sid"), TOKEN).expect("creds"),
                )
                .base_url(base)
                .build()
                .expect("client");
            for _ in 0..10_000 {
                client.fetch_balance().await.expect("wrapper");
            }
        }
    });
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs (Linux only)");
    let kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map(|v| v.trim().trim_end_matches("kB").trim().to_owned())
        .expect("VmHWM");
    println!("{kib}");
}

struct Stats {
    median: f64,
    min: f64,
    max: f64,
}

impl Stats {
    fn of(mut xs: Vec<f64>) -> Self {
        xs.sort_by(f64::total_cmp);
        Self {
            median: xs[xs.len() / 2],
            min: xs[0],
            max: xs[xs.len() - 1],
        }
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.0} ({:.0}–{:.0})", self.median, self.min, self.max)
    }
}

/// A keep-alive HTTP/1.1 server on its own thread and runtime, answering every request with
/// the documented balance after `latency`.
mod server {
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    pub fn start(latency: Duration) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        listener.set_nonblocking(true).expect("nonblocking");
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, latency));
                }
            });
        });
        format!("http://{addr}")
    }

    /// The 34-character SID after `/Accounts/` in the request line, if there is one.
    fn requested_sid(head: &[u8]) -> Option<String> {
        let line = head.split(|&b| b == b'\r').next()?;
        let at = line.windows(10).position(|w| w == b"/Accounts/")? + 10;
        let sid = line.get(at..at + 34)?;
        sid.iter()
            .all(u8::is_ascii_alphanumeric)
            .then(|| String::from_utf8_lossy(sid).into_owned())
    }

    async fn serve(mut stream: tokio::net::TcpStream, latency: Duration) {
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
            super::BODY.len(),
            super::BODY
        );
        let mut buf = Vec::with_capacity(4096);
        let mut chunk = [0u8; 4096];
        loop {
            while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                // balance-api rejects a response for another account than the one asked for, so
                // the batch's accounts get their own SID back (same length, same body size).
                let other = requested_sid(&buf[..end]).filter(|sid| sid != super::SID);
                buf.drain(..end + 4);
                if !latency.is_zero() {
                    tokio::time::sleep(latency).await;
                }
                let written = match other {
                    None => stream.write_all(reply.as_bytes()).await,
                    Some(sid) => {
                        stream
                            .write_all(reply.replace(super::SID, &sid).as_bytes())
                            .await
                    }
                };
                if written.is_err() {
                    return;
                }
            }
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    }
}
