//! `balance serve` as a process, scraped over HTTP as Prometheus scrapes it: caching,
//! coalescing, the scrape-timeout header, staleness, child accounts, shutdown; and a real
//! Prometheus server scraping it, where one is installed.

mod loopback;
mod support;
use httpmock::prelude::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::*;

const PARENT: &str = "AC11111111111111111111111111111111";
const CHILD: &str = "AC22222222222222222222222222222222";
const GONE: &str = "AC33333333333333333333333333333333";
const TOKEN: &str = "serve-test-token-0123456789abcdef";

/// The running exporter; killed when dropped.
struct Exporter {
    child: Child,
    url: String,
}

impl Exporter {
    /// The address it listens on.
    fn address(&self) -> std::net::SocketAddr {
        let address = self.url.trim_start_matches("http://");
        address.parse().expect("address")
    }
}

/// A connection to `address` whose receive buffer is small (4 KiB), so that answers it does
/// not read soon fill it.
async fn small_buffered(address: std::net::SocketAddr) -> tokio::net::TcpStream {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .set_recv_buffer_size(4096)
        .expect("a small receive buffer");
    socket.connect(address).await.expect("connect")
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `balance serve` on a free loopback port with `env` added, and waits for its
/// "listening" line.
fn start(args: &[&str], env: &[(&str, &str)]) -> Exporter {
    start_as(balance(), args, env)
}

/// [`start`] with `command` (the `balance` binary, possibly behind a wrapper).
fn start_as(mut command: Command, args: &[&str], env: &[(&str, &str)]) -> Exporter {
    let child = command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut exporter = Exporter {
        child,
        url: String::new(),
    };
    let stderr = BufReader::new(exporter.child.stderr.take().expect("stderr"));
    for line in stderr.lines() {
        let line = line.expect("read");
        if let Some(rest) = line.strip_prefix("balance serve: listening on ") {
            exporter.url = rest.trim_end_matches("/metrics").to_owned();
            return exporter;
        }
    }
    panic!("balance serve never said where it listens");
}

/// The environment's own account, with its credentials.
const OWN: [(&str, &str); 2] = [("TWILIO_ACCOUNT_SID", PARENT), ("TWILIO_AUTH_TOKEN", TOKEN)];

/// The config's credentials.
const CONFIGURED: [(&str, &str); 1] = [("TEST_TOKEN", TOKEN)];

/// A config of three accounts, all read with the same Auth Token from `TEST_TOKEN`.
fn config(dir: &Path) -> String {
    let file = dir.join("accounts.toml");
    let entry = |name: &str, sid: &str| {
        format!(
            "[[account]]\nname = \"{name}\"\naccount_sid = \"{sid}\"\nparent_account_sid = \"{PARENT}\"\nauth_token_env = \"TEST_TOKEN\"\nmin = \"10\"\n\n"
        )
    };
    let text = [
        entry("main", PARENT),
        entry("child", CHILD),
        entry("gone", GONE),
    ]
    .concat();
    std::fs::write(&file, text).expect("write");
    file.to_string_lossy().into_owned()
}

async fn answer<'a>(
    server: &'a MockServer,
    sid: &str,
    status: u16,
    body: String,
    delay: Duration,
) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.path(format!("/2010-04-01/Accounts/{sid}/Balance.json"));
            then.status(status)
                .header("content-type", "application/json")
                .body(body)
                .delay(delay);
        })
        .await
}

fn balance_body(sid: &str, amount: Option<&str>) -> String {
    serde_json::json!({"account_sid": sid, "balance": amount, "currency": amount.map(|_| "USD")})
        .to_string()
}

const NOT_FOUND: &str = r#"{"code":20404,"message":"The requested resource was not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#;

/// The value of the sample whose name and labels are exactly these.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(exporter: &Exporter, timeout_header: Option<&str>) -> String {
    let mut request = reqwest::Client::new().get(format!("{}/metrics", exporter.url));
    if let Some(secs) = timeout_header {
        request = request.header("X-Prometheus-Scrape-Timeout-Seconds", secs);
    }
    let response = request.send().await.expect("scrape");
    assert_eq!(response.status(), 200);
    response.text().await.expect("body")
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_scrapes_share_one_round_and_the_cache_serves_the_next() {
    let twilio = MockServer::start_async().await;
    let slow = Duration::from_millis(300);
    let main = answer(
        &twilio,
        PARENT,
        200,
        balance_body(PARENT, Some("42.50")),
        slow,
    )
    .await;
    let child = answer(&twilio, CHILD, 200, balance_body(CHILD, None), slow).await;
    let gone = answer(&twilio, GONE, 404, NOT_FOUND.into(), slow).await;
    let dir = tempfile::tempdir().expect("dir");
    let exporter = start(
        &[
            "--config",
            &config(dir.path()),
            "--base-url",
            &twilio.base_url(),
        ],
        &CONFIGURED,
    );
    let scrapes: Vec<_> = (0..8).map(|_| scrape(&exporter, None)).collect();
    let answers = futures_util::future::join_all(scrapes).await;
    for mock in [&main, &child, &gone] {
        assert_eq!(mock.calls_async().await, 1, "eight scrapes, one round");
    }
    let metrics = &answers[7];
    let labels = |name: &str, sid: &str| format!("account_sid=\"{sid}\",name=\"{name}\"");
    assert_eq!(
        sample(
            metrics,
            &format!(
                "twilio_balance{{{},currency=\"USD\"}}",
                labels("main", PARENT)
            )
        ),
        Some(42.5),
        "{metrics}"
    );
    assert_eq!(
        sample(
            metrics,
            &format!("twilio_balance_up{{{}}}", labels("child", CHILD))
        ),
        Some(1.0)
    );
    assert!(
        !metrics.contains(&format!("twilio_balance{{{}", labels("child", CHILD))),
        "no balance for a child: {metrics}"
    );
    assert_eq!(
        sample(
            metrics,
            &format!("twilio_balance_up{{{}}}", labels("gone", GONE))
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(
            metrics,
            &format!("twilio_balance_minimum{{{}}}", labels("main", PARENT))
        ),
        Some(10.0)
    );
    assert_eq!(
        sample(metrics, "twilio_balance_round_in_progress"),
        Some(0.0)
    );
    assert!(sample(metrics, "twilio_balance_round_duration_seconds").is_some_and(|s| s >= 0.3));
    assert!(!metrics.contains(TOKEN));
    promtool_accepts(metrics);

    // Within --cache (60 s): served from the cache, nothing asked of Twilio.
    let again = scrape(&exporter, None).await;
    assert_eq!(main.calls_async().await, 1);
    assert_eq!(
        sample(
            &again,
            &format!(
                "twilio_balance{{{},currency=\"USD\"}}",
                labels("main", PARENT)
            )
        ),
        Some(42.5)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_fetch_never_republishes_the_old_balance() {
    let twilio = MockServer::start_async().await;
    let mut up = answer(
        &twilio,
        PARENT,
        200,
        balance_body(PARENT, Some("7.00")),
        Duration::ZERO,
    )
    .await;
    let base = twilio.base_url();
    let exporter = start(&["--cache", "1", "--base-url", &base], &OWN);
    let series = format!("twilio_balance{{account_sid=\"{PARENT}\",currency=\"USD\"}}");
    let first = scrape(&exporter, None).await;
    assert_eq!(sample(&first, &series), Some(7.0), "{first}");
    let success =
        format!("twilio_balance_last_success_timestamp_seconds{{account_sid=\"{PARENT}\"}}");
    let when = sample(&first, &success).expect("a success time");

    up.delete_async().await;
    up = answer(&twilio, PARENT, 404, NOT_FOUND.into(), Duration::ZERO).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = scrape(&exporter, None).await;
    assert_eq!(
        up.calls_async().await,
        1,
        "the stale cache started a new round"
    );
    assert_eq!(
        sample(&later, &series),
        None,
        "no old balance passed off as current: {later}"
    );
    assert_eq!(
        sample(
            &later,
            &format!("twilio_balance_up{{account_sid=\"{PARENT}\"}}")
        ),
        Some(0.0)
    );
    assert_eq!(
        sample(&later, &success),
        Some(when),
        "the last success stays when it was"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scrape_answers_within_prometheus_timeout_while_the_round_runs() {
    let twilio = MockServer::start_async().await;
    answer(
        &twilio,
        PARENT,
        200,
        balance_body(PARENT, Some("1.00")),
        Duration::from_secs(5),
    )
    .await;
    let base = twilio.base_url();
    let exporter = start(&["--base-url", &base], &OWN);
    let started = Instant::now();
    let metrics = scrape(&exporter, Some("1")).await;
    let took = started.elapsed();
    assert!(took < Duration::from_millis(1100), "took {took:?}");
    assert_eq!(
        sample(&metrics, "twilio_balance_round_in_progress"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            &format!("twilio_balance_up{{account_sid=\"{PARENT}\"}}")
        ),
        Some(0.0),
        "not looked yet is not up"
    );
    assert!(!metrics.contains("twilio_balance{"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_it_within_2_s_even_mid_scrape_and_a_taken_port_is_one_line() {
    let twilio = MockServer::start_async().await;
    answer(
        &twilio,
        PARENT,
        200,
        balance_body(PARENT, Some("1.00")),
        Duration::from_secs(30),
    )
    .await;
    let base = twilio.base_url();
    let mut exporter = start(&["--base-url", &base], &OWN);
    let pending = tokio::spawn(reqwest::get(format!("{}/metrics", exporter.url)));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &exporter.child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = tokio::task::block_in_place(|| exporter.child.wait()).expect("wait");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(status.code(), Some(0));
    // The scrape waiting on the round was answered with what there was, not cut off.
    let answer = pending
        .await
        .expect("join")
        .expect("an answer, not a closed connection");
    assert_eq!(answer.status(), 200);
    let metrics = answer.text().await.expect("body");
    assert!(
        metrics.contains("twilio_balance_round_in_progress 1"),
        "{metrics}"
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("addr").to_string();
    let out = balance()
        .args(["serve", "--demo", "--listen", &address])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(
        errors[0].contains(&format!("cannot listen on {address}")),
        "{err}"
    );
}

/// `balance` run by `prlimit` with an open-file soft limit of 1,024, as systemd gives a service by
/// default, and a higher hard limit; `None` where prlimit is missing or no hard limit above
/// 2,048 is to be had (the test then says it was skipped).
#[cfg(target_os = "linux")]
fn with_soft_limit_1024() -> Option<Command> {
    let own_hard = rlimit::Resource::NOFILE.get().expect("getrlimit").1;
    let raised = Command::new("prlimit")
        .args(["--nofile=1024:65536", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let hard = if raised { 65536 } else { own_hard };
    let prlimit = Command::new("prlimit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !prlimit || hard <= 2048 {
        return None;
    }
    let program = balance();
    let mut command = Command::new("prlimit");
    command
        .arg(format!("--nofile=1024:{hard}"))
        .arg("--")
        .arg(program.get_program());
    for (name, value) in program.get_envs() {
        match value {
            Some(value) => command.env(name, value),
            None => command.env_remove(name),
        };
    }
    Some(command)
}

/// A local user opens 1,100 idle connections (some half-sent) under systemd's default soft limit:
/// the exporter raises its limit, `/metrics` still answers within 1 s, and every one of those
/// connections is closed once the header-read deadline (5 s) passes.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn idle_connections_under_a_1024_soft_limit_neither_blind_metrics_nor_stay() {
    use std::io::{Read, Write};
    let own = rlimit::increase_nofile_limit(4096).expect("the test's own open-file limit");
    let Some(limited) = with_soft_limit_1024().filter(|_| own >= 2048) else {
        eprintln!("SKIPPED: needs prlimit and open-file hard limits above 2,048");
        return;
    };
    let exporter = start_as(limited, &["--demo"], &[]);
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", exporter.child.id()))
        .expect("/proc limits");
    let open_files = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("Max open files");
    let soft: u64 = open_files
        .split_whitespace()
        .nth(3)
        .expect("soft")
        .parse()
        .expect("number");
    assert!(soft > 1024, "the soft limit was not raised: {open_files}");

    let address = exporter.address();
    let opened = Instant::now();
    let held: Vec<std::net::TcpStream> = tokio::task::block_in_place(|| {
        (0..1100)
            .map(|i| {
                let mut stream =
                    std::net::TcpStream::connect_timeout(&address, Duration::from_secs(1))
                        .unwrap_or_else(|e| panic!("connection {i}: {e}"));
                if i % 2 == 1 {
                    stream
                        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                        .expect("half a request");
                }
                stream
            })
            .collect()
    });
    // Held by the exporter itself, not waiting in the kernel's accept queue.
    let sockets = || {
        std::fs::read_dir(format!("/proc/{}/fd", exporter.child.id()))
            .expect("/proc fd")
            .filter_map(|fd| std::fs::read_link(fd.ok()?.path()).ok())
            .filter(|target| target.to_string_lossy().starts_with("socket:"))
            .count()
    };
    while sockets() < 1100 && opened.elapsed() < Duration::from_secs(3) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sockets() > 1100, "the exporter holds {} sockets", sockets());
    let metrics = reqwest::Client::new()
        .get(format!("{}/metrics", exporter.url))
        .timeout(Duration::from_secs(1))
        .send()
        .await
        .expect("/metrics answers within 1 s beside 1,100 idle connections");
    assert_eq!(metrics.status(), 200);
    assert!(
        metrics
            .text()
            .await
            .expect("body")
            .contains("twilio_balance")
    );

    tokio::time::sleep(Duration::from_secs(7).saturating_sub(opened.elapsed())).await;
    let still_open = tokio::task::block_in_place(|| {
        held.into_iter()
            .filter(|stream| {
                stream
                    .set_read_timeout(Some(Duration::from_millis(200)))
                    .expect("timeout");
                let mut byte = [0u8; 1024];
                let mut stream = stream;
                loop {
                    match stream.read(&mut byte) {
                        Ok(0) => return false,
                        Ok(_) => continue,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return true,
                        Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return true,
                        Err(_) => return false,
                    }
                }
            })
            .count()
    });
    assert_eq!(
        still_open, 0,
        "connections still held 7 s after they were opened"
    );
}

/// A real Prometheus scrapes the exporter every second until its query API returns, for every
/// configured account, the balance the fake Twilio served.
#[tokio::test(flavor = "multi_thread")]
async fn a_real_prometheus_scrapes_every_account() {
    if Command::new("prometheus")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "SKIPPED a_real_prometheus_scrapes_every_account: no `prometheus` binary (Debian package prometheus)"
        );
        return;
    }
    let twilio = MockServer::start_async().await;
    let amounts = [(PARENT, "42.50"), (CHILD, "3.25"), (GONE, "0.75")];
    for (sid, amount) in amounts {
        answer(
            &twilio,
            sid,
            200,
            balance_body(sid, Some(amount)),
            Duration::ZERO,
        )
        .await;
    }
    let dir = tempfile::tempdir().expect("dir");
    let exporter = start(
        &[
            "--config",
            &config(dir.path()),
            "--base-url",
            &twilio.base_url(),
            "--cache",
            "1",
        ],
        &CONFIGURED,
    );
    let target = exporter.url.trim_start_matches("http://");
    let prometheus_config = dir.path().join("prometheus.yml");
    std::fs::write(
        &prometheus_config,
        format!("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: twilio-balance\n    static_configs:\n      - targets: ['{target}']\n"),
    )
    .expect("write");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let mut prometheus = Command::new("prometheus")
        .arg(format!("--config.file={}", prometheus_config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus");
    let query = format!("http://127.0.0.1:{port}/api/v1/query?query=twilio_balance");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    let found = loop {
        if let Ok(response) = reqwest::get(&query).await
            && let Ok(body) = response.json::<serde_json::Value>().await
        {
            let results = body["data"]["result"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let seen: Vec<(String, String)> = results
                .iter()
                .map(|r| {
                    (
                        r["metric"]["account_sid"].as_str().unwrap_or("").to_owned(),
                        r["value"][1].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect();
            let all = amounts.iter().all(|(sid, amount)| {
                seen.iter()
                    .any(|(s, v)| s == sid && v.parse::<f64>().ok() == amount.parse::<f64>().ok())
            });
            last = body.to_string();
            if all {
                break true;
            }
        }
        if Instant::now() > deadline {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let _ = prometheus.kill();
    let _ = prometheus.wait();
    assert!(
        found,
        "Prometheus never saw every balance; last answer: {last}"
    );
    println!("Prometheus answered: {last}");
}

/// Headless chromium's rendering of `url`: the DOM after load, and a screenshot at `png`.
/// `None` where chromium is not installed (.ci/run installs it).
fn chromium(url: &str, png: &Path) -> Option<String> {
    let browser = ["chromium", "chromium-browser"].into_iter().find(|b| {
        Command::new(b)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    })?;
    let run = |extra: &[&str]| {
        Command::new(browser)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
            ])
            .args(extra)
            .arg(url)
            .output()
            .expect("chromium runs")
    };
    let shot = format!("--screenshot={}", png.display());
    assert!(run(&["--window-size=480,720", &shot]).status.success());
    Some(text(&run(&["--dump-dom"]).stdout))
}

/// The DOM's text as a person reads it: tags dropped, entities decoded.
fn rendered_text(dom: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in dom.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    let text = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"");
    text.replace("&#39;", "'").replace("&amp;", "&")
}

/// The page at `/`, as a browser shows it: one row per account in each state, the name that
/// looks like markup shown as text, the last round's time and a link to the metrics.
#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_shows_every_state_in_a_real_browser() {
    let twilio = MockServer::start_async().await;
    answer(
        &twilio,
        PARENT,
        200,
        balance_body(PARENT, Some("42.10")),
        Duration::ZERO,
    )
    .await;
    answer(
        &twilio,
        CHILD,
        200,
        balance_body(CHILD, None),
        Duration::ZERO,
    )
    .await;
    answer(&twilio, GONE, 404, NOT_FOUND.to_owned(), Duration::ZERO).await;
    const LOW: &str = "AC44444444444444444444444444444444";
    answer(
        &twilio,
        LOW,
        200,
        balance_body(LOW, Some("3.50")),
        Duration::ZERO,
    )
    .await;
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("accounts.toml");
    let entry = |name: &str, sid: &str, min: &str| {
        format!(
            "[[account]]\nname = '{name}'\naccount_sid = \"{sid}\"\nparent_account_sid = \"{PARENT}\"\nauth_token_env = \"TEST_TOKEN\"\nmin = \"{min}\"\n\n"
        )
    };
    let text_of_config = [
        entry("<script>alert(1)</script>", PARENT, "10"),
        entry("low\u{202e}", LOW, "5"),
        entry("gone", GONE, "10"),
        entry("child", CHILD, "10"),
    ]
    .concat();
    std::fs::write(&config, text_of_config).expect("write");
    let config = config.to_string_lossy().into_owned();
    let exporter = start(
        &["--config", &config, "--base-url", &twilio.base_url()],
        &CONFIGURED,
    );
    scrape(&exporter, Some("10")).await; // the first round is in

    let png = Path::new(env!("CARGO_TARGET_TMPDIR")).join("status-page.png");
    let Some(dom) = chromium(&format!("{}/", exporter.url), &png) else {
        eprintln!("SKIPPED: no chromium to render the page with");
        return;
    };
    assert!(
        std::fs::metadata(&png).is_ok_and(|m| m.len() > 1000),
        "a screenshot at {png:?}"
    );
    assert!(!dom.contains("<script>"), "the name stays text: {dom}");
    assert!(
        dom.contains("href=\"https://www.twilio.com/docs/errors/20404\""),
        "a link to Twilio's page for the code: {dom}"
    );
    assert!(!dom.contains("requested resource"), "no server text: {dom}");
    let page = rendered_text(&dom);
    let words: Vec<&str> = page.split_whitespace().collect();
    let page = words.join(" ");
    eprintln!("status page text: {page}");
    for expected in [
        "Twilio balances",
        "Last round: 20",
        "Metrics",
        &format!("<script>alert(1)</script> ok 42.10 USD 10 {PARENT}"),
        // A bidi override in a name is shown, not obeyed.
        &format!("low\\u{{202e}} below minimum 3.50 USD 5 {LOW}"),
        "gone down since 20",
        // The program's words only: the status, Twilio's code and a link it builds.
        &format!("HTTP 404 Not Found, Twilio error 20404 10 {GONE}"),
        "child subaccount: no balance of its own",
        &format!("no balance information 10 {CHILD}"),
    ] {
        assert!(page.contains(expected), "{expected:?} in {page}");
    }

    let demo = start(&["--demo"], &[]);
    scrape(&demo, Some("10")).await;
    let dom = chromium(
        &format!("{}/", demo.url),
        &png.with_file_name("status-demo.png"),
    )
    .expect("chromium");
    let page = rendered_text(&dom)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        page.contains("DEMO DATA") && page.contains("demo 0.05 USD"),
        "{page}"
    );
}

/// A client that pipelines requests and never reads the answers loses its connection (and
/// the answers' memory) once a write has waited the server's write timeout (10 s).
#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_reads_is_cut_off_after_the_write_timeout() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exporter = start(&["--demo"], &[]);
    let address = exporter.address();
    let (mut reader, mut writer) = small_buffered(address).await.into_split();
    let requests = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(4000);
    // Kept open (never dropped) while the test looks: a half-close would end it another way.
    let _writing = tokio::spawn(async move {
        let _ = writer.write_all(requests.as_bytes()).await;
        writer
    });
    tokio::time::sleep(Duration::from_secs(13)).await;
    let mut read = 0;
    let mut buffer = vec![0; 64 * 1024];
    let ended = tokio::time::timeout(Duration::from_secs(3), async {
        while let Ok(n @ 1..) = reader.read(&mut buffer).await {
            read += n;
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "still open after 16 s; {read} bytes of answers read"
    );
}

/// An upstream that echoes the credentials transformed past any scrubbing (base64 of the token,
/// `\u` escapes, split by a zero-width space) in its error message and link: the unauthenticated
/// status page shows none of it, only the status, Twilio's code and the program's own link.
#[tokio::test(flavor = "multi_thread")]
async fn the_status_page_shows_no_server_text() {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD.encode(TOKEN);
    let escaped: String = TOKEN
        .chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect();
    let split = format!("{}\u{200b}{}", &TOKEN[..4], &TOKEN[4..]);
    let body = serde_json::json!({
        "code": 20003,
        "message": format!("Authenticate {b64} {escaped} {split}"),
        "more_info": format!("https://evil.example/{b64}"),
        "status": 401,
    });
    let twilio = MockServer::start_async().await;
    answer(&twilio, PARENT, 401, body.to_string(), Duration::ZERO).await;
    let exporter = start(&["--base-url", &twilio.base_url()], &OWN);
    scrape(&exporter, Some("10")).await; // the first round is in
    let page = reqwest::get(format!("{}/", exporter.url))
        .await
        .expect("page")
        .text()
        .await
        .expect("body");
    for leak in [
        b64.as_str(),
        &escaped[..12],
        &split,
        "evil.example",
        "Authenticate",
    ] {
        assert!(!page.contains(leak), "{leak:?} on the page: {page}");
    }
    assert!(
        page.contains("HTTP 401 Unauthorized, Twilio error"),
        "{page}"
    );
    assert!(
        page.contains("https://www.twilio.com/docs/errors/20003"),
        "{page}"
    );
}

/// On loopback, a request whose `Host` is not this machine's loopback (a DNS-rebinding web page
/// the operator visits) gets 403 for `/` and `/metrics`; the loopback names pass, port or not.
#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_host_header_is_refused_on_loopback() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exporter = start(&["--demo"], &[]);
    let address = exporter.url.trim_start_matches("http://").to_owned();
    let port = address.rsplit(':').next().expect("port").to_owned();
    let status = |path: &'static str, host: String| {
        let address = address.clone();
        async move {
            let mut stream = tokio::net::TcpStream::connect(&address)
                .await
                .expect("connect");
            let request =
                format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
            stream.write_all(request.as_bytes()).await.expect("send");
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer).await;
            answer.get(9..12).unwrap_or_default().to_owned()
        }
    };
    for path in ["/", "/metrics"] {
        assert_eq!(
            status(path, format!("rebound.example:{port}")).await,
            "403",
            "{path}"
        );
        assert_eq!(status(path, "evil.example".into()).await, "403", "{path}");
        assert_eq!(
            status(path, format!("127.0.0.1:{port}")).await,
            "200",
            "{path}"
        );
        assert_eq!(
            status(path, format!("localhost:{port}")).await,
            "200",
            "{path}"
        );
    }
}

/// The exporter's resident memory now and at its peak, in MiB (Linux).
fn rss_mib(exporter: &Exporter) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{}/status", exporter.child.id()))
        .expect("/proc status");
    let field = |name: &str| {
        let line = status.lines().find(|l| l.starts_with(name)).expect(name);
        let kib: u64 = line
            .split_whitespace()
            .nth(1)
            .expect("kB")
            .parse()
            .expect("number");
        kib / 1024
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// 10,000 accounts (a 5 MB `/metrics`): ready within a second; 20 clients that ask for
/// `/metrics` and never read, then 40 that ask for `/metrics` and `/` at once, all within
/// 64 MiB, since each answer is rendered once per round and shared, not copied per request.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_accounts_serve_many_readers_within_64_mib() {
    use tokio::io::AsyncWriteExt;
    let twilio = loopback::twilio(Duration::ZERO);
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("fleet.toml");
    let entries: String = (0..10_000u32)
        .map(|i| {
            format!(
                "[[account]]\nname = \"customer-{i:05}\"\naccount_sid = \"AC{i:032x}\"\n\
                 parent_account_sid = \"{PARENT}\"\nauth_token_env = \"TEST_TOKEN\"\nmin = \"5\"\n\n"
            )
        })
        .collect();
    std::fs::write(&config, entries).expect("write");
    let config = config.to_string_lossy().into_owned();
    let started = Instant::now();
    let args = [
        "--config",
        &config,
        "--base-url",
        &twilio.url,
        "--concurrency",
        "64",
    ];
    let exporter = start(&args, &CONFIGURED);
    let ready = started.elapsed();
    eprintln!("ready in {ready:?}");
    assert!(ready < Duration::from_secs(1), "ready in {ready:?}");
    let metrics = scrape(&exporter, Some("60")).await;
    assert_eq!(metrics.matches("twilio_balance{").count(), 10_000);
    let address = exporter.address();

    let mut idle = Vec::new();
    for _ in 0..20 {
        let mut stream = small_buffered(address).await;
        let requests = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(50);
        stream.write_all(requests.as_bytes()).await.expect("send");
        idle.push(stream);
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (now, peak) = rss_mib(&exporter);
    eprintln!("20 non-reading clients: RSS {now} MiB, peak {peak} MiB");
    assert!(
        peak <= 64,
        "peak RSS {peak} MiB with 20 clients that never read"
    );

    let client = reqwest::Client::new();
    let readers = (0..40).map(|i| {
        let path = if i % 2 == 0 { "/metrics" } else { "/" };
        let request = client.get(format!("{}{path}", exporter.url)).send();
        async move {
            request
                .await
                .expect("answer")
                .bytes()
                .await
                .expect("body")
                .len()
        }
    });
    let sizes = futures_util::future::join_all(readers).await;
    assert!(sizes.iter().all(|&n| n > 1_000_000), "{sizes:?}");
    let (now, peak) = rss_mib(&exporter);
    eprintln!("and 40 concurrent readers: RSS {now} MiB, peak {peak} MiB");
    assert!(peak <= 64, "peak RSS {peak} MiB");
    drop(idle);
}

/// 4,200 clients that each pipeline 4,000 requests and never read (more than the 4,096
/// connection slots): 15 s into the attack, a legitimate scrape is answered within a second,
/// since a connection whose answer goes unread is closed after the write timeout.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn four_thousand_non_reading_clients_do_not_blind_metrics() {
    if !support::room_for_an_attack() {
        return;
    }
    let exporter = start(&["--demo"], &[]);
    let address = exporter.address();
    let request = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(4_000);
    let attack = never_reading(address, 4_200, request);
    tokio::time::sleep(Duration::from_secs(15)).await;
    let started = Instant::now();
    let answered =
        tokio::time::timeout(Duration::from_secs(1), scrape(&exporter, Some("10"))).await;
    let took = started.elapsed();
    let (now, peak) = rss_mib(&exporter);
    eprintln!("15 s into the attack: /metrics in {took:?}; RSS {now} MiB, peak {peak} MiB");
    assert!(
        answered.is_ok(),
        "no answer within 1 s, 15 s into the attack"
    );
    attack.iter().for_each(|task| task.abort());
}

/// The README states the servers' limits in words; they follow the constants.
#[test]
fn the_readme_states_the_limits_the_code_has() {
    use balance_cli::server::{
        HEADER_TIMEOUT, MAX_BODY, MAX_CONNECTIONS, SHUTDOWN_GRACE, WRITE_TIMEOUT,
    };
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("the README");
    let readme = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    let thousands = |n: usize| match n {
        1000.. => format!("{},{:03}", n / 1000, n % 1000),
        _ => n.to_string(),
    };
    for stated in [
        format!("request bodies up to {} KiB (413 beyond)", MAX_BODY / 1024),
        format!("{} connections", thousands(MAX_CONNECTIONS)),
        format!("{} s to send a request's headers", HEADER_TIMEOUT.as_secs()),
        format!(
            "{} s for a client to take each answer",
            WRITE_TIMEOUT.as_secs()
        ),
        format!(
            "({} s for connections to finish",
            SHUTDOWN_GRACE.as_secs_f64()
        ),
    ] {
        assert!(
            readme.contains(&stated),
            "the README does not say {stated:?}"
        );
    }
}
