//! What the `balance` process tests share: the command with a clean environment, and the
//! checks on its output.
#![allow(dead_code)] // each test file uses its own part

use std::io::Write;
use std::process::{Command, Stdio};

/// The `balance` command with no Twilio setting and no proxy from the test's environment.
pub fn balance() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_balance"));
    for var in balance_api::ENV_VARS {
        cmd.env_remove(var);
    }
    for var in ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"] {
        cmd.env_remove(var).env_remove(var.to_lowercase());
    }
    cmd.stdin(Stdio::null());
    cmd
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `promtool check metrics`, where installed (Debian's `prometheus`; .ci/run installs it).
pub fn promtool_accepts(metrics: &str) {
    let Ok(mut child) = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("SKIPPED promtool check: promtool is not installed");
        return;
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(metrics.as_bytes())
        .expect("write");
    let checked = child.wait_with_output().expect("promtool");
    assert!(
        checked.status.success(),
        "promtool: {}{}",
        text(&checked.stdout),
        text(&checked.stderr)
    );
}
