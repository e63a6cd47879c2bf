//! The built `balance-mcp` over real pipes, as an MCP client starts it: raw JSON-RPC lines in,
//! nothing but JSON-RPC out, exit 0 when stdin closes.

mod loopback;
mod support;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

fn server(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_balance-mcp"));
    for var in balance_api::ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.args(args).envs(env.iter().copied());
    cmd
}

/// `cmd` started with its stdin, stdout and stderr piped to the test.
fn spawn_piped(cmd: &mut Command) -> std::process::Child {
    let piped = cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    piped.stderr(Stdio::piped()).spawn().expect("spawn")
}

/// Sends `requests` one per line, closes stdin, and returns every stdout line parsed, the
/// stderr text and the exit code.
fn exchange(cmd: &mut Command, requests: &[Value]) -> (Vec<Value>, String, Option<i32>) {
    let mut child = spawn_piped(cmd);
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = stdout.lines();
    let mut answers = Vec::new();
    for request in requests {
        writeln!(stdin, "{request}").expect("write");
        stdin.flush().expect("flush");
        if request.get("id").is_some() {
            let line = lines.next().expect("an answer").expect("read");
            answers
                .push(serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}")));
        }
    }
    drop(stdin);
    for line in lines {
        let line = line.expect("read");
        answers.push(serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}")));
    }
    let out = child.wait_with_output().expect("exit");
    (
        answers,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

fn initialize(version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}})
}

fn is_json_rpc(v: &Value) -> bool {
    v["jsonrpc"] == "2.0"
        && (v.get("result").is_some() || v.get("error").is_some() || v["method"].is_string())
}

#[test]
fn a_demo_session_over_pipes() {
    for version in ["2025-06-18", "2025-11-25"] {
        let (answers, stderr, code) = exchange(
            &mut server(&["--demo"], &[]),
            &[
                initialize(version),
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
                json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
                json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "get_balance", "arguments": {}}}),
                json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "nope", "arguments": {}}}),
                json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call", "params": {"name": "get_balance", "arguments": {"account_sid": "ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"}}}),
                json!({"jsonrpc": "2.0", "id": 6, "method": "resources/list"}),
                json!({"jsonrpc": "2.0", "id": 7, "method": "resources/read", "params": {"uri": "balance-mcp://docs/balance-endpoint.md"}}),
            ],
        );
        assert_eq!(code, Some(0), "exit 0 on EOF: {stderr}");
        assert!(
            answers.iter().all(is_json_rpc),
            "stdout is JSON-RPC only: {answers:?}"
        );
        assert_eq!(answers[0]["result"]["protocolVersion"], version);
        assert_eq!(answers[0]["result"]["serverInfo"]["name"], "balance-mcp");
        assert_eq!(
            answers[1]["result"]["tools"].as_array().map(Vec::len),
            Some(2)
        );
        let result = &answers[2]["result"];
        assert_eq!(result["isError"], false);
        assert_eq!(result["structuredContent"]["balance"], "0.05");
        assert!(
            result["structuredContent"]["note"]
                .as_str()
                .is_some_and(|n| n.contains("DEMO"))
        );
        assert!(
            answers[3]["error"]["code"].is_i64(),
            "an unknown tool is a JSON-RPC error"
        );
        assert_eq!(answers[4]["result"]["isError"], true);
        let text = answers[4]["result"]["content"].to_string();
        assert!(text.contains("DEMO MODE"), "{text}");
        // The documentation resources over stdio too (the in-process tests check their bytes).
        assert_eq!(
            answers[5]["result"]["resources"].as_array().map(Vec::len),
            Some(3),
            "{}",
            answers[5]
        );
        assert_eq!(
            answers[6]["result"]["contents"][0]["text"],
            balance_api_gen::ENDPOINT_MARKDOWN
        );
    }
}

#[test]
fn without_credentials_it_refuses_to_start_with_one_line() {
    let (answers, stderr, code) = exchange(&mut server(&[], &[]), &[]);
    assert_ne!(code, Some(0));
    assert!(answers.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    for var in ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "--demo"] {
        assert!(stderr.contains(var), "{stderr}");
    }
    let (_, stderr, code) = exchange(
        &mut server(&[], &[("TWILIO_AUTH_TOKEN", "only-half-of-it")]),
        &[],
    );
    assert_ne!(code, Some(0));
    assert!(
        stderr.contains("TWILIO_ACCOUNT_SID: is not set"),
        "{stderr}"
    );
    assert!(!stderr.contains("only-half-of-it"));
}

#[test]
fn stdin_closed_before_initialize_exits_0() {
    let (answers, stderr, code) = exchange(&mut server(&["--demo"], &[]), &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(answers.is_empty());
}

const SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN: &str = "mcp-process-token-0123456789abcd";

fn call(id: u64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}})
}

fn initialized() -> Value {
    json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
}

fn against(fake: &loopback::Twilio, extra: &[&str]) -> Command {
    let mut args = vec!["--base-url", fake.url.as_str()];
    args.extend_from_slice(extra);
    server(
        &args,
        &[("TWILIO_ACCOUNT_SID", SID), ("TWILIO_AUTH_TOKEN", TOKEN)],
    )
}

fn sid(i: usize) -> String {
    format!("AC{i:032x}")
}

/// Sends every request at once, then reads until each one with an id has its answer.
fn pipelined(cmd: &mut Command, requests: &[Value]) -> Vec<Value> {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().expect("stdin");
    for request in requests {
        writeln!(stdin, "{request}").expect("write");
    }
    stdin.flush().expect("flush");
    let expected = requests.iter().filter(|r| r.get("id").is_some()).count();
    let mut answers = Vec::new();
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        answers.push(serde_json::from_str::<Value>(&line.expect("read")).expect("JSON"));
        if answers.len() == expected {
            break;
        }
    }
    drop(stdin);
    let _ = child.wait();
    answers
}

#[test]
fn a_batch_of_hanging_accounts_answers_within_the_call_timeout() {
    let hung = loopback::twilio(std::time::Duration::from_secs(60));
    let sids: Vec<String> = (1..=20).map(sid).collect();
    let started = std::time::Instant::now();
    let answers = pipelined(
        &mut against(&hung, &["--timeout", "2"]),
        &[
            initialize("2025-06-18"),
            initialized(),
            call(2, "get_balances", json!({"account_sids": sids})),
        ],
    );
    let took = started.elapsed();
    assert!(took < std::time::Duration::from_secs(3), "took {took:?}");
    let entries = answers[1]["result"]["structuredContent"]["balances"]
        .as_array()
        .cloned()
        .expect("entries");
    assert_eq!(entries.len(), 20);
    for entry in &entries {
        let message = entry["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("timed out"), "{entry}");
    }
}

#[test]
fn pipelined_calls_never_exceed_the_in_flight_limit() {
    let slow = loopback::twilio(std::time::Duration::from_millis(50));
    let mut requests = vec![initialize("2025-06-18"), initialized()];
    requests.extend((0..100).map(|i| {
        call(
            10 + i as u64,
            "get_balance",
            json!({"account_sid": sid(i + 1)}),
        )
    }));
    let answers = pipelined(&mut against(&slow, &["--concurrency", "4"]), &requests);
    assert_eq!(answers.len(), 101);
    let ok = answers
        .iter()
        .filter(|a| a["result"]["isError"] == false)
        .count();
    assert_eq!(ok, 100, "{:?}", answers.last());
    assert_eq!(slow.served(), 100);
    let peak = slow.peak();
    assert!(
        (2..=4).contains(&peak),
        "at most 4 in flight at the server, saw {peak}"
    );
}

#[test]
fn protocol_edges_are_answered_never_a_crash() {
    // A notification before initialize is ignored; a line over the cap gets an error with id
    // null; the session then goes on as usual.
    let huge = format!(
        r#"{{"jsonrpc":"2.0","id":7,"method":"tools/list","params":{{"pad":"{}"}}}}"#,
        "x".repeat(2 * 1024 * 1024)
    );
    let mut child = spawn_piped(&mut server(&["--demo"], &[]));
    let mut stdin = child.stdin.take().expect("stdin");
    // Read on a thread, so that a line left unanswered fails the test instead of hanging it.
    let (sender, answers) = std::sync::mpsc::channel();
    let stdout = BufReader::new(child.stdout.take().expect("stdout"));
    std::thread::spawn(move || {
        stdout
            .lines()
            .map_while(Result::ok)
            .try_for_each(|l| sender.send(l))
    });
    let next = || {
        let line = answers
            .recv_timeout(Duration::from_secs(10))
            .expect("an answer within 10 s");
        serde_json::from_str::<Value>(&line).expect("JSON")
    };
    writeln!(stdin, "{}", initialized()).expect("write");
    writeln!(stdin, "{huge}").expect("write");
    stdin.flush().expect("flush");
    let refused = next();
    assert_eq!(
        (&refused["id"], &refused["error"]["code"]),
        (&Value::Null, &json!(-32600)),
        "{refused}"
    );
    writeln!(stdin, "{}", initialize("2025-11-25")).expect("write");
    let hello = next();
    assert_eq!(hello["id"], 1, "{hello}");
    writeln!(
        stdin,
        "{}\n{}",
        initialized(),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    )
    .expect("write");
    let tools = next();
    assert_eq!(
        tools["result"]["tools"].as_array().map(Vec::len),
        Some(2),
        "{tools}"
    );
    // Lines rmcp would drop without a word (the client then waits for ever) get an error with
    // id null; JSON of the wrong shape too (rmcp's own answer to it carries no id at all).
    let deep = format!(
        r#"{{"jsonrpc":"2.0","id":7,"method":"ping","params":{}{}}}"#,
        "[".repeat(3000),
        "]".repeat(3000)
    );
    for (bad, code) in [
        ("not json", -32700),
        (deep.as_str(), -32700),
        ("[1]", -32600),
    ] {
        writeln!(stdin, "{bad}").expect("write");
        let refused = next();
        assert_eq!(
            (refused.get("id"), &refused["error"]["code"]),
            (Some(&Value::Null), &json!(code)),
            "{bad:.40}: {refused}"
        );
    }
    // A byte-order mark before a message is no error: rmcp strips it, and so must the check.
    let ping = json!({"jsonrpc": "2.0", "id": 8, "method": "ping"});
    writeln!(stdin, "\u{feff}{ping}").expect("write");
    let pong = next();
    assert_eq!(
        (&pong["id"], pong.get("error")),
        (&json!(8), None),
        "{pong}"
    );
    writeln!(
        stdin,
        "{}",
        call(3, "get_balance", json!({"account_sid": null}))
    )
    .expect("write");
    let null = next();
    assert_eq!(null["result"]["isError"], true, "null is no SID: {null}");
    drop(stdin);
    let out = child.wait_with_output().expect("exit");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// With its stdout's reader gone, the server ends even though stdin stays open.
#[cfg(unix)]
#[test]
fn a_closed_stdout_ends_it_while_stdin_stays_open() {
    let mut child = server(&["--demo"], &[])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let stdin = child.stdin.take().expect("stdin");
    std::thread::sleep(Duration::from_millis(500));
    drop(child.stdout.take());
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(5) {
            let _ = child.kill();
            panic!("still running 5 s after its stdout closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    drop(stdin);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(status.success(), "{status:?}");
}

/// `--config` over stdio: the configured names in the schemas, a name accepted, and
/// `get_balances {}` reading every account with its own credentials.
#[test]
fn a_config_of_three_accounts_over_stdio() {
    use support::three_accounts::{self, US};
    let twilio = httpmock::MockServer::start();
    three_accounts::twilio(&twilio);
    let dir = tempfile::tempdir().expect("dir");
    let config = three_accounts::config(dir.path());
    let mut cmd = server(
        &[
            "--config",
            &config.to_string_lossy(),
            "--base-url",
            &twilio.base_url(),
        ],
        &three_accounts::ENV,
    );
    let (answers, stderr, code) = exchange(
        &mut cmd,
        &[
            initialize("2025-06-18"),
            initialized(),
            json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
            call(3, "get_balances", json!({})),
            call(4, "get_balance", json!({"account_sid": "us-agency"})),
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let tools = answers[1]["result"]["tools"].to_string();
    assert!(
        tools.contains("eu-prod-child") && tools.contains("us-agency"),
        "{tools}"
    );
    let all = &answers[2]["result"]["structuredContent"]["balances"];
    let names: Vec<&str> = (all.as_array().expect("balances").iter())
        .map(|e| e["result"]["name"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(names, ["eu-prod", "eu-prod-child", "us-agency"], "{all}");
    let one = &answers[3]["result"]["structuredContent"];
    assert_eq!(
        (one["account_sid"].as_str(), one["below_min"].as_bool()),
        (Some(US), Some(true)),
        "{one}"
    );
}

/// The config's checks and refusals are `balance --config`'s, before anything is served.
#[test]
fn a_bad_config_is_refused_with_its_lines() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        "[[account]]\nname = \"a\"\naccount_sid = \"AC123\"\nauth_token = \"inline\"\n",
    )
    .expect("write");
    let out = server(&["--config", &config.to_string_lossy()], &[])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    let shown = config.display();
    assert!(
        err.contains(&format!("{shown}:3: `account_sid`: invalid Account SID")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{shown}:4: `auth_token` would put a secret in this file"
        )),
        "{err}"
    );
    assert!(!err.contains("inline"), "{err}");
}

/// Over stdio, stdin is the protocol channel: `--config -` is refused rather than read.
#[test]
fn config_from_stdin_is_refused_over_stdio() {
    let out = server(&["--config", "-"], &[]).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("stdin carries the MCP messages"), "{err}");
}

/// stdin closing right after a `tools/call` (as a client does that sends its last request and
/// closes the pipe) still gets that call answered, every time, before the exit 0.
#[test]
fn requests_that_arrived_before_stdin_closed_are_answered() {
    let requests = [
        initialize("2025-06-18"),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "get_balance", "arguments": {}}}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}),
    ];
    let input: String = requests.iter().map(|r| format!("{r}\n")).collect();
    let mut answered = 0;
    for _ in 0..20 {
        let mut child = spawn_piped(&mut server(&["--demo"], &[]));
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(input.as_bytes()).expect("write");
        drop(stdin);
        let out = child.wait_with_output().expect("exit");
        assert_eq!(out.status.code(), Some(0));
        let ids: Vec<Value> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("JSON")["id"].clone())
            .collect();
        answered += usize::from(ids.contains(&json!(2)) && ids.contains(&json!(3)));
    }
    assert_eq!(answered, 20, "runs with every request answered");
}

/// A `balance-mcp --config` session over stdio, asked one request at a time.
struct Session {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    lines: std::io::Lines<BufReader<std::process::ChildStdout>>,
    next_id: u64,
}

impl Session {
    /// `cmd` started and initialized; the initialize answer's size in bytes.
    fn open(cmd: &mut Command) -> (Self, usize) {
        let mut child = spawn_piped(cmd);
        let stdin = child.stdin.take().expect("stdin");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut session = Self {
            child,
            stdin,
            lines,
            next_id: 1,
        };
        let (_, bytes) = session.send(initialize("2025-06-18"));
        writeln!(session.stdin, "{}", initialized()).expect("write");
        (session, bytes)
    }

    /// Sends `request` and returns its answer with the answer's size in bytes.
    fn send(&mut self, request: Value) -> (Value, usize) {
        writeln!(self.stdin, "{request}").expect("write");
        self.stdin.flush().expect("flush");
        let line = self.lines.next().expect("an answer").expect("read");
        let answer: Value = serde_json::from_str(&line).expect("JSON");
        assert_eq!(answer["id"], request["id"], "{line}");
        (answer, line.len())
    }

    /// `tools/call` of `tool`: its structured result (or its error text), and the answer's size.
    fn call(&mut self, tool: &str, arguments: Value) -> (Value, usize) {
        self.next_id += 1;
        let (answer, bytes) = self.send(call(self.next_id, tool, arguments));
        let result = &answer["result"];
        match result["isError"].as_bool() {
            Some(false) => (result["structuredContent"].clone(), bytes),
            _ => (json!({"error": result["content"][0]["text"]}), bytes),
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A config of `count` accounts named `acct-00000` on, all read with one token from the
/// environment: every 7th has a minimum of 2.00 (the loopback Twilio says 1.00 USD for all), the
/// second exactly 1.00 (not below it), the others 0.50. Returns the file and the low SIDs.
fn fleet(dir: &std::path::Path, count: usize) -> (String, Vec<String>) {
    use std::fmt::Write as _;
    let (mut text, mut low) = (String::new(), Vec::new());
    for i in 0..count {
        let min = match i {
            _ if i % 7 == 0 => "2.00",
            1 => "1.00",
            _ => "0.50",
        };
        if i % 7 == 0 {
            low.push(sid(i + 1));
        }
        let _ = write!(
            text,
            "[[account]]\nname = \"acct-{i:05}\"\naccount_sid = \"{}\"\nauth_token_env = \"FLEET_TOKEN\"\nmin = \"{min}\"\n\n",
            sid(i + 1)
        );
    }
    let file = dir.join("fleet.toml");
    std::fs::write(&file, text).expect("write");
    (file.to_string_lossy().into_owned(), low)
}

fn fleet_server(config: &str, twilio: &loopback::Twilio, cache: &str) -> Command {
    let args = [
        "--config",
        config,
        "--base-url",
        &twilio.url,
        "--concurrency",
        "32",
        "--timeout",
        "120",
        "--cache",
        cache,
    ];
    server(&args, &[("FLEET_TOKEN", "fleet-token-0123456789abcdef01")])
}

fn sids_of(answer: &Value, list: &str) -> Vec<String> {
    let entries = answer[list].as_array().cloned().unwrap_or_default();
    (entries.iter())
        .map(|e| e["account_sid"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// 10,000 configured accounts, as an agency would have: what an assistant reads stays small
/// (initialize and tools/list at most 8 KB, every answer at most 16 KB), "below minimum" finds
/// exactly the low accounts a page at a time, and every call within `--cache` is answered from
/// one round of reads.
#[test]
fn ten_thousand_accounts_fit_an_assistants_context() {
    const KB: usize = 1024;
    let twilio = loopback::twilio(Duration::ZERO);
    let dir = tempfile::tempdir().expect("dir");
    let (config, low) = fleet(dir.path(), 10_000);
    let (mut mcp, initialize_bytes) = Session::open(&mut fleet_server(&config, &twilio, "10m"));
    assert!(
        initialize_bytes <= 8 * KB,
        "initialize: {initialize_bytes} bytes"
    );
    let (tools, tools_bytes) =
        mcp.send(json!({"jsonrpc": "2.0", "id": 100, "method": "tools/list"}));
    assert!(tools_bytes <= 8 * KB, "tools/list: {tools_bytes} bytes");
    let tools = tools["result"]["tools"].to_string();
    assert!(
        tools.contains("list_accounts") && !tools.contains("acct-00042"),
        "{tools}"
    );

    // No arguments: counts by state, and the accounts that need attention, a page at a time.
    let (summary, bytes) = mcp.call("get_balances", json!({}));
    assert!(bytes <= 16 * KB, "get_balances {{}}: {bytes} bytes");
    assert_eq!(twilio.served(), 10_000, "one round");
    let expected =
        json!({"ok": 10_000 - low.len(), "below_min": low.len(), "no_balance": 0, "unreadable": 0});
    assert_eq!(summary["counts"], expected, "{summary}");
    assert_eq!(
        (summary["listing"].as_str(), summary["matched"].as_u64()),
        (Some("attention"), Some(low.len() as u64))
    );
    assert!(
        summary["age_seconds"].as_u64().is_some_and(|age| age < 120),
        "{summary}"
    );
    let mut found = sids_of(&summary, "balances");
    assert!(found.len() < low.len(), "a page, not all {}", low.len());
    let mut cursor = summary["next_cursor"].clone();
    while let Some(text) = cursor.as_str() {
        let (page, bytes) = mcp.call("get_balances", json!({"cursor": text}));
        assert!(bytes <= 16 * KB, "a page: {bytes} bytes");
        let entries = page["balances"].as_array().cloned().unwrap_or_default();
        assert!(
            entries.iter().all(|e| e["result"]["below_min"] == true),
            "{page}"
        );
        found.extend(sids_of(&page, "balances"));
        cursor = page["next_cursor"].clone();
    }
    assert_eq!(
        found, low,
        "exactly the low accounts, each once, in the config's order"
    );

    let (some, _) = mcp.call(
        "get_balances",
        json!({"state": "below_min", "name_prefix": "acct-0000"}),
    );
    assert_eq!(sids_of(&some, "balances"), [sid(1), sid(8)], "{some}");
    assert_eq!(
        some["counts"],
        json!({"ok": 8, "below_min": 2, "no_balance": 0, "unreadable": 0})
    );
    let (refused, _) = mcp.call(
        "get_balances",
        json!({"state": "ok", "cursor": summary["next_cursor"]}),
    );
    assert!(
        refused["error"]
            .as_str()
            .is_some_and(|e| e.contains("cursor")),
        "{refused}"
    );
    assert_eq!(
        twilio.served(),
        10_000,
        "every call so far shared the one round"
    );

    let (listed, bytes) = mcp.call("list_accounts", json!({"name_prefix": "acct-0999"}));
    assert!(bytes <= 16 * KB);
    let names: Vec<&str> = (listed["accounts"].as_array().into_iter().flatten())
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names.len(), 10, "{listed}");
    assert!(
        names.iter().all(|n| n.starts_with("acct-0999")),
        "{names:?}"
    );
    let (all, bytes) = mcp.call("list_accounts", json!({"limit": 100}));
    assert!(bytes <= 16 * KB, "list_accounts: {bytes} bytes");
    assert_eq!(all["matched"], 10_000);
    assert!(all["next_cursor"].is_string(), "{all}");
}

/// Calls about the whole config within `--cache` share one round of reads; after it, the next
/// call reads again.
#[test]
fn calls_within_the_cache_share_one_round() {
    let twilio = loopback::twilio(Duration::ZERO);
    let dir = tempfile::tempdir().expect("dir");
    let (config, _) = fleet(dir.path(), 25);
    let (mut mcp, _) = Session::open(&mut fleet_server(&config, &twilio, "1"));
    let (first, _) = mcp.call("get_balances", json!({}));
    let (second, _) = mcp.call("get_balances", json!({"state": "all"}));
    assert_eq!(twilio.served(), 25, "two calls, one round");
    assert_eq!(first["fetched_at"], second["fetched_at"]);
    std::thread::sleep(Duration::from_millis(1_100));
    let (third, _) = mcp.call("get_balances", json!({}));
    assert_eq!(twilio.served(), 50, "past --cache, a new round");
    assert_eq!(
        sids_of(&third, "balances").len(),
        4,
        "the 4 low of 25: {third}"
    );
}

/// `--cache` is about a config's rounds: without `--config` it is a usage error, not ignored.
#[test]
fn cache_without_a_config_is_refused() {
    for args in [&["--cache", "5"][..], &["--demo", "--cache", "5"]] {
        let out = server(args, &[]).output().expect("runs");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--config") || err.contains("--demo"), "{err}");
    }
}
