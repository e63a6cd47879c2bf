//! The Rust side of the peer comparison with the official Twilio SDKs (`benches/sdks/run.sh`):
//! one loopback server and two client loops, each a subcommand so that every client runs in
//! its own process, pinned and measured by the script.
//!
//! - `peer serve ADDR`: a keep-alive HTTP/1.1 server answering every request with the
//!   documented balance; prints `listening IP:PORT` on stdout, one `conn N` line per accepted
//!   connection on stderr (so the script can check that clients reuse their connection).
//! - `peer fetch raw|balance-api URL N`: one reused client, 200 warm-up fetches, then N timed
//!   sequential fetches; prints `{"client":…,"fetches":N,"seconds":S,"per_sec":R}`.
//!
//! Built with `cargo bench -p balance-api --bench peer --no-run`; not run by `cargo bench` alone
//! in any useful way (without arguments it prints its usage).

use balance_api::{AccountSid, Client, Credentials};
use std::time::Instant;

const SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN: &str = "bench-token";
const BODY: &str =
    r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"0.05","currency":"USD"}"#;
const WARM_UP: usize = 200;
const USAGE: &str = "usage: peer serve ADDR | peer fetch raw|balance-api URL N";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["serve", addr] => server::run(addr),
        ["fetch", kind @ ("raw" | "balance-api"), url, n] => {
            let n: usize = n.parse().expect("N is a count of fetches");
            fetch(kind, url.trim_end_matches('/'), n);
        }
        // `cargo bench` passes `--bench`; say how to use it instead of failing.
        _ => eprintln!("{USAGE}"),
    }
}

/// The hand-written baseline decodes into its own struct, as a user without this crate would.
#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct RawBalance {
    account_sid: Option<String>,
    balance: Option<String>,
    currency: Option<String>,
}

fn fetch(kind: &str, base: &str, n: usize) {
    // One core per client process: a current-thread runtime is what fits.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let seconds = rt.block_on(async {
        if kind == "raw" {
            let raw = reqwest::Client::new();
            let url = format!("{base}/2010-04-01/Accounts/{SID}/Balance.json");
            let one = || async {
                let r = raw
                    .get(&url)
                    .basic_auth(SID, Some(TOKEN))
                    .send()
                    .await
                    .expect("raw send")
                    .error_for_status()
                    .expect("raw status");
                let b: RawBalance = r.json().await.expect("raw json");
                assert_eq!(b.currency.as_deref(), Some("USD"));
            };
            for _ in 0..WARM_UP {
                one().await;
            }
            let started = Instant::now();
            for _ in 0..n {
                one().await;
            }
            started.elapsed().as_secs_f64()
        } else {
            let sid: AccountSid = SID.parse().expect("sid");
            let client = Client::builder()
                .credentials(Credentials::auth_token(sid, TOKEN).expect("credentials"))
                .base_url(base.to_owned())
                .build()
                .expect("client");
            for _ in 0..WARM_UP {
                client.fetch_balance().await.expect("balance-api");
            }
            let started = Instant::now();
            for _ in 0..n {
                client.fetch_balance().await.expect("balance-api");
            }
            started.elapsed().as_secs_f64()
        }
    });
    println!(
        r#"{{"client":"{kind}","fetches":{n},"seconds":{seconds:.6},"per_sec":{:.1}}}"#,
        n as f64 / seconds
    );
}

/// A minimal keep-alive HTTP/1.1 server. Every request, whatever its method or request-target
/// (origin-form `/path` or absolute-form `http://host/path`), gets the same 200 reply; request
/// bodies announced by `content-length` are skipped; `connection: close` (or HTTP/1.0 without
/// `keep-alive`) closes after the reply.
mod server {
    use std::io::Write;
    use std::sync::atomic::{AtomicU64, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    static CONNS: AtomicU64 = AtomicU64::new(0);

    pub fn run(addr: &str) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
            let bound = listener.local_addr().expect("addr");
            let mut out = std::io::stdout().lock();
            writeln!(out, "listening {bound}").expect("stdout");
            out.flush().expect("stdout");
            drop(out);
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        let n = CONNS.fetch_add(1, Ordering::Relaxed) + 1;
                        eprintln!("conn {n} {peer}");
                        let _ = stream.set_nodelay(true);
                        tokio::spawn(serve(stream));
                    }
                    // Out of file descriptors and the like: keep serving the others.
                    Err(e) => {
                        eprintln!("accept: {e}");
                        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                    }
                }
            }
        });
    }

    struct Head {
        len: usize,
        body: usize,
        close: bool,
    }

    /// Parses one request head at the start of `buf`, if it is complete.
    fn head(buf: &[u8]) -> Option<Head> {
        let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
        let text = String::from_utf8_lossy(&buf[..end]);
        let mut lines = text.split("\r\n");
        let request_line = lines.next().unwrap_or_default();
        let http10 = request_line.ends_with("HTTP/1.0");
        let (mut body, mut close, mut keep_alive) = (0, http10, false);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let (name, value) = (name.trim(), value.trim());
            if name.eq_ignore_ascii_case("content-length") {
                body = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("connection") {
                for token in value.split(',').map(str::trim) {
                    if token.eq_ignore_ascii_case("close") {
                        close = true;
                    } else if token.eq_ignore_ascii_case("keep-alive") {
                        keep_alive = true;
                    }
                }
            }
        }
        if http10 && keep_alive {
            close = false;
        }
        Some(Head {
            len: end,
            body,
            close,
        })
    }

    async fn serve(mut stream: tokio::net::TcpStream) {
        let reply = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{}",
            super::BODY.len(),
            super::BODY
        );
        let closing = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
            super::BODY.len(),
            super::BODY
        );
        let mut buf: Vec<u8> = Vec::with_capacity(8192);
        let mut chunk = [0u8; 8192];
        // Body bytes of the current request still to be skipped.
        let mut skip = 0usize;
        loop {
            loop {
                if skip > 0 {
                    let n = skip.min(buf.len());
                    buf.drain(..n);
                    skip -= n;
                    if skip > 0 {
                        break;
                    }
                }
                let Some(h) = head(&buf) else { break };
                buf.drain(..h.len);
                skip = h.body;
                let out = if h.close { &closing } else { &reply };
                if stream.write_all(out.as_bytes()).await.is_err() {
                    return;
                }
                if h.close {
                    let _ = stream.shutdown().await;
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
