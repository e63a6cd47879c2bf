//! Turning what the generated client returns into a [`Balance`] or an [`Error`].

use crate::error::{Decode, Kind};
use crate::{AccountSid, Balance, Error};
use balance_api_gen::fetch_balance;
use progenitor_client::ResponseValue;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION, RETRY_AFTER};
use serde::Deserialize;

/// A 200: the documented body, labelled as JSON, for the account asked for.
pub(crate) fn balance(
    value: ResponseValue<fetch_balance::Response>,
    requested: &AccountSid,
) -> Result<Balance, Error> {
    // The spec documents only application/json for the 200; a missing header is tolerated.
    if let Some(raw) = value.headers().get(CONTENT_TYPE) {
        let raw = String::from_utf8_lossy(raw.as_bytes());
        let essence = raw.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/json") && !essence.ends_with("+json") {
            let raw = raw.into_owned();
            return Err(Error::decode(Decode::ContentType { raw }));
        }
    }
    Balance::from_generated(value.into_inner(), Some(requested), None).map_err(Error::decode)
}

/// Everything else the generated client can return. `max_body` is the cap its hooks enforce.
pub(crate) async fn error(err: progenitor_client::Error<()>, max_body: usize) -> Error {
    use progenitor_client::Error as G;
    match err {
        G::ResponseBodyError(e) if balance_api_gen::is_body_too_large(&e) => {
            Error::decode(Decode::TooLarge { limit: max_body })
        }
        G::InvalidResponsePayload(body, e) => Error::decode(Decode::Json {
            reason: e.to_string(),
            body: String::from_utf8_lossy(&body).into_owned(),
        }),
        G::UnexpectedResponse(response) => from_status(response).await,
        G::CommunicationError(e) | G::ResponseBodyError(e) | G::InvalidUpgrade(e) => {
            Error::transport(e)
        }
        G::ErrorResponse(response) => error_from_parts(response.status(), response.headers(), b""),
        // Only a bad parameter or a hook makes the others: no request went out.
        other => Error::unsent(other.to_string()),
    }
}

/// An undocumented status: the body (already bounded by the hooks' cap), decoded as Twilio's
/// error JSON when it is one.
async fn from_status(response: reqwest::Response) -> Error {
    let (status, headers) = (response.status(), response.headers().clone());
    match response.bytes().await {
        Ok(body) => error_from_parts(status, &headers, &body),
        // Nothing arrived in time: that is the failure to report.
        Err(e) if e.is_timeout() => Error::transport(e),
        // Over the cap, or broken part-way: the status still says what happened.
        Err(_) => {
            let mut err = error_from_parts(status, &headers, b"");
            if let Kind::Http { incomplete, .. } = err.kind_mut() {
                *incomplete = true;
            }
            err
        }
    }
}

/// Twilio's error JSON when the body is one, else the status and the body as text. Total: any
/// bytes give an error value.
pub(crate) fn error_from_parts(status: StatusCode, headers: &HeaderMap, body: &[u8]) -> Error {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
    };
    let retry_after = text(RETRY_AFTER)
        .and_then(|v| crate::retry::parse_retry_after(v, std::time::SystemTime::now()));
    let location = status
        .is_redirection()
        .then(|| text(LOCATION).unwrap_or("?").to_owned());
    let kind = match serde_json::from_slice::<TwilioError>(body) {
        Ok(e) if location.is_none() && (e.code.is_some() || e.message.is_some()) => Kind::Api {
            code: e.code,
            message: e.message.unwrap_or_default(),
            more_info: e.more_info,
            details: e.details.or(e.detail).map(|d| match d {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            }),
        },
        _ => Kind::Http {
            body: String::from_utf8_lossy(body).into_owned(),
            incomplete: false,
            location,
        },
    };
    Error::status_error(kind, status, retry_after)
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
            prop_assert_eq!(err.code(), Some(code));
            prop_assert_eq!(err.message(), Some(message.as_str()));
            prop_assert_eq!(err.more_info(), Some(link.as_str()));
        }
    }
}
