//! [`Response`] metadata, and turning whatever the server sent into a value or an [`Error`].

use crate::Error;
use crate::error::{ApiError, HttpError, snippet};
use crate::redact::Scrubber;
use reqwest::StatusCode;
use reqwest::header::HeaderMap;
use serde::Deserialize;

/// Largest error body read; Twilio's are a few hundred bytes, and a proxy's page needs only a
/// snippet. Reading stops here, so a huge body costs no memory.
pub(crate) const MAX_ERROR_BODY: usize = 64 * 1024;

/// A value with the HTTP metadata it came with (what official SDKs call "with http info").
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = httpmock::MockServer::start_async().await;
/// # server.mock_async(|when, then| { when.any_request(); then.status(200)
/// #     .header("twilio-request-id", "RQ0123456789abcdef0123456789abcdef")
/// #     .body(r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"0.05","currency":"USD"}"#); }).await;
/// # let creds = balance_api::Credentials::auth_token("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?, "token")?;
/// # let client = balance_api::Client::builder().credentials(creds).base_url(server.base_url()).build()?;
/// let response = client.fetch_balance_with_info(client.account_sid()).await?;
/// assert_eq!(response.status(), 200);
/// assert_eq!(response.request_id(), Some("RQ0123456789abcdef0123456789abcdef"));
/// assert_eq!(response.value().to_string(), "0.05 USD");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Response<T> {
    value: T,
    status: StatusCode,
    headers: HeaderMap,
}

impl<T> Response<T> {
    pub(crate) fn new(value: T, status: StatusCode, headers: HeaderMap) -> Self {
        Self {
            value,
            status,
            headers,
        }
    }

    /// The decoded value.
    pub fn value(&self) -> &T {
        &self.value
    }

    /// The decoded value, dropping the metadata.
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// All response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The `Twilio-Request-Id` header: quote it to Twilio support.
    pub fn request_id(&self) -> Option<&str> {
        request_id(&self.headers)
    }
}

pub(crate) fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get("twilio-request-id")
        .and_then(|v| v.to_str().ok())
}

/// Maps the generated client's error to ours; reads (a bounded part of) error bodies.
/// `max_body` is the cap the generated client's hooks enforce.
/// Server text is scrubbed of the secret before anything is cut to a snippet, so a secret
/// straddling the cut cannot survive in part.
pub(crate) async fn from_generated(
    err: progenitor_client::Error<()>,
    max_body: usize,
    scrubber: &Scrubber,
) -> Error {
    use progenitor_client::Error as G;
    match err {
        G::ResponseBodyError(e) if balance_api_gen::is_body_too_large(&e) => {
            Error::BodyTooLarge { limit: max_body }
        }
        G::CommunicationError(e) | G::ResponseBodyError(e) | G::InvalidUpgrade(e) => transport(e),
        G::InvalidResponsePayload(body, e) => crate::DecodeError::Json {
            reason: scrubber.text(e.to_string()),
            snippet: snippet(&scrubber.bytes(&body)),
        }
        .into(),
        G::UnexpectedResponse(response) => from_status(response, scrubber).await,
        G::ErrorResponse(rv) => Error::Http(Box::new(HttpError {
            status: rv.status(),
            snippet: String::new(),
            request_id: request_id(rv.headers()).map(str::to_owned),
            retry_after: retry_after(rv.headers()),
        })),
        G::InvalidRequest(why) | G::Custom(why) => Error::Request(why),
    }
}

fn retry_after(headers: &HeaderMap) -> Option<std::time::Duration> {
    let value = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
    crate::parse_retry_after(value, std::time::SystemTime::now())
}

/// The spec documents only `application/json` for the 200; a missing header is tolerated.
pub(crate) fn check_content_type(headers: &HeaderMap) -> Result<(), crate::DecodeError> {
    let Some(value) = headers.get(reqwest::header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let essence = text
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(())
    } else {
        Err(crate::DecodeError::ContentType(text.into_owned()))
    }
}

pub(crate) fn transport(e: reqwest::Error) -> Error {
    if e.is_timeout() {
        Error::Timeout(e)
    } else {
        Error::Transport(e)
    }
}

/// An undocumented status: reads at most [`MAX_ERROR_BODY`] bytes of the body, then decodes.
async fn from_status(mut response: reqwest::Response, scrubber: &Scrubber) -> Error {
    let mut body = Vec::new();
    if !response.status().is_redirection() {
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = MAX_ERROR_BODY - body.len();
                    body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if body.len() == MAX_ERROR_BODY {
                        break;
                    }
                }
                Ok(None) => break,
                // Nothing arrived in time: that is the failure to report.
                Err(e) if body.is_empty() && e.is_timeout() => return Error::Timeout(e),
                // A body broken part-way is still an error status; report what arrived.
                Err(_) => break,
            }
        }
    }
    error_from_parts(
        response.status(),
        response.headers(),
        &scrubber.bytes(&body),
    )
}

/// Twilio's error JSON when the body is one, else the status and a snippet. Total: any bytes
/// give an error value.
pub(crate) fn error_from_parts(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
    let request_id = request_id(headers).map(str::to_owned);
    let retry_after = retry_after(headers);
    if status.is_redirection() {
        let location = headers.get("location").and_then(|v| v.to_str().ok());
        return Error::Http(Box::new(HttpError {
            status,
            snippet: format!("redirect to {} not followed", location.unwrap_or("?")),
            request_id,
            retry_after,
        }));
    }
    match serde_json::from_slice::<TwilioError>(body) {
        Ok(e) if e.code.is_some() || e.message.is_some() => Error::Api(Box::new(ApiError {
            status,
            code: e.code,
            message: e.message.unwrap_or_default(),
            more_info: e.more_info,
            details: e.details.or(e.detail).map(|d| match d {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }),
            request_id,
            retry_after,
        })),
        _ => Error::Http(Box::new(HttpError {
            status,
            snippet: snippet(body),
            request_id,
            retry_after,
        })),
    }
}

/// Twilio's documented error body; every field optional, so a partial one still decodes.
#[derive(Deserialize)]
struct TwilioError {
    code: Option<u32>,
    message: Option<String>,
    more_info: Option<String>,
    detail: Option<serde_json::Value>,
    details: Option<serde_json::Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any bytes under any status give an error value, never a panic.
        #[test]
        fn error_bodies_never_panic(status in 300u16..600, body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let status = StatusCode::from_u16(status).expect("in range");
            let err = error_from_parts(status, &HeaderMap::new(), &body);
            prop_assert_eq!(err.status(), Some(status));
            let _ = err.to_string();
        }

        /// Twilio's shape decodes whatever its field values.
        #[test]
        fn twilio_error_bodies_decode(code in any::<u32>(), message in "\\PC{0,50}", link in "\\PC{0,30}") {
            let body = serde_json::json!({"code": code, "message": message, "more_info": link, "status": 404});
            let err = error_from_parts(StatusCode::NOT_FOUND, &HeaderMap::new(), body.to_string().as_bytes());
            match err {
                Error::Api(api) => {
                    prop_assert_eq!(api.code, Some(code));
                    prop_assert_eq!(api.message, message);
                    prop_assert_eq!(api.more_info, Some(link));
                }
                other => prop_assert!(false, "expected an API error, got {other:?}"),
            }
        }
    }
}
