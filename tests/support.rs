//! Fixtures shared by the integration tests.

/// The README's examples, compiled and run by `cargo test` so they cannot go stale: here, where
/// the `blocking` feature its examples use is on.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

use std::net::SocketAddr;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The account SID of the spec's documented example.
pub const EXAMPLE_SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// The spec's documented 200 response body for [`EXAMPLE_SID`].
pub const EXAMPLE_BODY: &str =
    r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"0.05","currency":"USD"}"#;

/// Chooses ring as the process's TLS provider, as `balance_api::Client` does when built: the
/// generated client alone builds a reqwest client, which needs one chosen.
pub fn tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The Balance path for `sid`, as Twilio documents it.
pub fn balance_path(sid: &str) -> String {
    format!("/2010-04-01/Accounts/{sid}/Balance.json")
}

/// The Auth Token the tests authenticate with; redaction tests search for it.
pub const TOKEN: &str = "s3cr3t-auth-token-0123456789abcdef";

/// An API Key SID for the key-and-secret tests.
pub const KEY_SID: &str = "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// The API Key secret; redaction tests search for it.
pub const KEY_SECRET: &str = "k3y-s3cr3t-fedcba9876543210";

/// Account-SID-and-token credentials for [`EXAMPLE_SID`].
pub fn token_credentials() -> balance_api::Credentials {
    let sid = EXAMPLE_SID.parse().expect("valid SID");
    balance_api::Credentials::auth_token(sid, TOKEN).expect("valid credentials")
}

/// Fetches `accounts` through one client, at most `concurrency` at once, one result per account
/// in order: what a user's batch looks like (the library has no batch of its own).
pub async fn fetch_all(
    client: &balance_api::Client,
    accounts: Vec<balance_api::AccountSid>,
    concurrency: usize,
) -> Vec<(
    balance_api::AccountSid,
    Result<balance_api::Balance, balance_api::Error>,
)> {
    use futures_util::StreamExt;
    futures_util::stream::iter(accounts)
        .map(|account| async move {
            let result = client.fetch_balance_of(&account).await;
            (account, result)
        })
        .buffered(concurrency)
        .collect()
        .await
}

/// A builder aimed at `server` with [`token_credentials`].
pub fn builder_for(server: &httpmock::MockServer) -> balance_api::ClientBuilder {
    balance_api::Client::builder()
        .credentials(token_credentials())
        .base_url(server.base_url())
}

/// A server that answers every request with the example body, 5 s late: longer than any
/// timeout the tests set.
pub async fn stalled_server() -> httpmock::MockServer {
    let server = httpmock::MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .body(EXAMPLE_BODY)
                .delay(std::time::Duration::from_secs(5));
        })
        .await;
    server
}

/// The `Authorization` value HTTP basic auth gives `user` and `secret`, computed independently.
pub fn basic(user: &str, secret: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
    format!("Basic {encoded}")
}

/// Every form a secret could leak in: itself and inside the base64 of a basic-auth pair.
pub fn leaked_forms(user: &str, secret: &str) -> Vec<String> {
    vec![
        secret.to_owned(),
        basic(user, secret),
        basic(user, secret)["Basic ".len()..].to_owned(),
    ]
}

/// A minimal HTTP/1.1 keep-alive server on loopback, for what httpmock cannot show or express:
/// connection reuse, dropped connections, stalls, trickled bodies, concurrency, timestamps.
pub struct RawServer {
    addr: SocketAddr,
    stats: Arc<Stats>,
    task: tokio::task::JoinHandle<()>,
}

#[derive(Default)]
struct Stats {
    connections: AtomicUsize,
    requests: AtomicUsize,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    arrivals: Mutex<Vec<(Instant, String)>>,
}

/// What [`RawServer`] does with one request.
#[derive(Default)]
pub struct Reply {
    /// Wait this long before writing anything (a stall; an hour means "never answers").
    pub delay: Duration,
    /// Raw bytes written back (status line, headers, body).
    pub bytes: Vec<u8>,
    /// Write `bytes` one byte at a time, this far apart (after the first `trickle_from`).
    pub trickle: Option<Duration>,
    /// How many leading bytes go out at once before trickling starts (e.g. the head).
    pub trickle_from: usize,
    /// After `bytes`, write this chunk this many times (large bodies without a large buffer).
    pub repeat: Option<(&'static [u8], usize)>,
    /// Close the connection after writing.
    pub close: bool,
}

/// A response with `status`, extra `headers` lines, and a JSON `body`, kept alive.
pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut head = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    Reply {
        bytes: format!("{head}\r\n{body}").into_bytes(),
        ..Reply::default()
    }
}

/// A 200 with a JSON body and keep-alive.
pub fn ok_response(body: &str) -> Reply {
    response(200, &[], body)
}

/// The Account SID in a request head's Balance path, if any.
pub fn sid_in(head: &str) -> Option<&str> {
    head.split("/Accounts/").nth(1)?.split('/').next()
}

impl RawServer {
    /// Starts serving on a free loopback port; `handler` gets each request head.
    pub async fn start(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Self {
        Self::start_on("127.0.0.1:0".parse().expect("addr"), handler).await
    }

    /// Starts serving on `addr`.
    pub async fn start_on(
        addr: SocketAddr,
        handler: impl Fn(&str) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
        Self::from_listener(listener, handler)
    }

    /// Starts serving on a listener the caller made (e.g. from a socket bound earlier).
    pub fn from_listener(
        listener: tokio::net::TcpListener,
        handler: impl Fn(&str) -> Reply + Send + Sync + 'static,
    ) -> Self {
        let addr = listener.local_addr().expect("addr");
        let stats = Arc::new(Stats::default());
        let handler = Arc::new(handler);
        let shared = stats.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                shared.connections.fetch_add(1, SeqCst);
                tokio::spawn(serve(stream, handler.clone(), shared.clone()));
            }
        });
        Self { addr, stats, task }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.stats.connections.load(SeqCst)
    }

    /// Requests read so far.
    pub fn requests(&self) -> usize {
        self.stats.requests.load(SeqCst)
    }

    /// The most requests being handled at one moment.
    pub fn max_in_flight(&self) -> usize {
        self.stats.max_in_flight.load(SeqCst)
    }

    /// When each request arrived, with its head, in arrival order.
    pub fn arrivals(&self) -> Vec<(Instant, String)> {
        self.stats.arrivals.lock().expect("lock").clone()
    }
}

async fn serve<H: Fn(&str) -> Reply + Send + Sync + 'static>(
    mut stream: tokio::net::TcpStream,
    handler: Arc<H>,
    stats: Arc<Stats>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
        buf.drain(..end + 4);
        stats.requests.fetch_add(1, SeqCst);
        let now_in_flight = stats.in_flight.fetch_add(1, SeqCst) + 1;
        stats.max_in_flight.fetch_max(now_in_flight, SeqCst);
        stats
            .arrivals
            .lock()
            .expect("lock")
            .push((Instant::now(), head.clone()));
        let reply = handler(&head);
        tokio::time::sleep(reply.delay).await;
        let written = write_reply(&mut stream, &reply).await;
        stats.in_flight.fetch_sub(1, SeqCst);
        if written.is_err() || reply.close {
            return;
        }
    }

    async fn write_reply(stream: &mut tokio::net::TcpStream, reply: &Reply) -> std::io::Result<()> {
        match reply.trickle {
            Some(gap) => {
                let (burst, rest) = reply
                    .bytes
                    .split_at(reply.trickle_from.min(reply.bytes.len()));
                stream.write_all(burst).await?;
                stream.flush().await?;
                for byte in rest {
                    stream.write_all(&[*byte]).await?;
                    tokio::time::sleep(gap).await;
                }
            }
            None => stream.write_all(&reply.bytes).await?,
        }
        if let Some((chunk, times)) = reply.repeat {
            for _ in 0..times {
                stream.write_all(chunk).await?;
            }
        }
        stream.flush().await
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A writer that appends to a shared buffer, to read what a tracing subscriber printed.
#[derive(Clone, Default)]
pub struct Captured(pub Arc<Mutex<Vec<u8>>>);

impl Captured {
    /// Everything written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
    }
}

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Everything the client side emits at TRACE, from a subscriber installed for the whole test
/// binary: this crate and hyper-util through tracing, reqwest through the log crate (bridged);
/// the mock server's own logs are left out. Binary-wide because a per-test (thread-scoped)
/// subscriber races with tracing's callsite cache when other tests run beside it. Tests that
/// read it filter by their own account SID, since neighbours write to it too.
pub fn trace_log() -> Captured {
    use tracing_subscriber::filter::{LevelFilter, filter_fn};
    use tracing_subscriber::prelude::*;
    static LOG: std::sync::OnceLock<Captured> = std::sync::OnceLock::new();
    LOG.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        let layer = tracing_subscriber::fmt::layer()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_filter(filter_fn(|meta| !meta.target().starts_with("httpmock")))
            .with_filter(LevelFilter::TRACE);
        // Another test binary's choices do not reach here; within this one, this is the only
        // global subscriber, so failures to install mean a bug in the tests.
        tracing_subscriber::registry()
            .with(layer)
            .try_init()
            .expect("one global subscriber");
        captured
    })
    .clone()
}
