//! The built `balance-mcp` over real pipes, as an MCP client starts it: raw JSON-RPC lines in,
//! nothing but JSON-RPC out, exit 0 when stdin closes.

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn server(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_balance-mcp"));
    for var in balance_api::ENV_VARS {
        cmd.env_remove(var);
    }
    cmd.args(args).envs(env.iter().copied());
    cmd
}

/// Sends `requests` one per line, closes stdin, and returns every stdout line parsed, the
/// stderr text and the exit code.
fn exchange(cmd: &mut Command, requests: &[Value]) -> (Vec<Value>, String, Option<i32>) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
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
