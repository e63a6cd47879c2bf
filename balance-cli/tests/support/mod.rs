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

/// The `Authorization` header value of HTTP basic credentials.
pub fn basic(user: &str, secret: &str) -> String {
    use base64::Engine;
    let pair = format!("{user}:{secret}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// Three separately billed accounts for the `--config` tests of both programs: `eu-prod` (its
/// own Auth Token), `eu-prod-child` (read with its parent's token) and `us-agency` (another
/// main account, another token, below its minimum).
pub mod three_accounts {
    pub const EU: &str = "AC5e000000000000000000000000000001";
    pub const CHILD: &str = "AC5e000000000000000000000000000002";
    pub const US: &str = "AC05000000000000000000000000000003";
    pub const ENV: [(&str, &str); 2] = [
        ("EU_TOKEN", "eu-token-0123456789abcdef012345"),
        ("US_TOKEN", "us-token-0123456789abcdef012345"),
    ];

    /// The config file, written in `dir`.
    pub fn config(dir: &std::path::Path) -> std::path::PathBuf {
        let file = dir.join("accounts.toml");
        let text = format!(
            "[[account]]\nname = \"eu-prod\"\naccount_sid = \"{EU}\"\nauth_token_env = \"EU_TOKEN\"\nmin = \"20\"\n\n\
             [[account]]\nname = \"eu-prod-child\"\naccount_sid = \"{CHILD}\"\nparent_account_sid = \"{EU}\"\nauth_token_env = \"EU_TOKEN\"\nmin = \"20\"\n\n\
             [[account]]\nname = \"us-agency\"\naccount_sid = \"{US}\"\nauth_token_env = \"US_TOKEN\"\nmin = \"5\"\n"
        );
        std::fs::write(&file, text).expect("write");
        file
    }

    /// Twilio answering each account only with the credentials that may read it.
    pub fn twilio(server: &httpmock::MockServer) {
        use super::basic;
        for (sid, user, secret, balance, currency) in [
            (EU, EU, ENV[0].1, Some("42.10"), Some("EUR")),
            (CHILD, EU, ENV[0].1, None, None),
            (US, US, ENV[1].1, Some("3.50"), Some("USD")),
        ] {
            server.mock(|when, then| {
                when.path(format!("/2010-04-01/Accounts/{sid}/Balance.json"))
                    .header("authorization", basic(user, secret));
                let body = serde_json::json!({"account_sid": sid, "balance": balance, "currency": currency});
                then.status(200).header("content-type", "application/json").body(body.to_string());
            });
        }
    }
}

/// Whether this machine lets a test and a server each hold about 4,300 connections (the
/// attack tests say SKIPPED where it does not, as on systems whose hard limit is 4,096).
#[cfg(unix)]
pub fn room_for_an_attack() -> bool {
    let room = rlimit::Resource::NOFILE
        .get()
        .is_ok_and(|(_, hard)| hard >= 8_500);
    if !room {
        eprintln!("SKIPPED: needs an open-file hard limit of 8,500 or more");
    }
    room
}

/// `clients` connections to `address`, each sending `requests` (pipelined) and never reading:
/// the attack is on while the returned tasks run; abort them to end it.
pub fn never_reading(
    address: std::net::SocketAddr,
    clients: usize,
    requests: String,
) -> Vec<tokio::task::JoinHandle<()>> {
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let requests = std::sync::Arc::new(requests);
    (0..clients)
        .map(|_| {
            let requests = requests.clone();
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let Ok(mut stream) = tokio::net::TcpStream::connect(address).await else {
                    return;
                };
                let _ = stream.write_all(requests.as_bytes()).await;
                std::future::pending::<()>().await;
            })
        })
        .collect()
}
