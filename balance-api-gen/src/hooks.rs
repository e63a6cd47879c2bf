//! Transport policy at the one seam progenitor leaves for it, `ClientHooks::exec`.
//!
//! Rust's orphan rule puts this impl beside the generated `Client`, so it lives in this crate;
//! its values come from the caller through [`RequestSettings`] (progenitor's "inner type"), so
//! nothing here knows about Twilio. Without it the generated code would read a 200 body of any size
//! into memory before decoding it.

use crate::Client;
use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{HeaderName, HeaderValue};
use std::cell::RefCell;
use std::future::Future;

tokio::task_local! {
    /// The header [`noting_header`] watches for, and its value on the last response.
    static NOTED: (HeaderName, RefCell<Option<HeaderValue>>);
}

/// Runs `call` (one of the generated operations) and returns, beside its output, the value of
/// the header `name` on the last response it received. Progenitor's errors keep no headers, so
/// without this a 200 whose body does not decode would lose, say, its request id.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// use reqwest::header::HeaderName;
///
/// let client = balance_api_gen::Client::new_with_client(
///     "http://127.0.0.1:9", // nothing listens: no response, so no header
///     reqwest::Client::new(),
///     balance_api_gen::RequestSettings::default(),
/// );
/// let sid = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse().expect("a SID");
/// let name = HeaderName::from_static("twilio-request-id");
/// let (result, seen) = balance_api_gen::noting_header(name, client.fetch_balance(&sid)).await;
/// assert!(result.is_err() && seen.is_none());
/// # }
/// ```
pub async fn noting_header<F: Future>(
    name: HeaderName,
    call: F,
) -> (F::Output, Option<HeaderValue>) {
    NOTED
        .scope((name, RefCell::new(None)), async {
            let output = call.await;
            (output, NOTED.with(|(_, seen)| seen.take()))
        })
        .await
}

/// What the hooks apply to each request of one client. Clients that share a `reqwest::Client`
/// (one connection pool and TLS setup) differ here: each its own credentials and limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSettings {
    /// Largest response body read; a longer one fails with a body error at that point.
    pub max_body: usize,
    /// The `Authorization` header each request carries, if any.
    pub authorization: Option<reqwest::header::HeaderValue>,
    /// Time for each request, body included, if bounded.
    pub timeout: Option<std::time::Duration>,
}

impl Default for RequestSettings {
    /// 64 KiB: a balance response is under 200 bytes, an error body under 1 KiB; no
    /// `Authorization`, no timeout beyond the `reqwest::Client`'s.
    fn default() -> Self {
        Self {
            max_body: 64 * 1024,
            authorization: None,
            timeout: None,
        }
    }
}

impl ClientHooks<RequestSettings> for Client {
    async fn exec(
        &self,
        mut request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let settings = self.inner();
        if let Some(authorization) = &settings.authorization {
            let headers = request.headers_mut();
            headers.insert(reqwest::header::AUTHORIZATION, authorization.clone());
        }
        if let Some(timeout) = settings.timeout {
            *request.timeout_mut() = Some(timeout);
        }
        let response = self.client().execute(request).await?;
        let _ = NOTED.try_with(|(name, seen)| {
            *seen.borrow_mut() = response.headers().get(name).cloned();
        });
        let limit = settings.max_body;
        // A declared length within the cap is all hyper reads of this body: nothing to bound.
        if response.content_length().is_some_and(|n| n <= limit as u64) {
            return Ok(response);
        }
        let url = response.url().clone();
        let (mut parts, body) = http::Response::from(response).into_parts();
        // The round trip through http::Response drops the URL reqwest's errors name; carry it
        // over in the extension reqwest reads it from (only its builder can make one).
        use reqwest::ResponseBuilderExt;
        if let Ok(carrier) = http::Response::builder().url(url).body(()) {
            parts.extensions.extend(carrier.into_parts().0.extensions);
        }
        // The body keeps reqwest's own timeouts; Limited only adds the size bound.
        let body = reqwest::Body::wrap(http_body_util::Limited::new(body, limit));
        Ok(reqwest::Response::from(http::Response::from_parts(
            parts, body,
        )))
    }
}

/// Whether `err` (or any error it wraps) is a body that went over [`RequestSettings::max_body`].
///
/// ```
/// let plain = std::io::Error::other("reset");
/// assert!(!balance_api_gen::is_body_too_large(&plain));
/// ```
pub fn is_body_too_large(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(err);
    while let Some(e) = current {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        current = e.source();
    }
    false
}
