//! A resolver that never answers must not hold anything past its timeout: not the `balance`
//! process, and not a blocking client's drop (glibc's `getaddrinfo` blocks its thread for
//! 5 s × 2 tries, and a runtime that waits for that thread on shutdown waits with it).
//!
//! Each test runs its subject in a private network and mount namespace (`unshare -mn`, so it
//! needs root, as CI has) whose /etc/resolv.conf points at a UDP socket that swallows every
//! query. Without root they say SKIPPED.

use std::process::Command;
use std::time::{Duration, Instant};

const SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const CHILD: &str = "BALANCE_HUNG_DNS_CHILD";

/// Runs `program args` inside the namespace; `None` when namespaces are not available here.
fn in_hung_dns_namespace(program: &str, args: &[&str]) -> Option<(std::process::Output, Duration)> {
    let dir = tempfile::tempdir().expect("dir");
    let resolv = dir.path().join("resolv.conf");
    std::fs::write(
        &resolv,
        "nameserver 127.0.0.1\noptions timeout:5 attempts:2\n",
    )
    .expect("write");
    // The subject starts once the swallower is bound: a query sent before that is refused at
    // once, and the lookup fails fast instead of hanging (a slow machine took over 0.3 s).
    let ready = dir.path().join("ready");
    let script = format!(
        r#"mount --bind {resolv} /etc/resolv.conf && ip link set lo up || exit 99
python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 53))
open("{ready}", "w").close()
while True: s.recv(4096)' &
for _ in $(seq 250); do [ -e {ready} ] && break; sleep 0.02; done
[ -e {ready} ] || {{ echo "the DNS swallower did not start" >&2; exit 98; }}
"$@"; rc=$?; kill $!; exit $rc"#,
        resolv = resolv.display(),
        ready = ready.display()
    );
    let started = Instant::now();
    let out = Command::new("unshare")
        .args(["-mn", "bash", "-c", &script, "hung-dns", program])
        .args(args)
        .env("TWILIO_ACCOUNT_SID", SID)
        .env("TWILIO_AUTH_TOKEN", "hung-dns-token-0000000000000000")
        .env(CHILD, "1")
        .output()
        .ok()?;
    let took = started.elapsed();
    if out.status.code() == Some(99)
        || (!out.status.success() && out.stdout.is_empty() && out.stderr.starts_with(b"unshare"))
    {
        return None;
    }
    Some((out, took))
}

#[test]
fn the_command_exits_within_its_timeout_when_dns_hangs() {
    let bin = env!("CARGO_BIN_EXE_balance");
    let Some((out, took)) = in_hung_dns_namespace(bin, &["--region", "bogus", "--timeout", "2"])
    else {
        eprintln!("SKIPPED: cannot make a network namespace here (needs root and unshare)");
        return;
    };
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("timed out"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // The set-up, the 2 s timeout, and slack; the lookup itself would take 10 s.
    assert!(took < Duration::from_secs(5), "the process took {took:?}");
}

#[test]
fn a_blocking_clients_drop_does_not_wait_for_a_hung_lookup() {
    if std::env::var_os(CHILD).is_some() {
        // Inside the namespace: time the fetch and the drop themselves.
        let client = balance_api::Client::builder()
            .credentials(
                balance_api::Credentials::auth_token(
                    SID.parse().expect("sid"),
                    "hung-dns-token-0000000000000000",
                )
                .expect("creds"),
            )
            .region("bogus")
            .timeout(Duration::from_secs(1))
            .retry(balance_api::RetryPolicy::none())
            .build_blocking()
            .expect("client");
        let err = client.fetch_balance().expect_err("no DNS");
        assert!(err.is_timeout(), "{err:?}");
        let started = Instant::now();
        drop(client);
        assert!(
            started.elapsed() < Duration::from_millis(500),
            "drop took {:?}",
            started.elapsed()
        );
        return;
    }
    let exe = std::env::current_exe().expect("test binary");
    let exe = exe.to_string_lossy();
    let Some((out, took)) = in_hung_dns_namespace(
        &exe,
        &[
            "--exact",
            "a_blocking_clients_drop_does_not_wait_for_a_hung_lookup",
            "--test-threads",
            "1",
        ],
    ) else {
        eprintln!("SKIPPED: cannot make a network namespace here (needs root and unshare)");
        return;
    };
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the child ran the test"
    );
    assert!(took < Duration::from_secs(5), "the child took {took:?}");
}
