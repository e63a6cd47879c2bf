//! The demo server: the spec's documented example (or, when it documents none, a body made from
//! the response schema; see [`balance_api_gen::DEMO_RESPONSE_SOURCE`]), served on loopback
//! behind the same basic auth check Twilio makes, so the whole path (request, auth header,
//! decode) runs with no account at all.

use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use balance_api::{AccountSid, BuildError, Client, ClientBuilder, Credentials};
use tokio::net::TcpListener;

const DEMO_TOKEN: &str = "demo-auth-token-00000000000000000";
const DEMO_REQUEST_ID: &str = "RQdemo0000000000000000000000000000";
const REQUEST_ID: HeaderName = HeaderName::from_static(balance_api::REQUEST_ID_HEADER);
const UNAUTHORIZED: &str = r#"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#;
const NOT_FOUND: &str = r#"{"code":20404,"message":"The requested resource was not found on the demo server","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#;

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
            .map_err(|e| format!("{}: {e}", balance_api_gen::DEMO_RESPONSE_SOURCE))?;
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
        // Twilio-shaped answers: 401 before anything else, then the one resource or a 404.
        let app =
            axum::Router::new().fallback(move |method: Method, uri: Uri, headers: HeaderMap| {
                let authorized = headers
                    .get(AUTHORIZATION)
                    .is_some_and(|v| v == auth.as_str());
                let (status, body) = if !authorized {
                    (StatusCode::UNAUTHORIZED, UNAUTHORIZED)
                } else if method == Method::GET && uri.path() == path {
                    (StatusCode::OK, balance_api_gen::DEMO_RESPONSE)
                } else {
                    (StatusCode::NOT_FOUND, NOT_FOUND)
                };
                let headers = [
                    (CONTENT_TYPE, "application/json"),
                    (REQUEST_ID, DEMO_REQUEST_ID),
                ];
                async move { (status, headers, body) }
            });
        tokio::spawn(async move { axum::serve(listener, app).await });
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
            .credentials(Credentials::auth_token(self.account.clone(), DEMO_TOKEN)?)
            .base_url(&self.base_url)
            .no_proxy())
    }
}
