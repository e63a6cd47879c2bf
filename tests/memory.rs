//! Memory does not grow with a hostile body: alone in its own binary so the process's peak
//! resident set speaks for this one fetch.

use balance_api::{Client, RetryPolicy};
use balance_api_tests::*;

static ZEROS: [u8; 64 * 1024] = [b'0'; 64 * 1024];

/// Peak resident set of this process (`VmHWM`), in KiB.
#[cfg(target_os = "linux")]
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM line")
}

#[cfg(target_os = "linux")]
#[tokio::test(flavor = "current_thread")]
async fn a_64_mib_body_does_not_grow_the_peak_rss() {
    const BODY: usize = 64 << 20;
    let server = RawServer::start(|_| Reply {
        bytes: format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {BODY}\r\n\r\n"
        )
        .into_bytes(),
        repeat: Some((&ZEROS, BODY / ZEROS.len())),
        ..Reply::default()
    })
    .await;
    let client = Client::builder()
        .credentials(token_credentials())
        .base_url(server.base_url())
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    // Without the cap the same fetch grows the peak by the whole body (checked by hand with
    // .max_body_bytes(128 << 20): the assertion below then fails).
    let before = peak_rss_kib();
    let err = client.fetch_balance().await.expect_err("over the cap");
    let after = peak_rss_kib();
    assert!(err.is_decode(), "{err:?}");
    assert!(
        err.to_string().ends_with("exceeds the 65536 byte cap"),
        "{err}"
    );
    let grew = after.saturating_sub(before);
    assert!(
        grew < 8 * 1024,
        "peak RSS grew by {grew} KiB for a 64 MiB body"
    );
}
