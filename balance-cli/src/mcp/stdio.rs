//! stdin and stdout for rmcp, with what its stdio transport (rmcp 3.11) does not do itself:
//!
//! - a line over [`MAX_LINE`], or one that is not a JSON object, is answered with a JSON-RPC
//!   error (id `null`, since none could be read) and skipped; rmcp drops a line that is not
//!   JSON, or one over its own 16 MiB cap, without a word, and the client waits for ever;
//! - a notification before the `initialize` request is ignored, as the MCP lifecycle allows;
//!   rmcp ends the session on one.
//!
//! It also ends the session when stdout's reader goes away, where rmcp would wait for stdin;
//! and when stdin closes, it holds rmcp's end of input back until every request already
//! passed on has its answer on stdout (rmcp waits 5 s for calls still running, then drops
//! them; a tool call may take 30 s), and the caller waits for stdout to be written before it
//! exits.
//!
//! Everything else passes through untouched, one line at a time, and rmcp's answers and these
//! errors reach stdout as whole lines.

use std::sync::Arc;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// The longest request line read: tool arguments are small (100 SIDs are about 4 KB).
pub const MAX_LINE: usize = 1024 * 1024;

/// How long requests already passed on get to be answered once stdin has closed.
const ANSWER_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// The stream rmcp serves on, and the task writing stdout, which ends once rmcp has closed
/// the stream and everything it wrote is out: await it before exiting.
pub fn transport() -> (DuplexStream, JoinHandle<()>) {
    let (rmcp_side, ours) = tokio::io::duplex(64 * 1024);
    let (from_rmcp, to_rmcp) = tokio::io::split(ours);
    let (replies, our_lines) = mpsc::channel::<String>(16);
    // Requests passed to rmcp and not yet answered on stdout.
    let unanswered = Arc::new(watch::Sender::new(0usize));
    tokio::spawn(read_stdin(to_rmcp, replies, unanswered.clone()));
    let writer = tokio::spawn(write_stdout(from_rmcp, our_lines, unanswered));
    (rmcp_side, writer)
}

/// Passes stdin's lines to rmcp, answering what rmcp would drop; at EOF, waits for the
/// requests passed on to be answered, then closes rmcp's input.
async fn read_stdin(
    mut to_rmcp: tokio::io::WriteHalf<DuplexStream>,
    replies: mpsc::Sender<String>,
    unanswered: Arc<watch::Sender<usize>>,
) {
    let mut stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let mut initialized = false;
    let mut line = Vec::new();
    let mut stdout_gone = std::pin::pin!(stdout_closed());
    loop {
        let read = tokio::select! {
            read = read_line(&mut stdin, &mut line) => read,
            // Nobody reads the answers any more: end as if stdin had closed.
            () = &mut stdout_gone => break,
        };
        match read {
            Ok(Line::Whole) => {}
            Ok(Line::TooLong) => {
                let why = format!("request too large: a line over {MAX_LINE} bytes");
                if replies.send(error(-32600, &why)).await.is_err() {
                    break;
                }
                continue;
            }
            Ok(Line::End) | Err(_) => break,
        }
        // rmcp drops a line that is not JSON without a word (so that two peers never trade
        // errors for ever), and the client waits for ever; JSON-RPC asks for -32700, id
        // null. Parsed as rmcp will (a `Value`, not `IgnoredAny`, which has no depth limit),
        // after the BOM it strips.
        let json = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&line);
        let message = match serde_json::from_slice::<serde_json::Value>(json) {
            Ok(message) if message.is_object() => message,
            _ if json.trim_ascii().is_empty() => continue,
            parsed => {
                let (code, why) = match parsed {
                    Ok(_) => (-32600, "invalid request: not a JSON-RPC object"),
                    Err(_) => (-32700, "parse error: not JSON (or nested too deep)"),
                };
                if replies.send(error(code, why)).await.is_err() {
                    break;
                }
                continue;
            }
        };
        if !initialized {
            let method = message.get("method");
            if method.is_none() || message.get("id").is_none() {
                continue; // a notification (or a stray response): nothing to answer
            }
            initialized = method.is_some_and(|m| m == "initialize");
        }
        if message.get("method").is_some() && message.get("id").is_some() {
            unanswered.send_modify(|n| *n += 1);
        }
        line.push(b'\n');
        if to_rmcp.write_all(&line).await.is_err() {
            break;
        }
    }
    // EOF for rmcp, once what it was asked is answered (or stdout is gone): it ends the
    // session as it would on stdin's.
    // The writer sets it to 0 when stdout fails, and so does the loop above when it is gone.
    // Bounded all the same: a tool call ends within its --timeout.
    let answered = async { unanswered.subscribe().wait_for(|n| *n == 0).await.map(drop) };
    let _ = tokio::time::timeout(ANSWER_WAIT, answered).await;
    let _ = to_rmcp.shutdown().await;
}

/// Writes rmcp's lines and this module's errors to stdout, whole, counting rmcp's answers.
async fn write_stdout(
    from_rmcp: tokio::io::ReadHalf<DuplexStream>,
    mut our_lines: mpsc::Receiver<String>,
    unanswered: Arc<watch::Sender<usize>>,
) {
    let mut stdout = tokio::io::stdout();
    let mut from_rmcp = tokio::io::BufReader::new(from_rmcp);
    let mut line = Vec::new();
    loop {
        let (next, answer) = tokio::select! {
            read = from_rmcp.read_until(b'\n', &mut line) => match read {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let answer = is_answer(&line);
                    (std::mem::take(&mut line), answer)
                }
            },
            Some(reply) = our_lines.recv() => (format!("{reply}\n").into_bytes(), false),
        };
        if stdout.write_all(&next).await.is_err() || stdout.flush().await.is_err() {
            break;
        }
        if answer {
            unanswered.send_modify(|n| *n = n.saturating_sub(1));
        }
    }
    // Nothing more will be answered: let stdin's side close rmcp's input.
    unanswered.send_replace(0);
}

/// Whether rmcp's `line` answers a request (a response: an id and no method).
fn is_answer(line: &[u8]) -> bool {
    #[derive(serde::Deserialize)]
    struct Head {
        id: Option<serde::de::IgnoredAny>,
        method: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Head>(line).is_ok_and(|h| h.id.is_some() && h.method.is_none())
}

/// A JSON-RPC error answering a line whose id could not be read (so `null`).
fn error(code: i32, message: &str) -> String {
    let error = serde_json::json!({"code": code, "message": message});
    serde_json::json!({"jsonrpc": "2.0", "id": null, "error": error}).to_string()
}

/// Resolves when stdout is a pipe or socket whose reader has gone (the poll reports an error on
/// it); never for a file, a terminal, or off Unix, where no write can tell sooner.
async fn stdout_closed() {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use tokio::io::{Interest, unix::AsyncFd};
        // Deprecated for fds borrowed from elsewhere; this one is an owned duplicate, and
        // `register_with_interest` would take `unsafe`. No O_NONBLOCK is set on the pipe.
        #[allow(deprecated)]
        let watched = (std::io::stdout().as_fd().try_clone_to_owned())
            .and_then(|fd| AsyncFd::with_interest(fd, Interest::ERROR));
        if let Ok(fd) = watched {
            let _ = fd.ready(Interest::ERROR).await;
            return;
        }
    }
    std::future::pending::<()>().await
}

enum Line {
    Whole,
    TooLong,
    End,
}

/// The next line, without its `\n`, into `line`; a line over [`MAX_LINE`] is read to its end
/// and dropped, never held whole in memory.
async fn read_line(
    input: &mut (impl AsyncBufRead + Unpin),
    line: &mut Vec<u8>,
) -> std::io::Result<Line> {
    let mut too_long = false;
    loop {
        line.clear();
        // One byte more than a line may hold: reading that many without a `\n` means too long.
        let limit = MAX_LINE as u64 + 1;
        let read = (&mut *input).take(limit).read_until(b'\n', line).await?;
        let whole = line.pop_if(|last| *last == b'\n').is_some();
        if whole || read <= MAX_LINE {
            // Ended by its `\n`, or by the end of the input (text after the last `\n` is dropped).
            return Ok(match (too_long, whole) {
                (true, _) => Line::TooLong,
                (false, true) => Line::Whole,
                (false, false) => Line::End,
            });
        }
        too_long = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Why this wrapper exists, checked against the rmcp in Cargo.lock: its own line transport
    /// (the codec `rmcp::transport::stdio()` uses) answers a line that is not JSON with
    /// nothing, so a client would wait for ever. When this fails, rmcp answers it itself, and
    /// that part of the wrapper can go.
    #[tokio::test]
    async fn rmcp_alone_leaves_a_line_that_is_not_json_unanswered() {
        use rmcp::ServiceExt;
        let client = balance_api::Client::builder()
            .credentials(
                balance_api::Credentials::auth_token(
                    "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse().expect("sid"),
                    "stdio-test-token-0123456789abcd",
                )
                .expect("credentials"),
            )
            .build()
            .expect("client");
        let own = crate::accounts::with_client(&client, Vec::new(), None);
        let server = crate::mcp::BalanceServer::new(own, false, std::time::Duration::from_secs(5));
        let (ours, theirs) = tokio::io::duplex(64 * 1024);
        let _server = tokio::spawn(async move { server.serve(theirs).await.map(|s| s.waiting()) });
        let (reader, mut writer) = tokio::io::split(ours);
        let mut lines = tokio::io::BufReader::new(reader).lines();
        let initialize = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#;
        for line in [
            initialize,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            "not json",
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/list"}"#,
        ] {
            writer
                .write_all(format!("{line}\n").as_bytes())
                .await
                .expect("write");
        }
        let mut answers = Vec::new();
        while answers.len() < 2 {
            let line = lines.next_line().await.expect("read").expect("a line");
            answers.push(serde_json::from_str::<serde_json::Value>(&line).expect("JSON"));
        }
        let ids: Vec<&serde_json::Value> = answers.iter().map(|a| &a["id"]).collect();
        assert_eq!(
            ids,
            [1, 2],
            "no answer between them for the line that is not JSON: {answers:?}"
        );
    }

    #[tokio::test]
    async fn lines_up_to_the_limit_pass_longer_ones_are_dropped_whole() {
        let fits = "x".repeat(MAX_LINE);
        let over = "y".repeat(MAX_LINE + 1);
        let text = format!("{fits}\n{over}\nnext\n{over}{over}\nlast\ntail");
        let mut input = text.as_bytes();
        let mut line = Vec::new();
        let mut read = Vec::new();
        loop {
            match read_line(&mut input, &mut line).await.expect("read") {
                Line::Whole => read.push(format!("{} bytes", line.len())),
                Line::TooLong => read.push("too long".into()),
                Line::End => break,
            }
        }
        let fits = format!("{MAX_LINE} bytes");
        assert_eq!(
            read,
            [&fits, "too long", "4 bytes", "too long", "4 bytes"],
            "text after the last newline is dropped"
        );
    }
}
