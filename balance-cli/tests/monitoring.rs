//! The `balance` command watching accounts the way Twilio bills them: several main accounts
//! with credentials of their own (`--config`), subaccounts with no balance of their own,
//! demo data only when asked for, and a run-level timeout that keeps what finished.

mod loopback;
mod support;
use httpmock::prelude::*;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use support::*;

const PARENT: &str = "AC11111111111111111111111111111111";
const CHILD: &str = "AC22222222222222222222222222222222";
const OTHER: &str = "AC33333333333333333333333333333333";
const KEY: &str = "SK44444444444444444444444444444444";
const PARENT_TOKEN: &str = "parent-token-0123456789abcdef012";
const OTHER_SECRET: &str = "other-secret-0123456789abcdef012";

/// Runs the command off the async test's thread, so the mock server keeps answering.
async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("runs"))
        .await
        .expect("join")
}

fn path(sid: &str) -> String {
    format!("/2010-04-01/Accounts/{sid}/Balance.json")
}

/// `sid` answers `body` only to a request carrying `user:secret`; anything else gets httpmock's 404.
async fn account<'a>(
    server: &'a MockServer,
    sid: &str,
    user: &str,
    secret: &str,
    body: serde_json::Value,
) -> httpmock::Mock<'a> {
    server
        .mock_async(|when, then| {
            when.method(GET)
                .path(path(sid))
                .header("authorization", basic(user, secret));
            then.status(200)
                .header("content-type", "application/json")
                .body(body.to_string());
        })
        .await
}

fn amount(sid: &str, balance: Option<&str>, currency: Option<&str>) -> serde_json::Value {
    serde_json::json!({"account_sid": sid, "balance": balance, "currency": currency})
}

/// A private (0600) file holding `secret` and a newline, as `echo` would write it.
fn secret_file(dir: &Path, name: &str, secret: &str, mode: u32) -> String {
    use std::os::unix::fs::PermissionsExt;
    let file = dir.join(name);
    std::fs::write(&file, format!("{secret}\n")).expect("write");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).expect("chmod");
    file.to_string_lossy().into_owned()
}

/// A parent (its Auth Token from the environment), its child read with the parent's token, and
/// a separate main account with an API key whose secret sits in a private file.
fn three_accounts(dir: &Path) -> std::path::PathBuf {
    let secret = secret_file(dir, "other.secret", OTHER_SECRET, 0o600);
    let config = dir.join("accounts.toml");
    std::fs::write(
        &config,
        format!(
            r#"# Three accounts, each billed on its own or through its parent.
[[account]]
name = "eu-prod"
account_sid = "{PARENT}"
auth_token_env = "EU_PROD_TOKEN"
min = "20"

[[account]]
name = "eu-prod-child"
account_sid = "{CHILD}"
parent_account_sid = "{PARENT}"
auth_token_env = "EU_PROD_TOKEN"
min = "20"

[[account]]
name = "us-agency"
account_sid = "{OTHER}"
api_key = "{KEY}"
api_secret_file = "{secret}"
min = 5
"#
        ),
    )
    .expect("write");
    config
}

async fn three_account_server() -> MockServer {
    let server = MockServer::start_async().await;
    account(
        &server,
        PARENT,
        PARENT,
        PARENT_TOKEN,
        amount(PARENT, Some("42.10"), Some("EUR")),
    )
    .await;
    account(
        &server,
        CHILD,
        PARENT,
        PARENT_TOKEN,
        amount(CHILD, None, None),
    )
    .await;
    account(
        &server,
        OTHER,
        KEY,
        OTHER_SECRET,
        amount(OTHER, Some("3.50"), Some("USD")),
    )
    .await;
    server
}

fn with_config(server: &MockServer, config: &Path, format: &str) -> Command {
    let mut cmd = balance();
    cmd.env("EU_PROD_TOKEN", PARENT_TOKEN).args([
        "--config",
        &config.to_string_lossy(),
        "--base-url",
        &server.base_url(),
        "--format",
        format,
    ]);
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn accounts_with_their_own_credentials_and_a_child_in_all_three_formats() {
    let server = three_account_server().await;
    let dir = tempfile::tempdir().expect("dir");
    let config = three_accounts(dir.path());

    let out = run(with_config(&server, &config, "text")).await;
    // us-agency is below its own minimum of 5; the child is neither below nor failed.
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!(
            "eu-prod ({PARENT}): 42.10 EUR\n\
             eu-prod-child ({CHILD}): no balance of its own: Twilio bills a subaccount's usage to its parent account\n\
             us-agency ({OTHER}): 3.50 USD\n"
        )
    );
    assert!(
        text(&out.stderr).contains(&format!("us-agency ({OTHER}): below minimum: 3.50 USD < 5"))
    );

    let out = run(with_config(&server, &config, "json")).await;
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(
        (
            &lines[0]["name"],
            &lines[0]["balance"],
            &lines[0]["below_min"]
        ),
        (&"eu-prod".into(), &"42.10".into(), &false.into())
    );
    assert_eq!(lines[1]["balance"], serde_json::Value::Null);
    assert_eq!(lines[1]["below_min"], false);
    assert!(
        lines[1]["note"]
            .as_str()
            .is_some_and(|n| n.contains("parent account")),
        "{}",
        lines[1]
    );
    assert_eq!(
        (&lines[2]["name"], &lines[2]["min"], &lines[2]["below_min"]),
        (&"us-agency".into(), &"5".into(), &true.into())
    );
    assert!(lines.iter().all(|l| l.get("demo").is_none()));

    let out = run(with_config(&server, &config, "prometheus")).await;
    let metrics = text(&out.stdout);
    for line in [
        format!(r#"twilio_balance{{account_sid="{PARENT}",name="eu-prod",currency="EUR"}} 42.10"#),
        format!(r#"twilio_balance_up{{account_sid="{CHILD}",name="eu-prod-child"}} 1"#),
        format!(r#"twilio_balance_minimum{{account_sid="{OTHER}",name="us-agency"}} 5"#),
        format!(r#"twilio_balance_below_minimum{{account_sid="{OTHER}",name="us-agency"}} 1"#),
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} in:\n{metrics}");
    }
    assert!(
        !metrics.lines().any(|l| l.contains(CHILD)
            && (l.starts_with("twilio_balance{") || l.starts_with("twilio_balance_below"))),
        "no balance sample for the child:\n{metrics}"
    );
    promtool_accepts(&metrics);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_config_with_secrets_inline_or_readable_is_refused_whole_with_line_numbers_and_no_request()
 {
    let server = MockServer::start_async().await;
    let any = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .body(amount(PARENT, Some("1"), Some("USD")).to_string());
        })
        .await;
    let dir = tempfile::tempdir().expect("dir");
    let open = secret_file(dir.path(), "open.secret", OTHER_SECRET, 0o644);
    let config = dir.path().join("bad.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"a\"\naccount_sid = \"{PARENT}\"\nauth_token = \"{PARENT_TOKEN}\"\n\n\
             [[account]]\nname = \"b\"\naccount_sid = \"{OTHER}\"\napi_key = \"{KEY}\"\napi_secret_file = \"{open}\"\n\n\
             [[account]]\nname = \"a\"\naccount_sid = \"AC123\"\nauth_token_env = \"NOT_SET_ANYWHERE\"\nmin = 0.1\nregoin = \"ie1\"\n"
        ),
    )
    .expect("write");
    let mut cmd = balance();
    cmd.args([
        "--config",
        &config.to_string_lossy(),
        "--base-url",
        &server.base_url(),
    ]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    let shown = config.to_string_lossy();
    for expected in [
        format!("{shown}:4: `auth_token` would put a secret in this file"),
        format!("{shown}:10: {open} is open to group or others (mode 0644)"),
        format!("{shown}:14: `account_sid`: invalid Account SID (5 characters)"),
        format!("{shown}:15: the variable NOT_SET_ANYWHERE is not set"),
        format!("{shown}:16: `min` must be exact: write it as a string"),
        format!("{shown}:17: unknown key `regoin`"),
    ] {
        assert!(err.contains(&expected), "{expected}\nin:\n{err}");
    }
    assert!(
        !err.contains(PARENT_TOKEN) && !err.contains(OTHER_SECRET),
        "{err}"
    );
    assert_eq!(
        any.calls_async().await,
        0,
        "nothing is sent before the whole file is good"
    );
}

#[test]
fn without_credentials_or_demo_it_refuses_with_one_line_and_prints_nothing() {
    for format in ["text", "json", "prometheus"] {
        let out = balance()
            .args(["--format", format, "--min", "1"])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{format}");
        assert!(out.stdout.is_empty(), "{format}: {}", text(&out.stdout));
        let err = text(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        for part in ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "--demo"] {
            assert!(err.contains(part), "{part}: {err}");
        }
    }
}

#[test]
fn demo_says_so_in_every_format_and_never_writes_a_file() {
    let demo = |format: &str| {
        let out = balance()
            .args(["--demo", "--format", format])
            .output()
            .expect("runs");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            text(&out.stderr)
        );
        text(&out.stdout)
    };
    assert!(demo("text").contains("0.05 USD (DEMO DATA"));
    let json: serde_json::Value = serde_json::from_str(demo("json").trim()).expect("JSON");
    assert_eq!(
        (&json["demo"], &json["balance"]),
        (&true.into(), &"0.05".into())
    );
    assert!(
        json["note"]
            .as_str()
            .is_some_and(|n| n.contains("DEMO DATA"))
    );
    let metrics = demo("prometheus");
    let samples: Vec<&str> = metrics.lines().filter(|l| !l.starts_with('#')).collect();
    assert!(!samples.is_empty());
    assert!(
        samples.iter().all(|l| l.contains(r#"demo="true""#)),
        "{metrics}"
    );
    promtool_accepts(&metrics);

    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("twilio.prom");
    let out = balance()
        .args([
            "--demo",
            "--format",
            "prometheus",
            "--output",
            &file.to_string_lossy(),
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("--output is refused with --demo"));
    assert!(!file.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sid_listed_twice_is_fetched_once_and_reported_once_in_every_format() {
    let server = MockServer::start_async().await;
    let mock = account(
        &server,
        PARENT,
        PARENT,
        PARENT_TOKEN,
        amount(PARENT, Some("1.00"), Some("USD")),
    )
    .await;
    for format in ["text", "json", "prometheus"] {
        let mut cmd = balance();
        cmd.env("TWILIO_ACCOUNT_SID", PARENT)
            .env("TWILIO_AUTH_TOKEN", PARENT_TOKEN)
            .args([
                "--base-url",
                &server.base_url(),
                "--format",
                format,
                "--account",
                PARENT,
                "--account",
                PARENT,
            ]);
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        let mentions = stdout
            .lines()
            .filter(|l| l.contains(PARENT) && !l.starts_with("twilio_balance_up"))
            .count();
        assert_eq!(mentions, 1, "{format}:\n{stdout}");
    }
    assert_eq!(mock.calls_async().await, 3, "one request per run");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_api_key_refused_on_a_subaccount_says_why() {
    let server = MockServer::start_async().await;
    server
        .mock_async(|when, then| {
            when.path(path(CHILD));
            then.status(403).header("content-type", "application/json").body(
                r#"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":403}"#,
            );
        })
        .await;
    let mut cmd = balance();
    cmd.env("TWILIO_ACCOUNT_SID", PARENT)
        .env("TWILIO_API_KEY", KEY)
        .env("TWILIO_API_SECRET", OTHER_SECRET)
        .args(["--base-url", &server.base_url(), "--account", CHILD]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("main-account API keys cannot read subaccounts"),
        "{stdout}"
    );
    assert!(stdout.contains("Auth Token"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_timeout_keeps_what_finished_and_names_only_the_unfinished() {
    let server = MockServer::start_async().await;
    account(
        &server,
        PARENT,
        PARENT,
        PARENT_TOKEN,
        amount(PARENT, Some("9.99"), Some("USD")),
    )
    .await;
    for slow in [CHILD, OTHER] {
        server
            .mock_async(|when, then| {
                when.path(path(slow));
                then.status(200)
                    .body(amount(slow, Some("1"), Some("USD")).to_string())
                    .delay(Duration::from_secs(30));
            })
            .await;
    }
    let command = |concurrency: &str| {
        let mut cmd = balance();
        cmd.env("TWILIO_ACCOUNT_SID", PARENT)
            .env("TWILIO_AUTH_TOKEN", PARENT_TOKEN)
            .args([
                "--base-url",
                &server.base_url(),
                "--timeout",
                "2",
                "--concurrency",
                concurrency,
            ])
            .args(["--account", PARENT, "--account", CHILD]);
        cmd
    };
    let started = Instant::now();
    let out = run(command("8")).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "took {took:?}");
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&format!("{PARENT}: 9.99 USD")), "{stdout}");
    assert!(
        stdout.contains(&format!("{CHILD}: error: timed out")),
        "{stdout}"
    );
    assert!(!stdout.contains("configuration"), "{stdout}");

    // One at a time: the second slow account never gets its turn, and says so.
    let mut cmd = command("1");
    cmd.args(["--account", OTHER, "--json"]);
    let out = run(cmd).await;
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect();
    assert_eq!(lines[0]["balance"], "9.99");
    let unfinished = lines[2]["error"]["message"].as_str().unwrap_or_default();
    assert!(
        unfinished.contains("not fetched before the --timeout of 2s ran out"),
        "{}",
        lines[2]
    );
}

/// Accounts read with the same credentials share one client: one connection (and one 429
/// pause, for the one rate limit they share), not one per account.
#[test]
fn accounts_with_the_same_credentials_share_one_connection() {
    let twilio = loopback::twilio(std::time::Duration::ZERO);
    let url = twilio.url.clone();
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("family.toml");
    let entry = |name: &str, sid: &str| {
        format!(
            "[[account]]\nname = \"{name}\"\naccount_sid = \"{sid}\"\nparent_account_sid = \"{PARENT}\"\nauth_token_env = \"EU_PROD_TOKEN\"\n\n"
        )
    };
    std::fs::write(
        &config,
        [
            entry("parent", PARENT),
            entry("child", CHILD),
            entry("other-child", OTHER),
        ]
        .concat(),
    )
    .expect("write");
    let out = balance()
        .env("EU_PROD_TOKEN", PARENT_TOKEN)
        .args([
            "--config",
            &config.to_string_lossy(),
            "--base-url",
            &url,
            "--concurrency",
            "1",
        ])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).lines().count(), 3);
    assert_eq!(
        twilio.connections(),
        1,
        "three accounts, one client, one kept-alive connection"
    );
}

/// Names and currencies are exported exactly, with the exposition format's own escapes: two
/// different names never print as one label value.
#[tokio::test(flavor = "multi_thread")]
async fn any_unicode_name_is_exported_exactly_with_the_formats_escapes() {
    let server = MockServer::start_async().await;
    account(
        &server,
        PARENT,
        PARENT,
        PARENT_TOKEN,
        amount(PARENT, Some("1.00"), Some("€\u{1b}")),
    )
    .await;
    account(
        &server,
        OTHER,
        OTHER,
        PARENT_TOKEN,
        amount(OTHER, Some("2.00"), Some("USD")),
    )
    .await;
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("names.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = 'café \"quoted\" \\ 🚀'\naccount_sid = \"{PARENT}\"\nauth_token_env = \"EU_PROD_TOKEN\"\n\n\
             [[account]]\nname = \"x y\"\naccount_sid = \"{OTHER}\"\nauth_token_env = \"EU_PROD_TOKEN\"\n"
        ),
    )
    .expect("write");
    let out = run(with_config(&server, &config, "prometheus")).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let metrics = text(&out.stdout);
    assert!(
        metrics.contains(&format!(
            "twilio_balance{{account_sid=\"{PARENT}\",name=\"café \\\"quoted\\\" \\\\ 🚀\",currency=\"€\u{fffd}\"}} 1.00"
        )),
        "{metrics}"
    );
    assert!(metrics.contains("name=\"x y\""), "{metrics}");
    promtool_accepts(&metrics);
    // For people, the name as written: no Rust escapes for its quotes and backslash.
    let out = run(with_config(&server, &config, "text")).await;
    let shown = text(&out.stdout);
    assert!(
        shown.contains(&format!("café \"quoted\" \\ 🚀 ({PARENT}): 1.00 ")),
        "{shown}"
    );
}

/// The issue's setup: the 8 subaccounts of one rate-limited parent listed first, at
/// `--concurrency 8`, with `Retry-After: 3` on every answer to the parent's credentials. Their
/// fetches wait out the 429s holding no request slot, so the 40 other accounts (credentials of
/// their own) are all answered within a second of the first request.
#[tokio::test]
async fn a_throttled_parent_holds_no_slot_of_the_other_accounts() {
    let twilio = loopback::throttling(Duration::from_millis(5), Some(basic(PARENT, PARENT_TOKEN)));
    let dir = tempfile::tempdir().expect("dir");
    let mut config = String::new();
    for i in 0..8 {
        config += &format!(
            "[[account]]\nname = \"child-{i}\"\naccount_sid = \"AC{i:032x}\"\n\
             parent_account_sid = \"{PARENT}\"\nauth_token_env = \"EU_PROD_TOKEN\"\n\n"
        );
    }
    for i in 100..140 {
        config += &format!(
            "[[account]]\nname = \"other-{i}\"\naccount_sid = \"AC{i:032x}\"\n\
             auth_token_env = \"OTHER_TOKEN\"\n\n"
        );
    }
    let file = dir.path().join("accounts.toml");
    std::fs::write(&file, config).expect("write");
    let mut cmd = balance();
    cmd.env("EU_PROD_TOKEN", PARENT_TOKEN)
        .env("OTHER_TOKEN", OTHER_SECRET)
        .args([
            "--config",
            &file.to_string_lossy(),
            "--base-url",
            &twilio.url,
        ])
        .args(["--concurrency", "8", "--timeout", "5"]);
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "the children fail: {}",
        text(&out.stderr)
    );
    let arrivals = twilio.arrivals.lock().expect("lock").clone();
    let first = arrivals.iter().map(|(at, _)| *at).min().expect("requests");
    let others: Vec<Duration> = (arrivals.iter())
        .filter(|(_, refused)| !refused)
        .map(|(at, _)| *at - first)
        .collect();
    assert_eq!(others.len(), 40, "{}", text(&out.stdout));
    let last = others.iter().max().expect("40");
    eprintln!("the last other account came at {last:?}");
    assert!(
        *last < Duration::from_secs(1),
        "the last other account came at {last:?}"
    );
}
