//! `balance-mcp --listen ADDR`: the MCP Streamable HTTP transport at `http://ADDR/mcp`, so a team
//! runs one server and points their tools at its URL.
//!
//! The server holds real Twilio credentials, so every request passes, in this order:
//!
//! 1. the path: only `/mcp` (404 otherwise);
//! 2. `Authorization: Bearer <token>`, compared in constant time (401 otherwise), before a byte
//!    of the body is read, so nothing reaches Twilio without it;
//! 3. one `Host` and one `Origin` at most (400 otherwise); then rmcp's checks: `Host`
//!    (loopback names unless `--allow-remote`) and `Origin` (none, the server's own loopback
//!    origins, or one given with `--allow-origin`; 403 otherwise, the MCP specification's
//!    defence against DNS rebinding), then the body cap (413 past [`MAX_BODY`]);
//! 4. for a request that opens a session, the session cap (503 past `--max-sessions`); a
//!    session not used again within 30 s of its `initialize` is closed;
//! 5. for a GET event stream, one per session, resumptions with `Last-Event-ID` included (409
//!    for a second).
//!
//! The server runs on the HTTP stack `balance serve` uses too (`crate::server`): its header
//! timeout, connection cap and body cap apply, and SIGTERM or SIGINT ends every session and its
//! streams before connections get their grace. Tool calls from every session share the
//! server's one in-flight limit (`--concurrency`), since each session's handler is a clone of
//! one `BalanceServer`.

use super::BalanceServer;
use crate::server::{MAX_BODY, Server};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, HOST, HeaderValue, ORIGIN, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use parking_lot::Mutex;
use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use secrecy::{ExposeSecret, SecretString};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use subtle::ConstantTimeEq;

/// The header that names a request's MCP session.
const SESSION_ID: &str = "mcp-session-id";
/// The variable the bearer token is read from.
pub const TOKEN_VAR: &str = "BALANCE_MCP_TOKEN";
/// Guessing a token this long over HTTP is hopeless; a shorter one is refused.
const MIN_TOKEN_LEN: usize = 16;

/// The bearer token clients must present; redacted in `Debug`, zeroed on drop.
pub struct Token(SecretString);

impl Token {
    /// From `BALANCE_MCP_TOKEN` or `file`, exactly one of them. Errors never quote the token.
    pub fn load(file: Option<&Path>) -> Result<Self, String> {
        let from_env = std::env::var_os(TOKEN_VAR);
        let text = match (from_env, file) {
            (Some(_), Some(_)) => {
                return Err(format!(
                    "the token is given twice: unset {TOKEN_VAR} or drop --token-file"
                ));
            }
            (None, None) => {
                return Err(format!(
                    "--listen needs a token for clients to send as `Authorization: Bearer \
                     <token>`: set {TOKEN_VAR} or pass --token-file FILE (e.g. from `openssl \
                     rand -hex 32`)"
                ));
            }
            (Some(value), None) => value
                .into_string()
                .map_err(|_| format!("{TOKEN_VAR} is not valid UTF-8"))?,
            (None, Some(path)) => crate::input::read_secret(path, &path.display().to_string())
                .map_err(|e| format!("--token-file {e}"))?,
        };
        let source = match file {
            Some(path) => format!("the token in {}", path.display()),
            None => TOKEN_VAR.to_owned(),
        };
        if text.len() < MIN_TOKEN_LEN {
            return Err(format!(
                "{source} is shorter than {MIN_TOKEN_LEN} characters; use a random one (e.g. \
                 `openssl rand -hex 32`)"
            ));
        }
        // RFC 6750's b64token, what a bearer credential is made of: letters, digits, `-._~+/`,
        // then `=` padding (`openssl rand -hex 32` and base64 both are).
        let body = text.trim_end_matches('=');
        if body.is_empty()
            || !body
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
        {
            return Err(format!(
                "{source} is not a bearer token: letters, digits and - . _ ~ + / only, then = \
                 padding (RFC 6750)"
            ));
        }
        Ok(Self(SecretString::from(text)))
    }

    /// Whether `headers` carry exactly one `Authorization: Bearer <this token>`.
    fn admits(&self, headers: &axum::http::HeaderMap) -> bool {
        let mut values = headers.get_all(AUTHORIZATION).iter();
        let (Some(value), None) = (values.next(), values.next()) else {
            return false;
        };
        let value = value.as_bytes();
        let Some(space) = value.iter().position(|&b| b == b' ') else {
            return false;
        };
        let (scheme, credentials) = value.split_at(space);
        // The scheme is case-insensitive (RFC 9110, 11.1); the token is not.
        scheme.eq_ignore_ascii_case(b"bearer")
            && bool::from(
                credentials
                    .trim_ascii()
                    .ct_eq(self.0.expose_secret().as_bytes()),
            )
    }
}

/// Everything `--listen` needs, checked before any credential is touched.
pub struct Options {
    /// Where to listen.
    pub listen: SocketAddr,
    /// Whether a non-loopback `listen` was allowed (`--allow-remote`).
    pub allow_remote: bool,
    /// What clients must present.
    pub token: Token,
    /// Origins allowed beside the server's own loopback ones, as `scheme://host:port`.
    pub allow_origins: Vec<String>,
    /// Sessions open at once.
    pub max_sessions: usize,
}

impl Options {
    /// Checks the flags: a loopback address unless `allow_remote`, origins that are origins,
    /// and a token.
    pub fn new(
        listen: SocketAddr,
        allow_remote: bool,
        token_file: Option<&Path>,
        allow_origins: &[String],
        max_sessions: usize,
    ) -> Result<Self, String> {
        if !listen.ip().is_loopback() && !allow_remote {
            return Err(format!(
                "--listen {listen} is not a loopback address, and this server holds Twilio \
                 credentials: pass --allow-remote to serve other machines (over plain HTTP: put \
                 a TLS proxy in front)"
            ));
        }
        let allow_origins = (allow_origins.iter())
            .map(|o| match o.contains('*') {
                true => Err(format!("--allow-origin {o:?}: wildcards are not supported; name each origin exactly (scheme://host[:port])")),
                false => origin(o).ok_or(format!("--allow-origin {o:?} is not an exact origin (scheme://host[:port] and nothing after it, e.g. https://app.example.com)")),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            listen,
            allow_remote,
            token: Token::load(token_file)?,
            allow_origins,
            max_sessions,
        })
    }
}

/// `text` as an origin with its port explicit (`https://host` is `https://host:443`), or `None`
/// when it is not one: an http or https URL with a host and nothing after it.
fn origin(text: &str) -> Option<String> {
    // The URI parser reads `localhost:*` as port 80; a wildcard is never an exact origin, and
    // an origin has no fragment.
    if text.contains(['*', '#']) {
        return None;
    }
    let uri: axum::http::Uri = text.parse().ok()?;
    let scheme = uri.scheme_str()?.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let authority = uri.authority()?;
    // A port that is no port (`:99999`) is no default port either.
    let after_host = authority.as_str().strip_prefix(authority.host());
    let port_ok = after_host == Some("") || authority.port_u16().is_some();
    let bare = !authority.as_str().contains('@') && uri.query().is_none() && port_ok;
    let path_empty = matches!(uri.path(), "" | "/");
    (bare && path_empty && !authority.host().is_empty()).then(|| {
        let port = authority.port_u16().unwrap_or(default_port);
        format!(
            "{scheme}://{}:{port}",
            authority.host().to_ascii_lowercase()
        )
    })
}

/// What every request passes before rmcp sees it.
struct Gate {
    token: Token,
    sessions: Arc<LocalSessionManager>,
    max_sessions: usize,
    // Check-then-create must be one step, or two clients could both take the last slot.
    opening: tokio::sync::Mutex<()>,
    /// Sessions that have answered `initialize` and not been used since.
    unused: Mutex<HashSet<String>>,
    /// Sessions with their GET event stream open.
    streaming: Arc<Mutex<HashSet<String>>>,
}

/// Time for a request body to arrive whole, once its headers have.
const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// A session nobody uses after its `initialize` (an abandoned one, say) closes after this. rmcp
/// has no setting for it: its `init_timeout` ends when the `initialize` request arrives, which
/// over HTTP is the request that opens the session, and its `keep_alive` would close every idle
/// session this soon, event streams and all.
const UNUSED_SESSION_TIMEOUT: Duration = Duration::from_secs(30);
/// An idle session closes after this: rmcp's `keep_alive`, named here for `--max-sessions`.
const IDLE_SESSION_TIMEOUT: Duration = Duration::from_secs(300);

/// The token check; one `Host` and one `Origin` at most (400); then, for a request that opens
/// a session (a POST without a session id), the session cap, as a 503 (rmcp has no cap of its
/// own); one GET stream per session.
async fn admit(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    if !gate.token.admits(request.headers()) {
        let why = "Unauthorized: send Authorization: Bearer <token>, the token this server was \
                   started with";
        let challenge = HeaderValue::from_static("Bearer realm=\"balance-mcp\"");
        return (
            StatusCode::UNAUTHORIZED,
            [(WWW_AUTHENTICATE, challenge)],
            why,
        )
            .into_response();
    }
    // rmcp checks the first Host and Origin alone; a second one could say anything.
    let headers = request.headers();
    if [HOST, ORIGIN]
        .iter()
        .any(|name| headers.get_all(name).iter().nth(1).is_some())
    {
        let why = "Bad Request: more than one Host or Origin header";
        return (StatusCode::BAD_REQUEST, why).into_response();
    }
    let session = (request.headers().get(SESSION_ID))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Every POST body is read here, whole, within a deadline and the cap: a client trickling
    // it holds up no one, and one over the cap gets 413 whether it said its length or not.
    let (request, body) = match request.method() {
        &Method::POST => match read_body(request).await {
            Ok((request, body)) => (request, Some(body)),
            Err(refused) => return refused,
        },
        _ => (request, None),
    };
    match (request.method(), session) {
        (&Method::POST, None) => {
            // Only an `initialize` opens a session; other requests without one (a newer,
            // session-less protocol) pass untouched.
            let initialize = (body.as_deref())
                .and_then(|body| serde_json::from_slice::<serde_json::Value>(body).ok())
                .is_some_and(|m| m.get("method").is_some_and(|m| m == "initialize"));
            match initialize {
                true => open_session(&gate, request, next).await,
                false => next.run(request).await,
            }
        }
        (&Method::GET, Some(id)) => event_stream(&gate, id, request, next).await,
        (_, Some(id)) => {
            gate.unused.lock().remove(&id);
            next.run(request).await
        }
        (_, None) => next.run(request).await,
    }
}

/// A GET opens the session's event stream, or resumes it (Last-Event-ID): one at a time, 409
/// for a second. The slot frees when the stream's body is dropped.
async fn event_stream(gate: &Gate, id: String, request: Request, next: Next) -> Response {
    gate.unused.lock().remove(&id);
    if !gate.streaming.lock().insert(id.clone()) {
        let why = "Conflict: this session already has its event stream open";
        return (StatusCode::CONFLICT, why).into_response();
    }
    // Made before rmcp runs, so the slot frees even if this request is dropped midway.
    let streaming = gate.streaming.clone();
    let guard = scopeguard::guard(id, move |id| {
        streaming.lock().remove(&id);
    });
    let response = next.run(request).await;
    let body = |body: Body| {
        Body::new(body.map_frame(move |frame| {
            let _held_until_the_body_goes = &guard;
            frame
        }))
    };
    response.map(body)
}

/// The request with its body read whole (so rmcp reads it from memory), and the body; 413 past
/// the cap, 408 past [`BODY_TIMEOUT`].
async fn read_body(request: Request) -> Result<(Request, axum::body::Bytes), Response> {
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(BODY_TIMEOUT, body.collect()).await {
        Ok(Ok(body)) => {
            let body = body.to_bytes();
            Ok((Request::from_parts(parts, Body::from(body.clone())), body))
        }
        Ok(Err(_)) => {
            let why = format!("Payload Too Large: a request body may hold {MAX_BODY} bytes");
            Err((StatusCode::PAYLOAD_TOO_LARGE, why).into_response())
        }
        Err(_) => {
            let why = "Request Timeout: the request body did not arrive in time";
            Err((StatusCode::REQUEST_TIMEOUT, why).into_response())
        }
    }
}

/// `initialize`: within the session cap, and closed unless used within
/// [`UNUSED_SESSION_TIMEOUT`].
async fn open_session(gate: &Arc<Gate>, request: Request, next: Next) -> Response {
    let _one_at_a_time = gate.opening.lock().await;
    if gate.sessions.sessions.read().await.len() >= gate.max_sessions {
        let why = "Service Unavailable: this server's sessions are all in use \
                   (--max-sessions); close one (HTTP DELETE) or try again later";
        let retry = [(RETRY_AFTER, HeaderValue::from_static("5"))];
        return (StatusCode::SERVICE_UNAVAILABLE, retry, why).into_response();
    }
    let response = next.run(request).await;
    let id = response
        .headers()
        .get(SESSION_ID)
        .and_then(|v| v.to_str().ok());
    if let Some(id) = id.map(str::to_owned) {
        gate.unused.lock().insert(id.clone());
        let gate = gate.clone();
        tokio::spawn(async move {
            tokio::time::sleep(UNUSED_SESSION_TIMEOUT).await;
            if gate.unused.lock().remove(&id) {
                let _ = gate.sessions.close_session(&id.into()).await;
            }
        });
    }
    response
}

/// Serves `server` over Streamable HTTP until SIGTERM or SIGINT.
pub async fn serve(server: BalanceServer, options: Options) -> Result<(), String> {
    let listener = Server::bind(options.listen).await?;
    let local = listener.local_addr()?;

    let hosts = crate::server::loopback_hosts(local.ip());
    let mut origins: Vec<String> = hosts
        .iter()
        .map(|host| format!("http://{host}:{}", local.port()))
        .collect();
    origins.extend(options.allow_origins);
    let config = StreamableHttpServerConfig::default()
        .with_max_request_body_bytes(MAX_BODY)
        .with_allowed_origins(origins)
        .enforce_origin_validation();
    let config = if options.allow_remote {
        // Other machines reach it by names it cannot know; the token and the Origin check
        // guard it there.
        config.disable_allowed_hosts()
    } else {
        config.with_allowed_hosts(hosts.iter().map(|host| format!("{host}:{}", local.port())))
    };
    let sessions_done = config.cancellation_token.clone();
    let mut sessions = LocalSessionManager::default();
    sessions.session_config.keep_alive = Some(IDLE_SESSION_TIMEOUT);
    let sessions = Arc::new(sessions);
    let mcp = StreamableHttpService::new(move || Ok(server.clone()), sessions.clone(), config);
    let gate = Arc::new(Gate {
        token: options.token,
        sessions,
        max_sessions: options.max_sessions,
        opening: tokio::sync::Mutex::new(()),
        unused: Mutex::default(),
        streaming: Arc::default(),
    });
    let app = axum::Router::new()
        .route_service("/mcp", mcp)
        .route_layer(axum::middleware::from_fn_with_state(gate, admit))
        .fallback(|| async { (StatusCode::NOT_FOUND, "Not Found: the MCP endpoint is /mcp") });

    if options.allow_remote && !local.ip().is_loopback() {
        eprintln!(
            "balance-mcp: --allow-remote: plain HTTP on {local}; the token crosses the network \
             in clear unless a TLS proxy is in front"
        );
    }
    eprintln!("balance-mcp: listening on http://{local}/mcp");
    // Ending every session ends the event streams held open for them, so connections can close.
    listener.run(app, move || sessions_done.cancel()).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalized_and_non_origins_refused() {
        assert_eq!(
            origin("https://App.Example.com").as_deref(),
            Some("https://app.example.com:443")
        );
        assert_eq!(
            origin("http://localhost:6274/").as_deref(),
            Some("http://localhost:6274")
        );
        assert_eq!(
            origin("http://[::1]:8080").as_deref(),
            Some("http://[::1]:8080")
        );
        for bad in [
            "http://localhost:*",
            "https://app.example.com:99999",
            "https://app.example.com#fragment",
            "http://*.example.com",
            "app.example.com",
            "ftp://example.com",
            "https://example.com/path",
            "https://user@example.com",
            "https://example.com/?q=1",
            "null",
            "",
        ] {
            assert_eq!(origin(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_a_bearer_with_the_exact_token_is_admitted() {
        let token = Token(SecretString::from("0123456789abcdef0123"));
        let with = |values: &[&str]| {
            let mut headers = axum::http::HeaderMap::new();
            for v in values {
                headers.append(AUTHORIZATION, HeaderValue::from_str(v).expect("header"));
            }
            token.admits(&headers)
        };
        assert!(with(&["Bearer 0123456789abcdef0123"]));
        assert!(with(&["bearer 0123456789abcdef0123"]));
        assert!(!with(&[]));
        assert!(!with(&["Bearer 0123456789abcdef012"]));
        assert!(!with(&["Bearer 0123456789abcdef01234"]));
        assert!(!with(&["Bearer 0123456789ABCDEF0123"]));
        assert!(!with(&["Basic 0123456789abcdef0123"]));
        assert!(!with(&["0123456789abcdef0123"]));
        assert!(!with(&["Bearer"]));
        assert!(!with(&[
            "Bearer 0123456789abcdef0123",
            "Bearer 0123456789abcdef0123"
        ]));
    }
}
