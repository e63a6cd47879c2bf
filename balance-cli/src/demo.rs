//! The demo server: the spec's documented example (or, when it documents none, a body made from
//! the response schema; see [`SOURCE`]), served on loopback behind the same basic auth check
//! Twilio makes, so the whole path (request, auth header, decode) runs with no account at all.

use balance_api::{AccountSid, BuildError, Client, ClientBuilder, Credentials};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const DEMO_TOKEN: &str = "demo-auth-token-00000000000000000";
const DEMO_REQUEST_ID: &str = "RQdemo0000000000000000000000000000";

/// Where the served body comes from, for a note to the reader: the spec's documented example,
/// or a value made from the response schema when the spec documents none.
pub const SOURCE: &str = balance_api_gen::DEMO_RESPONSE_SOURCE;

/// What every demo figure is labelled with, in every output.
pub static NOTE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("DEMO DATA: {SOURCE}, not a real account"));

/// A running demo server; it stops with the runtime.
pub struct Server {
    base_url: String,
    account: AccountSid,
}

impl Server {
    /// Starts serving on a free loopback port.
    pub async fn start() -> Result<Self, String> {
        let example = balance_api_gen::DEMO_RESPONSE;
        let body: serde_json::Value = serde_json::from_str(example).map_err(|e| e.to_string())?;
        let account: AccountSid = body["account_sid"]
            .as_str()
            .unwrap_or_default()
            .parse()
            .map_err(|e| format!("{SOURCE}: {e}"))?;
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("cannot start the demo server: {e}"))?;
        let base_url = format!(
            "http://{}",
            listener.local_addr().map_err(|e| e.to_string())?
        );
        let auth = {
            use base64::Engine;
            let pair = format!("{account}:{DEMO_TOKEN}");
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        };
        let path = balance_api_gen::PATH.replace("{AccountSid}", account.as_str());
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let (auth, path) = (auth.clone(), path.clone());
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    let mut buf = [0u8; 2048];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16384 {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => head.extend_from_slice(&buf[..n]),
                        }
                    }
                    let reply = answer(&String::from_utf8_lossy(&head), &path, &auth);
                    let _ = stream.write_all(reply.as_bytes()).await;
                });
            }
        });
        Ok(Self { base_url, account })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// A client builder aimed at this server with its credentials.
    pub fn builder(&self) -> Result<ClientBuilder, BuildError> {
        // Straight to loopback: a proxy from *_PROXY would not know this server.
        Ok(Client::builder()
            .credentials(credentials(&self.account)?)
            .base_url(&self.base_url)
            .no_proxy())
    }
}

fn credentials(account: &AccountSid) -> Result<Credentials, balance_api::InvalidCredentials> {
    Credentials::auth_token(account.clone(), DEMO_TOKEN)
}

/// One response per connection (`connection: close`), Twilio-shaped.
fn answer(head: &str, path: &str, auth: &str) -> String {
    let request_line = head.lines().next().unwrap_or_default();
    let authorized = head.lines().any(|line| {
        line.split_once(':').is_some_and(|(name, value)| {
            name.eq_ignore_ascii_case("authorization") && value.trim() == auth
        })
    });
    let (status, body) = if !authorized {
        ("401 Unauthorized", r#"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#.to_owned())
    } else if request_line.starts_with(&format!("GET {path} ")) {
        ("200 OK", balance_api_gen::DEMO_RESPONSE.to_owned())
    } else {
        ("404 Not Found", r#"{"code":20404,"message":"The requested resource was not found on the demo server","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#.to_owned())
    };
    format!(
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ntwilio-request-id: {DEMO_REQUEST_ID}\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}
