#![cfg(unix)]
//! What people really hand the `balance` command: output paths that are not plain files,
//! files saved with a byte-order mark, negative minimums, proxies set for everything else.

mod support;
use httpmock::prelude::*;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::process::{Command, Output};
use support::*;

const SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN: &str = "inputs-test-token-0123456789abcd";

async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("runs"))
        .await
        .expect("join")
}

/// A Twilio that knows every account; the mock counts what reached it. (Leaked: it lives
/// as long as the test process.)
async fn twilio() -> (&'static MockServer, httpmock::Mock<'static>) {
    twilio_for(&format!("\"{SID}\"")).await
}

/// [`twilio`], its answers naming `account_sid` (JSON: a quoted SID, or `null` for any).
async fn twilio_for(account_sid: &str) -> (&'static MockServer, httpmock::Mock<'static>) {
    let server: &'static MockServer = Box::leak(Box::new(MockServer::start_async().await));
    let body = format!(r#"{{"account_sid":{account_sid},"balance":"1.50","currency":"USD"}}"#);
    let mock = server
        .mock_async(|when, then| {
            when.any_request();
            then.status(200)
                .header("content-type", "application/json")
                .body(body);
        })
        .await;
    (server, mock)
}

fn with_credentials(server: &MockServer) -> Command {
    let mut cmd = balance();
    cmd.env("TWILIO_ACCOUNT_SID", SID)
        .env("TWILIO_AUTH_TOKEN", TOKEN)
        .args(["--base-url", &server.base_url()]);
    cmd
}

#[tokio::test(flavor = "multi_thread")]
async fn output_is_refused_where_a_regular_file_does_not_belong_before_any_request() {
    let (server, mock) = twilio().await;
    let dir = tempfile::tempdir().expect("dir");
    // A device node as root (CI); a FIFO otherwise. Either would become a regular file if the
    // report were renamed over it.
    let special = dir.path().join("null");
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| text(&o.stdout).trim() == "0");
    let made = match root {
        true => Command::new("mknod")
            .arg(&special)
            .args(["c", "1", "3"])
            .status(),
        false => Command::new("mkfifo").arg(&special).status(),
    };
    assert!(made.expect("mknod/mkfifo").success());
    let directory = dir.path().join("sub");
    std::fs::create_dir(&directory).expect("mkdir");
    let accounts = dir.path().join("accounts.txt");
    std::fs::write(&accounts, format!("{SID}\n")).expect("write");
    // A new name with a trailing slash names a directory; /proc takes no new file.
    let slash = std::path::PathBuf::from(format!("{}/", dir.path().join("new").display()));
    let proc_file = std::path::PathBuf::from("/proc/balance-output-test.prom");
    for (target, says) in [
        (&special, "is not a regular file"),
        (&directory, "is a directory"),
        (&accounts, "is also an input"),
        (&slash, "names no file"),
        (&proc_file, "cannot write in /proc"),
    ] {
        let mut cmd = with_credentials(server);
        cmd.args([
            "--accounts-file",
            &accounts.to_string_lossy(),
            "--output",
            &target.to_string_lossy(),
        ]);
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(1), "{target:?}");
        assert!(
            text(&out.stderr).contains(says),
            "{target:?}: {}",
            text(&out.stderr)
        );
    }
    assert_eq!(mock.calls_async().await, 0, "refused before any request");
    assert!(
        !dir.path().join("new").exists(),
        "no file where a directory was named"
    );
    let kind = std::fs::symlink_metadata(&special)
        .expect("still there")
        .file_type();
    assert!(kind.is_char_device() || kind.is_fifo(), "{kind:?}");
    assert_eq!(
        std::fs::read_to_string(&accounts).expect("read"),
        format!("{SID}\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn output_through_a_symlink_replaces_the_target_and_keeps_its_mode() {
    let (server, _) = twilio().await;
    let dir = tempfile::tempdir().expect("dir");
    let real_dir = dir.path().join("real");
    std::fs::create_dir(&real_dir).expect("mkdir");
    let target = real_dir.join("twilio.prom");
    std::fs::write(&target, "old\n").expect("write");
    std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let link = dir.path().join("link.prom");
    std::os::unix::fs::symlink(&target, &link).expect("symlink");
    let mut cmd = with_credentials(server);
    cmd.args(["--output", &link.to_string_lossy()]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        std::fs::symlink_metadata(&link)
            .expect("link")
            .file_type()
            .is_symlink(),
        "the link stays a link"
    );
    assert_eq!(
        std::fs::read_to_string(&target).expect("read"),
        format!("{SID}: 1.50 USD\n")
    );
    let mode = std::fs::metadata(&target)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "an existing file keeps its mode");
    let leftovers: Vec<_> = std::fs::read_dir(&real_dir).expect("dir").collect();
    assert_eq!(leftovers.len(), 1, "nothing left beside the target");

    // A new file gets the umask's mode, as any file a program creates.
    let fresh = dir.path().join("fresh.txt");
    let mut cmd = with_credentials(server);
    cmd.args(["--output", &fresh.to_string_lossy()]);
    let umask = "umask 027; exec \"$0\" \"$@\"";
    let mut shell = Command::new("sh");
    shell
        .arg("-c")
        .arg(umask)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (key, value) in cmd.get_envs() {
        match value {
            Some(v) => shell.env(key, v),
            None => shell.env_remove(key),
        };
    }
    let out = run(shell).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mode = std::fs::metadata(&fresh)
        .expect("meta")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o640);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_byte_order_mark_a_negative_minimum_and_a_proxy_for_demo_are_taken_as_meant() {
    let (server, _) = twilio().await;
    let dir = tempfile::tempdir().expect("dir");
    let accounts = dir.path().join("accounts.txt");
    std::fs::write(&accounts, format!("\u{feff}{SID}\n")).expect("write");
    let mut cmd = with_credentials(server);
    cmd.args([
        "--accounts-file",
        &accounts.to_string_lossy(),
        "--min",
        "-3.1",
    ]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{SID}: 1.50 USD\n"));

    // The demo server is on loopback: a proxy set for everything else is not in its way.
    let out = balance()
        .args(["--demo"])
        .env("HTTP_PROXY", "http://proxy.invalid:3128")
        .env("HTTPS_PROXY", "http://proxy.invalid:3128")
        .env("ALL_PROXY", "http://proxy.invalid:3128")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("0.05 USD"));
    for flag in ["--region", "--edge"] {
        let out = balance()
            .args(["--demo", flag, "ie1"])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(1), "{flag}");
        assert!(
            text(&out.stderr).contains(&format!("{flag} does not apply to --demo")),
            "{}",
            text(&out.stderr)
        );
    }
}

/// A config naming `secret` as its token file, readable by its owner alone.
fn config_with_secret_file(dir: &std::path::Path, secret: &std::path::Path) -> std::path::PathBuf {
    let config = dir.join("accounts.toml");
    let entry = format!(
        "[[account]]\nname = \"main\"\naccount_sid = \"{SID}\"\nauth_token_file = \"{}\"\n",
        secret.display()
    );
    std::fs::write(&config, entry).expect("write");
    config
}

#[tokio::test(flavor = "multi_thread")]
async fn output_refuses_a_secret_file_the_config_names_before_any_request() {
    let (server, mock) = twilio().await;
    let dir = tempfile::tempdir().expect("dir");
    let secret = dir.path().join("token");
    std::fs::write(&secret, format!("{TOKEN}\n")).expect("write");
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let config = config_with_secret_file(dir.path(), &secret);
    // Through another name for the same file, too: files are compared by (device, inode).
    let alias = dir.path().join("alias");
    std::fs::hard_link(&secret, &alias).expect("link");
    for output in [&secret, &alias] {
        let mut cmd = balance();
        cmd.args([
            "--config",
            &config.to_string_lossy(),
            "--base-url",
            &server.base_url(),
        ])
        .args(["--output", &output.to_string_lossy()]);
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(1), "{output:?}");
        let err = text(&out.stderr);
        assert!(err.contains("is also an input"), "{err}");
        assert!(!err.contains(TOKEN), "{err}");
    }
    assert_eq!(mock.calls_async().await, 0, "refused before any request");
    assert_eq!(
        std::fs::read_to_string(&secret).expect("read"),
        format!("{TOKEN}\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_or_device_inputs_are_refused_before_any_request_and_a_pipe_is_read() {
    let (server, mock) = twilio().await;
    let dir = tempfile::tempdir().expect("dir");
    let big_secret = dir.path().join("big");
    std::fs::write(&big_secret, "x".repeat(5000)).expect("write");
    std::fs::set_permissions(&big_secret, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let config = config_with_secret_file(dir.path(), &big_secret);
    let sparse = dir.path().join("sparse.toml");
    std::fs::File::create(&sparse)
        .and_then(|f| f.set_len(300 << 20))
        .expect("sparse file");
    let cases = [
        (
            config.to_string_lossy().into_owned(),
            "is larger than the 4096 bytes",
        ),
        ("/dev/zero".to_owned(), "is not a regular file or a pipe"),
        (
            sparse.to_string_lossy().into_owned(),
            "is larger than the 16777216 bytes",
        ),
    ];
    for (path, says) in cases {
        let mut cmd = balance();
        cmd.args(["--config", &path, "--base-url", &server.base_url()]);
        let started = std::time::Instant::now();
        let out = run(cmd).await;
        assert_eq!(out.status.code(), Some(1), "{path}");
        assert!(
            text(&out.stderr).contains(says),
            "{path}: {}",
            text(&out.stderr)
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(5),
            "{path}"
        );
    }
    assert_eq!(mock.calls_async().await, 0, "refused before any request");

    // Process substitution hands over a pipe: that is a config too.
    let good = dir.path().join("good");
    std::fs::write(&good, TOKEN).expect("write");
    std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let config = config_with_secret_file(dir.path(), &good);
    let mut cmd = balance();
    cmd.args(["--config", "/dev/stdin", "--base-url", &server.base_url()]);
    let config_text = std::fs::read(&config).expect("read");
    let out = tokio::task::spawn_blocking(move || {
        use std::process::Stdio;
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn");
        let mut pipe = child.stdin.take().expect("stdin");
        std::io::Write::write_all(&mut pipe, &config_text).expect("pipe");
        drop(pipe);
        child.wait_with_output().expect("runs")
    })
    .await
    .expect("join");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1.50 USD"),
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_with_a_control_character_is_refused_at_its_line_and_200k_problems_come_fast() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("names.toml");
    std::fs::write(
        &config,
        format!("[[account]]\nname = \"x\\ty\"\naccount_sid = \"{SID}\"\nauth_token_env = \"T\"\n"),
    )
    .expect("write");
    let out = checked(&config);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "{}:2: `name` holds a control character",
            config.display()
        )),
        "{err}"
    );

    // Reporting is linear and bounded: 200,000 unknown keys, the first 100 reported with their
    // lines, the rest counted, and the known keys said once.
    let keys: String = (0..200_000).map(|i| format!("k{i} = 1\n")).collect();
    std::fs::write(&config, keys).expect("write");
    let (out, took) = timed_check(&config);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines.len(),
        102,
        "{}",
        &err[err.len().saturating_sub(500)..]
    );
    let shown = config.display();
    assert!(
        lines[99].starts_with(&format!("{shown}:100: unknown key `k99`")),
        "{}",
        lines[99]
    );
    assert_eq!(lines[100], format!("{shown}: and 199900 more problems"));
    assert!(
        lines[101].contains("knows the keys name, "),
        "{}",
        lines[101]
    );
    // A debug build; a release build takes a fraction of this (BENCHMARKS.md).
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
}

/// A 16 MiB config of unknown keys inside an `[[account]]` is reported in bounded time and
/// output: 100 problems, a count of the rest, the known keys once (each line once repeated
/// them: 278 MB on stderr).
#[test]
fn a_16_mib_config_of_unknown_keys_is_reported_bounded() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("huge.toml");
    let mut toml = String::from("[[account]]\n");
    let mut i = 0;
    while toml.len() < (16 << 20) - 64 {
        toml += &format!("unknown_key_{i} = 1\n");
        i += 1;
    }
    std::fs::write(&config, toml).expect("write");
    let (out, took) = timed_check(&config);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.len() < 16 << 10,
        "{} bytes on stderr",
        out.stderr.len()
    );
    let err = text(&out.stderr);
    assert!(err.contains("more problems"), "{err}");
    assert_eq!(
        err.matches("parent_account_sid").count(),
        1,
        "the known keys once: {err}"
    );
    eprintln!("16 MiB config reported in {took:?}");
    // A debug build; release figures are in the CHANGELOG.
    assert!(took < std::time::Duration::from_secs(20), "took {took:?}");
}

/// `balance --config FILE` run on `config` with `T` set to the test token.
fn checked(config: &std::path::Path) -> Output {
    balance()
        .env("T", TOKEN)
        .args(["--config", &config.to_string_lossy()])
        .output()
        .expect("runs")
}

/// `balance --config FILE` run on `config` with no variables set, and how long it took.
fn timed_check(config: &std::path::Path) -> (std::process::Output, std::time::Duration) {
    let started = std::time::Instant::now();
    let out = balance()
        .args(["--config", &config.to_string_lossy()])
        .output()
        .expect("runs");
    (out, started.elapsed())
}

/// A config saved with a byte-order mark: problems keep their true line numbers.
#[test]
fn a_byte_order_mark_does_not_shift_the_line_numbers() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("bom.toml");
    std::fs::write(
        &config,
        format!("\u{feff}[[account]]\nname = \"a\"\naccount_sid = \"{SID}\"\nregoin = \"ie1\"\nauth_token_env = \"T\"\n"),
    )
    .expect("write");
    let out = checked(&config);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    // A problem at the very start of a line is where the line count could slip.
    let expected = format!("{}:4: unknown key `regoin`", config.display());
    assert!(err.contains(&expected), "{err}");
}

/// A secret pasted where the config wants a variable name or a path is never echoed: the
/// message names the key instead. A variable name and a path are still quoted.
#[test]
fn a_secret_pasted_as_a_variable_name_or_path_is_not_echoed() {
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("pasted.toml");
    let pasted = "0123456789abcdef0123456789abcdef";
    let other = "AC0123456789abcdef0123456789abcdef";
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"a\"\naccount_sid = \"{SID}\"\nauth_token_env = \"{pasted}\"\n\n\
             [[account]]\nname = \"b\"\naccount_sid = \"{other}\"\nauth_token_file = \"{pasted}\"\n\n\
             [[account]]\nname = \"c\"\naccount_sid = \"ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb\"\nauth_token_env = \"NOT_SET_HERE\"\n"
        ),
    )
    .expect("write");
    let out = balance()
        .args(["--config", &config.to_string_lossy()])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(!err.contains(pasted), "{err}");
    for expected in [
        ":4: the variable named by `auth_token_env` is not set",
        ":9: the file named by `auth_token_file`: No such file",
        ":14: the variable NOT_SET_HERE is not set",
    ] {
        assert!(err.contains(expected), "{expected}\nin:\n{err}");
    }
}

/// A name spelt like another account's SID is a name: neither a second listing of that SID nor
/// a name already used.
#[tokio::test(flavor = "multi_thread")]
async fn a_name_spelt_like_another_accounts_sid_is_a_name() {
    let (server, _) = twilio_for("null").await;
    let other = "AC0123456789abcdef0123456789abcdef";
    let dir = tempfile::tempdir().expect("dir");
    let config = dir.path().join("sid-names.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"a\"\naccount_sid = \"{SID}\"\nauth_token_env = \"T\"\n\n\
             [[account]]\nname = \"{SID}\"\naccount_sid = \"{other}\"\nauth_token_env = \"T\"\n"
        ),
    )
    .expect("write");
    let mut cmd = balance();
    cmd.env("T", TOKEN).args([
        "--config",
        &config.to_string_lossy(),
        "--base-url",
        &server.base_url(),
    ]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains(&format!("{SID} ({other}): 1.50 USD")),
        "{shown}"
    );
    // A name or a SID really written twice is still refused, at the second place.
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"a\"\naccount_sid = \"{SID}\"\nauth_token_env = \"T\"\n\n\
             [[account]]\nname = \"a\"\naccount_sid = \"{other}\"\nauth_token_env = \"T\"\n\n\
             [[account]]\nname = \"b\"\naccount_sid = \"{SID}\"\nauth_token_env = \"T\"\n"
        ),
    )
    .expect("write");
    let out = checked(&config);
    let (err, at) = (text(&out.stderr), config.display());
    assert!(
        err.contains(&format!("{at}:7: name \"a\" is already used at {at}:2")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{at}:13: {SID} is already listed at {at}:3")),
        "{err}"
    );
}
