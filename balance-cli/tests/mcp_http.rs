//! The built `balance-mcp --listen` as a team would run it: a real process on a loopback port,
//! reached over real HTTP by rmcp's Streamable HTTP client (and by plain requests for what a
//! client library would not send), with httpmock or a raw socket standing in for Twilio.

mod loopback;
mod support;
use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams, ResourceContents};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TWILIO_TOKEN: &str = "twilio-auth-token-0123456789abcdef";
const TOKEN: &str = "mcp-bearer-token-0123456789abcdef";

/// `balance-mcp` with no Twilio or token settings from the test's own environment.
fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_balance-mcp"));
    for var in balance_api::ENV_VARS.iter().chain(&["BALANCE_MCP_TOKEN"]) {
        cmd.env_remove(var);
    }
    cmd.args(args).envs(env.iter().copied());
    cmd
}

/// A running server: its process, its `/mcp` URL, and what it has written on stderr.
struct Server {
    child: Child,
    url: String,
    stderr: mpsc::Receiver<String>,
    /// What it wrote before the `listening on` line.
    early: Vec<String>,
}

impl Server {
    /// Starts `cmd` and waits for its `listening on http://ADDR/mcp` line.
    fn start(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        let (lines, stderr) = mpsc::channel();
        let pipe = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut early = Vec::new();
        let url = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = stderr
                .recv_timeout(left)
                .unwrap_or_else(|e| panic!("no `listening on` line: {e}: {early:?}"));
            if let Some(url) = line.strip_prefix("balance-mcp: listening on ") {
                break url.to_owned();
            }
            early.push(line);
        };
        assert!(url.starts_with("http://") && url.ends_with("/mcp"), "{url}");
        // Reached over loopback whatever the address it listens on.
        let url = url.replacen("http://0.0.0.0:", "http://127.0.0.1:", 1);
        Self {
            child,
            url,
            stderr,
            early,
        }
    }

    /// `http://127.0.0.1:PORT`, as a browser names this server's origin.
    fn origin(&self) -> &str {
        self.url.trim_end_matches("/mcp")
    }

    /// Sends SIGTERM (with kill(1): this workspace has no unsafe code for a libc call), and
    /// returns the exit code, how long the exit took, and everything on stderr.
    fn terminate(mut self) -> (Option<i32>, Duration, String) {
        let pid = self.child.id().to_string();
        let sent = Instant::now();
        let kill = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(kill.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            if sent.elapsed() > Duration::from_secs(10) {
                let _ = self.child.kill();
                panic!("still running 10 s after SIGTERM");
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        let took = sent.elapsed();
        let mut stdout = String::new();
        if let Some(mut out) = self.child.stdout.take() {
            let _ = std::io::Read::read_to_string(&mut out, &mut stdout);
        }
        assert_eq!(stdout, "", "nothing on stdout in HTTP mode");
        let mut stderr = std::mem::take(&mut self.early);
        stderr.extend(self.stderr.iter());
        (status.code(), took, stderr.join("\n"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server reading balances from `twilio` with the token in `BALANCE_MCP_TOKEN`.
fn against(twilio: &str, extra: &[&str]) -> Server {
    let mut args = vec!["--listen", "127.0.0.1:0", "--base-url", twilio];
    args.extend_from_slice(extra);
    Server::start(command(
        &args,
        &[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
            ("BALANCE_MCP_TOKEN", TOKEN),
        ],
    ))
}

/// An rmcp client session over Streamable HTTP, sending `token` as its bearer token.
async fn client(
    server: &Server,
    token: &str,
) -> Result<rmcp::service::RunningService<rmcp::RoleClient, ()>, rmcp::service::ClientInitializeError>
{
    let config =
        StreamableHttpClientTransportConfig::with_uri(server.url.as_str()).auth_header(token);
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
}

fn initialize() -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"}}})
}

/// A POST to the server as an MCP client sends it, with `headers` added.
async fn post(server: &Server, headers: &[(&str, &str)], body: String) -> reqwest::Response {
    let mut request = http()
        .post(&server.url)
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("an HTTP answer")
}

/// Opens a session with the token, and returns its id.
async fn open_session(server: &Server) -> String {
    let auth = bearer(TOKEN);
    let opened = post(
        server,
        &[("authorization", &auth)],
        initialize().to_string(),
    )
    .await;
    assert_eq!(opened.status(), 200);
    let id = opened.headers()["mcp-session-id"]
        .to_str()
        .expect("a session id");
    id.to_owned()
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

/// The JSON-RPC message in an SSE response body (its `data: {...}` line).
fn sse_message(body: &str) -> Value {
    let data = body
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(str::trim)
        .find(|data| data.starts_with('{'))
        .unwrap_or_else(|| panic!("no message in {body:?}"));
    serde_json::from_str(data).expect("JSON")
}

async fn twilio_balance(twilio: &httpmock::MockServer) -> httpmock::Mock<'_> {
    twilio
        .mock_async(|when, then| {
            when.method(httpmock::Method::GET)
                .path(format!("/2010-04-01/Accounts/{SID}/Balance.json"))
                .header("authorization", support::basic(SID, TWILIO_TOKEN));
            then.status(200)
                .header("content-type", "application/json")
                .body(format!(
                    r#"{{"account_sid":"{SID}","balance":"12.34","currency":"EUR"}}"#
                ));
        })
        .await
}

fn checked_in(name: &str) -> Vec<u8> {
    let path = format!("{}/../openapi/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn an_http_session_initializes_calls_a_tool_and_reads_resources() {
    let twilio = httpmock::MockServer::start_async().await;
    let balance = twilio_balance(&twilio).await;
    let server = against(&twilio.base_url(), &[]);

    let session = client(&server, TOKEN).await.expect("initialized");
    let info = session
        .peer_info()
        .expect("the server's answer to initialize");
    let name = info.server_info.as_ref().map(|s| s.name.as_str());
    assert_eq!(name, Some("balance-mcp"));
    assert!(info.capabilities.tools.is_some() && info.capabilities.resources.is_some());

    let args = json!({}).as_object().cloned().expect("object");
    let result = session
        .call_tool(CallToolRequestParams::new("get_balance").with_arguments(args))
        .await
        .expect("a tool result");
    assert_eq!(result.is_error, Some(false), "{result:?}");
    let structured = result.structured_content.expect("structured");
    assert_eq!(
        (
            &structured["account_sid"],
            &structured["balance"],
            &structured["currency"]
        ),
        (&json!(SID), &json!("12.34"), &json!("EUR"))
    );
    assert_eq!(balance.calls_async().await, 1, "one request to Twilio");

    let resources = session.list_all_resources().await.expect("resources");
    assert_eq!(resources.len(), 3);
    let read = session
        .read_resource(ReadResourceRequestParams::new(resources[0].uri.clone()))
        .await
        .expect("read");
    let [ResourceContents::TextResourceContents { text, .. }] = read.contents.as_slice() else {
        panic!("one text content: {read:?}");
    };
    assert_eq!(text.as_bytes(), checked_in("balance.json"));

    // The session stays open (rmcp's client holds an event stream): SIGTERM ends it anyway.
    let (code, took, stderr) = server.terminate();
    drop(session);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(took < Duration::from_secs(2), "exit took {took:?}");
    for secret in [TOKEN, TWILIO_TOKEN] {
        assert!(!stderr.contains(secret), "{stderr}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_token_every_request_gets_401_and_twilio_hears_nothing() {
    let twilio = httpmock::MockServer::start_async().await;
    let any = twilio
        .mock_async(|when, then| {
            when.any_request();
            then.status(200);
        })
        .await;
    let server = against(&twilio.base_url(), &[]);
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "get_balance", "arguments": {}}});

    let wrong = [
        None,
        Some(bearer("wrong-token-0123456789abcdef")),
        Some(bearer(&TOKEN[..TOKEN.len() - 1])),
        Some(bearer(&format!("{TOKEN}x"))),
        Some(bearer(&TOKEN.to_uppercase())),
        Some(format!("Basic {TOKEN}")),
        Some(TOKEN.to_owned()),
    ];
    for authorization in &wrong {
        let headers: Vec<(&str, &str)> = authorization
            .iter()
            .map(|a| ("authorization", a.as_str()))
            .collect();
        for body in [initialize(), call.clone()] {
            let response = post(&server, &headers, body.to_string()).await;
            assert_eq!(response.status(), 401, "{authorization:?}");
            assert_eq!(
                response.headers()["www-authenticate"],
                "Bearer realm=\"balance-mcp\""
            );
            let text = response.text().await.expect("body");
            assert!(
                !text.contains(TOKEN) && !text.contains(TWILIO_TOKEN),
                "{text}"
            );
        }
    }

    // A session opened with the token is no key on its own: each request needs the token.
    let session = open_session(&server).await;
    let headers = [
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    let response = post(&server, &headers, call.to_string()).await;
    assert_eq!(response.status(), 401);

    // rmcp's own client with a wrong token does not get a session either.
    assert!(
        client(&server, "wrong-token-0123456789abcdef")
            .await
            .is_err()
    );
    assert_eq!(any.calls_async().await, 0, "nothing was read from Twilio");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_origin_or_host_gets_403() {
    let twilio = httpmock::MockServer::start_async().await;
    let server = against(
        &twilio.base_url(),
        &["--allow-origin", "https://app.example.com"],
    );
    let auth = bearer(TOKEN);
    let port = server
        .origin()
        .rsplit(':')
        .next()
        .expect("a port")
        .to_owned();
    let other_port = format!(
        "http://127.0.0.1:{}",
        port.parse::<u16>().expect("port") ^ 1
    );
    let cases = [
        ("http://evil.example", 403),
        ("https://app.example.com:8443", 403),
        (other_port.as_str(), 403),
        ("null", 403),
        (server.origin(), 200),
        (&*format!("http://localhost:{port}"), 200),
        ("https://app.example.com", 200),
    ];
    for (origin, status) in cases {
        let headers = [("authorization", auth.as_str()), ("origin", origin)];
        let response = post(&server, &headers, initialize().to_string()).await;
        assert_eq!(response.status(), status, "Origin: {origin}");
    }
    // DNS rebinding: a page on evil.example whose name now points at 127.0.0.1.
    let rebound = format!("evil.example:{port}");
    let headers = [("authorization", auth.as_str()), ("host", rebound.as_str())];
    let response = post(&server, &headers, initialize().to_string()).await;
    assert_eq!(response.status(), 403, "Host: {rebound}");
    // rmcp reads the first Origin alone: a second is refused, not ignored.
    let headers = [
        ("authorization", auth.as_str()),
        ("origin", server.origin()),
        ("origin", "http://evil.example"),
    ];
    let response = post(&server, &headers, initialize().to_string()).await;
    assert_eq!(response.status(), 400, "two Origins");
    let own_host = format!("127.0.0.1:{port}");
    let headers = [
        ("authorization", auth.as_str()),
        ("host", own_host.as_str()),
        ("host", rebound.as_str()),
    ];
    let response = post(&server, &headers, initialize().to_string()).await;
    assert_eq!(response.status(), 400, "two Hosts");
}

#[tokio::test(flavor = "multi_thread")]
async fn allow_remote_accepts_any_host_but_still_checks_token_and_origin() {
    let twilio = httpmock::MockServer::start_async().await;
    let mut args = vec!["--listen", "0.0.0.0:0", "--allow-remote"];
    let base_url = twilio.base_url();
    args.extend(["--base-url", base_url.as_str()]);
    let server = Server::start(command(
        &args,
        &[
            ("TWILIO_ACCOUNT_SID", SID),
            ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN),
            ("BALANCE_MCP_TOKEN", TOKEN),
        ],
    ));
    let port = server
        .origin()
        .rsplit(':')
        .next()
        .expect("a port")
        .to_owned();
    let host = format!("balance.internal:{port}");
    let auth = bearer(TOKEN);
    let by_name = [("authorization", auth.as_str()), ("host", host.as_str())];
    let response = post(&server, &by_name, initialize().to_string()).await;
    assert_eq!(response.status(), 200, "a name other machines use");
    let no_token = [("host", host.as_str())];
    let response = post(&server, &no_token, initialize().to_string()).await;
    assert_eq!(response.status(), 401);
    let foreign = [
        ("authorization", auth.as_str()),
        ("host", host.as_str()),
        ("origin", "http://evil.example"),
    ];
    let response = post(&server, &foreign, initialize().to_string()).await;
    assert_eq!(response.status(), 403);
    let (code, _, stderr) = server.terminate();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("TLS"), "the plain-HTTP warning: {stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_body_gets_413_and_the_server_goes_on() {
    let twilio = httpmock::MockServer::start_async().await;
    let server = against(&twilio.base_url(), &[]);
    let auth = bearer(TOKEN);
    let mut huge = initialize();
    huge["params"]["pad"] = json!("x".repeat(100 * 1024));
    let response = post(&server, &[("authorization", &auth)], huge.to_string()).await;
    assert_eq!(response.status(), 413);
    let response = post(
        &server,
        &[("authorization", &auth)],
        initialize().to_string(),
    )
    .await;
    assert_eq!(response.status(), 200);
    let hello = sse_message(&response.text().await.expect("body"));
    assert_eq!(
        hello["result"]["serverInfo"]["name"], "balance-mcp",
        "{hello}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_past_the_cap_get_503_until_one_closes() {
    let twilio = httpmock::MockServer::start_async().await;
    let server = against(&twilio.base_url(), &["--max-sessions", "2"]);
    let auth = bearer(TOKEN);
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let response = post(
            &server,
            &[("authorization", &auth)],
            initialize().to_string(),
        )
        .await;
        assert_eq!(response.status(), 200);
        sessions.push(response.headers()["mcp-session-id"].clone());
    }
    let refused = post(
        &server,
        &[("authorization", &auth)],
        initialize().to_string(),
    )
    .await;
    assert_eq!(refused.status(), 503);
    assert!(refused.headers().contains_key("retry-after"));

    let closed = http()
        .delete(&server.url)
        .header("authorization", &auth)
        .header("mcp-session-id", sessions[0].clone())
        .send()
        .await
        .expect("an HTTP answer");
    assert!(closed.status().is_success(), "{}", closed.status());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let response = post(
            &server,
            &[("authorization", &auth)],
            initialize().to_string(),
        )
        .await;
        if response.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "no slot after closing a session");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_ends_it_within_2s_even_with_a_call_waiting_on_twilio() {
    // A "Twilio" that accepts and never answers.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let hung_url = format!("http://{}", hung.local_addr().expect("addr"));
    let (connected, arrived) = mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in hung.incoming().map_while(Result::ok) {
            held.push(stream);
            let _ = connected.send(());
        }
    });
    let server = against(&hung_url, &["--timeout", "60"]);
    let session = client(&server, TOKEN).await.expect("initialized");
    let call = tokio::spawn(async move {
        let args = json!({}).as_object().cloned().expect("object");
        let _ = session
            .call_tool(CallToolRequestParams::new("get_balance").with_arguments(args))
            .await;
    });
    arrived
        .recv_timeout(Duration::from_secs(10))
        .expect("the call reached the fake Twilio");

    let (code, took, stderr) = server.terminate();
    assert_eq!(code, Some(0), "{stderr}");
    assert!(took < Duration::from_secs(2), "exit took {took:?}");
    call.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn sequential_calls_never_wait_for_a_delayed_ack() {
    // Each answer is an event stream written in small pieces; if the server let Nagle's
    // algorithm hold the last one back for the client's delayed ACK, every call would take
    // up to 40 ms (Linux): 40 of them took 1 s that way, against 0.1 s in a debug build.
    let server = Server::start(command(
        &["--demo", "--listen", "127.0.0.1:0"],
        &[("BALANCE_MCP_TOKEN", TOKEN)],
    ));
    let auth = bearer(TOKEN);
    let session = open_session(&server).await;
    let headers = [
        ("authorization", auth.as_str()),
        ("mcp-session-id", session.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    post(&server, &headers, initialized.to_string()).await;
    let client = http();
    let started = Instant::now();
    for id in 0..40 {
        let call = json!({"jsonrpc": "2.0", "id": 10 + id, "method": "tools/call",
            "params": {"name": "get_balance", "arguments": {}}});
        let mut request = client
            .post(&server.url)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream")
            .body(call.to_string());
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let body = request
            .send()
            .await
            .expect("answer")
            .text()
            .await
            .expect("body");
        assert_eq!(sse_message(&body)["result"]["isError"], false, "{body}");
    }
    let took = started.elapsed();
    assert!(took < Duration::from_millis(500), "40 calls took {took:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_in_flight_limit_is_shared_by_every_session() {
    let twilio = loopback::twilio(Duration::from_millis(50));
    let server = against(&twilio.url, &["--concurrency", "3"]);
    let mut calls = Vec::new();
    for session in 0..3 {
        let client = client(&server, TOKEN).await.expect("initialized");
        let sids: Vec<String> = (0..8)
            .map(|i| format!("AC{:032x}", session * 100 + i))
            .collect();
        calls.push(tokio::spawn(async move {
            let args = json!({"account_sids": sids})
                .as_object()
                .cloned()
                .expect("object");
            let result = client
                .call_tool(CallToolRequestParams::new("get_balances").with_arguments(args))
                .await
                .expect("a tool result");
            let entries = result.structured_content.expect("structured")["balances"].clone();
            (entries, client)
        }));
    }
    for call in calls {
        let (entries, _client) = call.await.expect("the call");
        let entries = entries.as_array().cloned().expect("entries");
        assert_eq!(entries.len(), 8);
        assert!(
            entries.iter().all(|e| e["result"]["balance"] == "1.00"),
            "{entries:?}"
        );
    }
    let peak = twilio.peak();
    // Three sessions with eight accounts each: only the shared limit keeps this at 3.
    assert!(
        (2..=3).contains(&peak),
        "at most 3 in flight across sessions, saw {peak}"
    );
}

/// Runs `cmd` to its exit and returns the code, stdout and stderr.
fn run(mut cmd: Command) -> (Option<i32>, String, String) {
    let out = cmd.stdin(Stdio::null()).output().expect("run");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn without_a_usable_token_it_refuses_to_start_with_one_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let open_file = dir.path().join("open");
    std::fs::write(&open_file, format!("{TOKEN}\n")).expect("write");
    let private = dir.path().join("private");
    std::fs::write(&private, format!("{TOKEN}\n")).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &std::path::Path, mode| {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod")
        };
        mode(&open_file, 0o644);
        mode(&private, 0o600);
    }
    let (open_path, private_path) = (
        open_file.to_str().expect("path"),
        private.to_str().expect("path"),
    );
    let listen = ["--demo", "--listen", "127.0.0.1:0"];
    let with = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = listen.to_vec();
        args.extend_from_slice(extra);
        command(&args, env)
    };
    let mut cases: Vec<(Command, &str)> = vec![
        (with(&[], &[]), "BALANCE_MCP_TOKEN"),
        (with(&[], &[("BALANCE_MCP_TOKEN", "")]), "shorter than 16"),
        (
            with(&[], &[("BALANCE_MCP_TOKEN", "short-secret")]),
            "shorter than 16",
        ),
        (
            with(&[], &[("BALANCE_MCP_TOKEN", "has a space in it, sadly")]),
            "not a bearer token",
        ),
        (
            with(&[], &[("BALANCE_MCP_TOKEN", "quote\"or,comma-0123456789")]),
            "not a bearer token",
        ),
        (with(&["--token-file", open_path], &[]), "chmod 600"),
        (
            with(
                &["--token-file", private_path],
                &[("BALANCE_MCP_TOKEN", TOKEN)],
            ),
            "given twice",
        ),
        (
            command(
                &["--demo", "--listen", "0.0.0.0:0"],
                &[("BALANCE_MCP_TOKEN", TOKEN)],
            ),
            "--allow-remote",
        ),
    ];
    let origins = [
        ("app.example.com", "is not an exact origin"),
        ("http://localhost:*", "wildcards are not supported"),
        ("http://*.example.com", "wildcards are not supported"),
        ("https://app.example.com/path", "is not an exact origin"),
    ];
    let env = [("BALANCE_MCP_TOKEN", TOKEN)];
    cases.extend(origins.map(|(o, says)| (with(&["--allow-origin", o], &env), says)));
    for (cmd, says) in cases {
        let shown = format!("{cmd:?}");
        let (code, stdout, stderr) = run(cmd);
        assert_eq!(code, Some(1), "{shown}: {stderr}");
        assert_eq!(stdout, "", "{shown}");
        assert_eq!(stderr.lines().count(), 1, "{shown}: {stderr}");
        assert!(stderr.contains(says), "{shown}: {stderr}");
        for secret in [TOKEN, "short-secret", "sadly"] {
            assert!(!stderr.contains(secret), "{shown}: {stderr}");
        }
    }

    // The same file, readable by its owner only, is accepted.
    let server = Server::start(with(&["--token-file", private_path], &[]));
    let (code, _, stderr) = server.terminate();
    assert_eq!(code, Some(0), "{stderr}");
}

/// A stranger without the token holds 300 idle connections open, reopening each as it is cut;
/// a token holder's `initialize` still answers within 1 s.
#[tokio::test(flavor = "multi_thread")]
async fn three_hundred_idle_strangers_do_not_slow_a_token_holder() {
    let twilio = httpmock::MockServer::start_async().await;
    let server = against(&twilio.base_url(), &[]);
    let address = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut strangers = Vec::new();
    for _ in 0..300 {
        let (address, stop) = (address.clone(), stop.clone());
        strangers.push(tokio::spawn(async move {
            use tokio::io::AsyncReadExt;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok(mut idle) = tokio::net::TcpStream::connect(&address).await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                // Held until the server cuts it, then opened again.
                let _ = idle.read(&mut [0; 64]).await;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let auth = bearer(TOKEN);
    for _ in 0..3 {
        let started = Instant::now();
        let response = post(
            &server,
            &[("authorization", &auth)],
            initialize().to_string(),
        )
        .await;
        assert_eq!(response.status(), 200);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "took {:?}",
            started.elapsed()
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    strangers.iter().for_each(tokio::task::JoinHandle::abort);
}

/// One GET event stream per session: a second gets 409 while the first is open, and the slot
/// frees when it closes.
#[tokio::test(flavor = "multi_thread")]
async fn a_session_holds_one_event_stream_at_most() {
    let twilio = httpmock::MockServer::start_async().await;
    let server = against(&twilio.base_url(), &[]);
    let auth = bearer(TOKEN);
    let session = open_session(&server).await;
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let headers = [
        ("authorization", auth.as_str()),
        ("mcp-session-id", session.as_str()),
    ];
    post(&server, &headers, initialized.to_string()).await;
    let stream = |server: &Server| {
        http()
            .get(&server.url)
            .header("authorization", &auth)
            .header("mcp-session-id", &session)
            .header("accept", "text/event-stream")
            .send()
    };
    let first = stream(&server).await.expect("answer");
    assert_eq!(first.status(), 200);
    let second = stream(&server).await.expect("answer");
    assert_eq!(second.status(), 409);
    // A resumption is a stream too: it does not get around the limit.
    let resumed = http()
        .get(&server.url)
        .header("authorization", &auth)
        .header("mcp-session-id", &session)
        .header("accept", "text/event-stream")
        .header("last-event-id", "0")
        .send()
        .await
        .expect("answer");
    assert_eq!(resumed.status(), 409);
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let again = stream(&server).await.expect("answer");
        if again.status() == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the slot never freed: {}",
            again.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sessions opened and never used again (the `initialize` answer went nowhere) expire within
/// 30 s, so they cannot hold `--max-sessions` for the 5-minute idle timeout.
#[tokio::test(flavor = "multi_thread")]
async fn abandoned_sessions_expire_within_30_s() {
    let twilio = httpmock::MockServer::start_async().await;
    let server = against(&twilio.base_url(), &["--max-sessions", "2"]);
    let auth = bearer(TOKEN);
    for _ in 0..2 {
        let opened = post(
            &server,
            &[("authorization", &auth)],
            initialize().to_string(),
        )
        .await;
        assert_eq!(opened.status(), 200);
    }
    let full = post(
        &server,
        &[("authorization", &auth)],
        initialize().to_string(),
    )
    .await;
    assert_eq!(full.status(), 503);
    let started = Instant::now();
    loop {
        let response = post(
            &server,
            &[("authorization", &auth)],
            initialize().to_string(),
        )
        .await;
        if response.status() == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(32),
            "still full after 32 s"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// `--config`: three separately billed accounts, each read with its own credentials; the
/// tools' schemas list the configured names, `get_balance` takes one, and `get_balances {}`
/// reads every account, each with its name, minimum and whether it is below it.
#[tokio::test(flavor = "multi_thread")]
async fn a_config_of_three_accounts_over_streamable_http() {
    use support::three_accounts::{self, CHILD, EU, US};
    let twilio = httpmock::MockServer::start_async().await;
    tokio::task::block_in_place(|| three_accounts::twilio(&twilio));
    let dir = tempfile::tempdir().expect("dir");
    let config = three_accounts::config(dir.path());
    let config = config.to_string_lossy();
    let mut env = three_accounts::ENV.to_vec();
    env.push(("BALANCE_MCP_TOKEN", TOKEN));
    let server = Server::start(command(
        &[
            "--listen",
            "127.0.0.1:0",
            "--base-url",
            &twilio.base_url(),
            "--config",
            &config,
        ],
        &env,
    ));
    let session = client(&server, TOKEN).await.expect("initialized");

    let tools = session.list_all_tools().await.expect("tools");
    let get_balance = tools
        .iter()
        .find(|t| t.name == "get_balance")
        .expect("get_balance");
    let schema = serde_json::to_string(&get_balance.input_schema).expect("schema");
    for name in ["eu-prod", "eu-prod-child", "us-agency"] {
        assert!(schema.contains(name), "{schema}");
    }

    let args = json!({}).as_object().cloned().expect("object");
    let all = session
        .call_tool(CallToolRequestParams::new("get_balances").with_arguments(args))
        .await
        .expect("get_balances {}");
    let answer = all.structured_content.expect("structured");
    eprintln!("get_balances {{}} -> {answer:#}");
    let entries = answer["balances"].as_array().expect("balances");
    let summary: Vec<(String, String, Value, Value, Value)> = entries
        .iter()
        .map(|e| {
            let r = &e["result"];
            let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
            (
                text(&e["account_sid"]),
                text(&r["name"]),
                r["balance"].clone(),
                r["min"].clone(),
                r["below_min"].clone(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                EU.into(),
                "eu-prod".into(),
                json!("42.10"),
                json!("20"),
                json!(false)
            ),
            (
                CHILD.into(),
                "eu-prod-child".into(),
                Value::Null,
                json!("20"),
                json!(false)
            ),
            (
                US.into(),
                "us-agency".into(),
                json!("3.50"),
                json!("5"),
                json!(true)
            ),
        ]
    );

    let args = json!({"account_sid": "us-agency"})
        .as_object()
        .cloned()
        .expect("object");
    let one = session
        .call_tool(CallToolRequestParams::new("get_balance").with_arguments(args))
        .await
        .expect("get_balance by name");
    let result = one.structured_content.expect("structured");
    assert_eq!(
        (
            result["account_sid"].as_str(),
            result["below_min"].as_bool()
        ),
        (Some(US), Some(true))
    );

    let args = json!({"account_sid": "AC99999999999999999999999999999999"})
        .as_object()
        .cloned();
    let outside = session
        .call_tool(CallToolRequestParams::new("get_balance").with_arguments(args.expect("object")))
        .await
        .expect("an answer");
    assert_eq!(outside.is_error, Some(true), "{outside:?}");
    let _ = session.cancel().await;
}

/// A token holder whose `initialize` body trickles in holds up no one else's `initialize`.
#[tokio::test(flavor = "multi_thread")]
async fn a_trickled_initialize_body_holds_up_no_other_session() {
    use tokio::io::AsyncWriteExt;
    let twilio = httpmock::MockServer::start_async().await;
    let server = against(&twilio.base_url(), &[]);
    let address = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let body = initialize().to_string();
    let mut slow = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/json\r\nAccept: application/json, text/event-stream\r\n\
         Content-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..10]
    );
    slow.write_all(head.as_bytes())
        .await
        .expect("half a request");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let auth = bearer(TOKEN);
    let answered = tokio::time::timeout(
        Duration::from_secs(5),
        post(&server, &[("authorization", &auth)], body.clone()),
    )
    .await
    .expect("answered while the other body is still trickling");
    assert_eq!(answered.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    drop(slow);
}

/// A chunked body over the cap (no length announced) in a session gets 413, as an announced
/// one does, not rmcp's 500.
#[tokio::test(flavor = "multi_thread")]
async fn a_chunked_body_over_the_cap_in_a_session_gets_413() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let twilio = httpmock::MockServer::start_async().await;
    let server = against(&twilio.base_url(), &[]);
    let auth = bearer(TOKEN);
    let session = open_session(&server).await;
    let address = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp")
        .to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let pad = "x".repeat(100 * 1024);
    let body =
        format!(r#"{{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{{"pad":"{pad}"}}}}"#);
    let request = format!(
        "POST /mcp HTTP/1.1\r\nHost: {address}\r\nAuthorization: {auth}\r\n\
         Mcp-Session-Id: {session}\r\nContent-Type: application/json\r\n\
         Accept: application/json, text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n\
         {:x}\r\n{body}\r\n0\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = vec![0; 12];
    stream.read_exact(&mut answer).await.expect("a status line");
    assert_eq!(String::from_utf8_lossy(&answer), "HTTP/1.1 413");
}

/// 4,200 tokenless clients that each pipeline 4,000 requests and never read: 15 s into the
/// attack, an authenticated `initialize` is answered within a second.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn four_thousand_non_reading_clients_do_not_blind_initialize() {
    if !support::room_for_an_attack() {
        return;
    }
    let twilio = httpmock::MockServer::start_async().await;
    let server = against(&twilio.base_url(), &[]);
    let address = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches("/mcp");
    let request =
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}".repeat(4_000);
    let attack = support::never_reading(address.parse().expect("address"), 4_200, request);
    tokio::time::sleep(Duration::from_secs(15)).await;
    let started = Instant::now();
    let auth = bearer(TOKEN);
    let answered = tokio::time::timeout(
        Duration::from_secs(1),
        post(
            &server,
            &[("authorization", &auth)],
            initialize().to_string(),
        ),
    )
    .await;
    eprintln!(
        "15 s into the attack: initialize in {:?}",
        started.elapsed()
    );
    assert_eq!(answered.expect("answered within 1 s").status(), 200);
    attack.iter().for_each(|task| task.abort());
}
