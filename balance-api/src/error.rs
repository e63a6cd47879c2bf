//! The one [`Error`] type, and the typed Twilio API error inside it.

use crate::{GiveUp, InvalidCredentials, InvalidSid};
use reqwest::StatusCode;
use std::fmt;
use std::time::Duration;

/// Everything that can go wrong fetching a balance. Each variant says which layer failed, so a
/// caller can tell a refused SID from a Twilio error, a timeout, a dead connection or bad JSON.
///
/// ```
/// use balance_api::Error;
///
/// fn advice(err: &Error) -> &'static str {
///     match err {
///         Error::Api(api) if api.status == 401 => "check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN",
///         Error::Timeout(_) | Error::Transport(_) => "network trouble; try again",
///         _ => "see the message",
///     }
/// }
/// # let _ = advice;
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A string that is not an Account SID; nothing was sent.
    #[error(transparent)]
    InvalidSid(#[from] InvalidSid),
    /// A setting is missing or malformed; nothing was sent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Twilio answered with its error body (`code`, `message`, `more_info`).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// An error status whose body is not Twilio's error JSON (a proxy's HTML page, say).
    #[error(transparent)]
    Http(Box<HttpError>),
    /// The request did not complete within the configured timeout.
    #[error("timed out: {0}")]
    Timeout(#[source] reqwest::Error),
    /// The connection failed or broke (refused, reset, TLS, DNS).
    #[error("transport error: {0}")]
    Transport(#[source] reqwest::Error),
    /// A 200 response whose body is not the documented balance.
    #[error(transparent)]
    Decode(Box<DecodeError>),
    /// The response body was longer than the client's cap (64 KiB by default); reading stopped there.
    #[error("the response body exceeds the {limit} byte cap")]
    BodyTooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The retry policy's overall deadline passed during an attempt.
    #[error("the {0:?} deadline passed during an attempt")]
    Deadline(Duration),
    /// More than one attempt was made (or a `Retry-After` was refused) and none succeeded.
    #[error("gave up after {attempts} attempt{} ({reason}): {last}", if *.attempts == 1 { "" } else { "s" })]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// Why retrying stopped.
        reason: GiveUp,
        /// The last attempt's error.
        #[source]
        last: Box<Error>,
    },
    /// The request could not be built or a hook refused it; nothing was sent.
    #[error("could not send the request: {0}")]
    Request(String),
}

impl Error {
    /// The HTTP status, when a response arrived (the last attempt's, after retries).
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(e) => Some(e.status),
            Self::Http(e) => Some(e.status),
            Self::Timeout(e) | Self::Transport(e) => e.status(),
            Self::GaveUp { last, .. } => last.status(),
            _ => None,
        }
    }

    /// Twilio's `Twilio-Request-Id`, when a response carried one: quote it to Twilio support.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api(e) => e.request_id.as_deref(),
            Self::Http(e) => e.request_id.as_deref(),
            Self::GaveUp { last, .. } => last.request_id(),
            _ => None,
        }
    }

    /// The wait a response's `Retry-After` header asked for.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api(e) => e.retry_after,
            Self::Http(e) => e.retry_after,
            Self::GaveUp { last, .. } => last.retry_after(),
            _ => None,
        }
    }

    /// The error itself, or after retries the last attempt's: match on this to handle causes.
    pub fn last_cause(&self) -> &Error {
        match self {
            Self::GaveUp { last, .. } => last.last_cause(),
            other => other,
        }
    }
}

impl From<InvalidCredentials> for Error {
    fn from(e: InvalidCredentials) -> Self {
        Self::Config(ConfigError {
            variable: None,
            problem: e.to_string(),
        })
    }
}

/// A missing or malformed setting. Names the environment variable when one was read, and never
/// repeats a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The environment variable at fault, if the setting came from the environment.
    pub variable: Option<&'static str>,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    pub(crate) fn new(problem: impl Into<String>) -> Self {
        Self {
            variable: None,
            problem: problem.into(),
        }
    }

    pub(crate) fn var(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable: Some(variable),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.variable {
            Some(var) => write!(f, "{var}: {}", self.problem),
            None => write!(f, "configuration: {}", self.problem),
        }
    }
}

/// Twilio's error response: `{"code":20404,"message":"…","more_info":"…","status":404}`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = httpmock::MockServer::start_async().await;
/// # server.mock_async(|when, then| { when.any_request(); then.status(404)
/// #     .body(r#"{"code":20404,"message":"Not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#); }).await;
/// # let creds = balance_api::Credentials::auth_token("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?, "token")?;
/// # let client = balance_api::Client::builder().credentials(creds).base_url(server.base_url()).build()?;
/// match client.fetch_balance().await {
///     Err(balance_api::Error::Api(api)) => {
///         assert_eq!((api.status.as_u16(), api.code), (404, Some(20404)));
///         assert_eq!(api.more_info.as_deref(), Some("https://www.twilio.com/docs/errors/20404"));
///     }
///     other => panic!("expected Twilio's 404, got {other:?}"),
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ApiError {
    /// The HTTP status of the response.
    pub status: StatusCode,
    /// Twilio's error code (see `more_info`), e.g. 20404 or 20003.
    pub code: Option<u32>,
    /// Twilio's message.
    pub message: String,
    /// A link to Twilio's page for the code.
    pub more_info: Option<String>,
    /// `detail` or `details`, when Twilio sent them, as JSON text.
    pub details: Option<String>,
    /// The `Twilio-Request-Id` response header.
    pub request_id: Option<String>,
    /// The response's `Retry-After`, parsed.
    pub retry_after: Option<Duration>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(
                f,
                "Twilio error {code} (HTTP {}): {}",
                self.status, self.message
            )?,
            None => write!(f, "Twilio error (HTTP {}): {}", self.status, self.message)?,
        }
        if let Some(details) = &self.details {
            write!(f, " ({details})")?;
        }
        if let Some(link) = &self.more_info {
            write!(f, "; see {link}")?;
        }
        Ok(())
    }
}

/// An unexpected status whose body is not Twilio's error JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct HttpError {
    /// The HTTP status of the response.
    pub status: StatusCode,
    /// The start of the body, lossily decoded and cut to a few hundred characters.
    pub snippet: String,
    /// The `Twilio-Request-Id` response header, if any.
    pub request_id: Option<String>,
    /// The response's `Retry-After`, parsed.
    pub retry_after: Option<Duration>,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.snippet.is_empty() {
            write!(f, "HTTP {} with an empty body", self.status)
        } else {
            write!(f, "HTTP {}: {:?}", self.status, self.snippet)
        }
    }
}

/// A 200 response that is not the documented balance.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body is not the documented JSON object (bad JSON, wrong types, a malformed SID).
    #[error("the response is not the documented balance: {reason}; body starts {snippet:?}")]
    Json {
        /// Why serde_json refused it. Text rather than the error value: serde_json quotes body
        /// strings in its messages, and this text has been scrubbed of the client's secret.
        reason: String,
        /// The start of the body.
        snippet: String,
    },
    /// `balance` is present but is not a decimal number; the raw text is kept.
    #[error("the balance {:?} is not a decimal number", cut(raw))]
    Balance {
        /// The value exactly as Twilio sent it.
        raw: String,
    },
    /// `balance` is a decimal number beyond what can be held exactly (28 significant digits).
    #[error("the balance {:?} is out of the exact decimal range", cut(raw))]
    BalanceOutOfRange {
        /// The value exactly as Twilio sent it.
        raw: String,
    },
    /// The 200 response is labelled other than `application/json`, the only type the spec
    /// documents for it.
    #[error("the response's content type is {0:?}, not application/json")]
    ContentType(String),
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Self::Decode(Box::new(e))
    }
}

/// The first few hundred characters of a body, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    cut(String::from_utf8_lossy(body).trim())
}

/// At most 200 characters of `text`, the cut marked.
fn cut(text: &str) -> String {
    const MAX_CHARS: usize = 200;
    match text.char_indices().nth(MAX_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}
