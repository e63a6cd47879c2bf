//! Fixtures shared by the integration tests.

/// The account SID of the spec's documented example.
pub const EXAMPLE_SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

/// The spec's documented 200 response body for [`EXAMPLE_SID`].
pub const EXAMPLE_BODY: &str =
    r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"0.05","currency":"USD"}"#;

/// The Balance path for `sid`, as Twilio documents it.
pub fn balance_path(sid: &str) -> String {
    format!("/2010-04-01/Accounts/{sid}/Balance.json")
}

/// The Auth Token the tests authenticate with; redaction tests search for it.
pub const TOKEN: &str = "s3cr3t-auth-token-0123456789abcdef";

/// An API Key SID for the key-and-secret tests.
pub const KEY_SID: &str = "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

/// The API Key secret; redaction tests search for it.
pub const KEY_SECRET: &str = "k3y-s3cr3t-fedcba9876543210";

/// Account-SID-and-token credentials for [`EXAMPLE_SID`].
pub fn token_credentials() -> balance_api::Credentials {
    let sid = EXAMPLE_SID.parse().expect("valid SID");
    balance_api::Credentials::auth_token(sid, TOKEN).expect("valid credentials")
}

/// A builder aimed at `server` with [`token_credentials`].
pub fn builder_for(server: &httpmock::MockServer) -> balance_api::ClientBuilder {
    balance_api::Client::builder()
        .credentials(token_credentials())
        .base_url(server.base_url())
}

/// The `Authorization` value HTTP basic auth gives `user` and `secret`, computed independently.
pub fn basic(user: &str, secret: &str) -> String {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
    format!("Basic {encoded}")
}

/// Every form a secret could leak in: itself and inside the base64 of a basic-auth pair.
pub fn leaked_forms(user: &str, secret: &str) -> Vec<String> {
    vec![
        secret.to_owned(),
        basic(user, secret),
        basic(user, secret)["Basic ".len()..].to_owned(),
    ]
}

/// A minimal HTTP/1.1 keep-alive server on loopback that counts connections and requests, for
/// what httpmock cannot show or express (connection reuse, dropped connections, stalls).
pub struct RawServer {
    addr: std::net::SocketAddr,
    connections: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    requests: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

/// What [`RawServer`] does with one request: bytes to write, and whether to close afterwards.
pub struct Reply {
    /// Raw bytes written back (status line, headers, body).
    pub bytes: Vec<u8>,
    /// Close the connection after writing.
    pub close: bool,
}

/// A 200 with a JSON body and keep-alive.
pub fn ok_response(body: &str) -> Reply {
    Reply {
        bytes: format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
        close: false,
    }
}

impl RawServer {
    /// Starts serving on 127.0.0.1; `handler` gets the request head (request line and headers).
    pub async fn start(handler: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Self {
        use std::sync::atomic::Ordering::SeqCst;
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let connections = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let handler = std::sync::Arc::new(handler);
        let (conns, reqs) = (connections.clone(), requests.clone());
        let task = tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                conns.fetch_add(1, SeqCst);
                let (handler, reqs) = (handler.clone(), reqs.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    loop {
                        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                            match stream.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                            continue;
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                        buf.drain(..end + 4);
                        reqs.fetch_add(1, SeqCst);
                        let reply = handler(&head);
                        if stream.write_all(&reply.bytes).await.is_err() || reply.close {
                            return;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            connections,
            requests,
            task,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Requests read so far.
    pub fn requests(&self) -> usize {
        self.requests.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
