//! TLS as a user gets it by default: rustls on the ring provider, checking the server's
//! certificate against the platform's roots. A loopback `openssl s_server` with a self-signed
//! certificate must be refused for its issuer, before any request is sent.

use balance_api::{Client, Credentials, RetryPolicy};
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test]
async fn a_self_signed_server_is_refused_for_its_certificate() {
    let dir = tempfile_dir();
    let made = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "1"])
        // A name no trust store holds, so the issuer is unknown wherever this runs.
        .args([
            "-subj",
            &format!("/CN=balance-api test {}", std::process::id()),
        ])
        .args(["-addext", "subjectAltName=IP:127.0.0.1"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stderr(Stdio::null())
        .status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: no openssl command to make a certificate with");
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let mut server = Command::new("openssl")
        .args([
            "s_server",
            "-quiet",
            "-www",
            "-accept",
            &format!("127.0.0.1:{port}"),
        ])
        .arg("-cert")
        .arg(dir.join("cert.pem"))
        .arg("-key")
        .arg(dir.join("key.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server");
    // Until it listens.
    for _ in 0..50 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let account = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse().expect("sid");
    let client = Client::builder()
        .credentials(Credentials::auth_token(account, "token").expect("credentials"))
        .base_url(format!("https://127.0.0.1:{port}"))
        .no_proxy()
        .retry(RetryPolicy::none())
        .build()
        .expect("client");
    let err = client.fetch_balance().await.expect_err("an unknown issuer");
    let _ = server.kill();
    let _ = server.wait();
    let chain = format!("{:#}", anyhow::Error::from(err));
    assert!(chain.contains("invalid peer certificate"), "{chain}");
}

/// A fresh directory under the system's temporary one, for this process.
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("balance-api-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
