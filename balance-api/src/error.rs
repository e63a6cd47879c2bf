//! The one [`Error`] type and the details inside it.

use crate::untrusted::Shown;
use crate::{AccountSid, InvalidAmount, InvalidCredentials, InvalidSid, StopReason};
use reqwest::StatusCode;
use std::fmt;
use std::time::Duration;

/// Everything that can go wrong fetching a balance. The variant says which layer failed, and
/// it is the same whether or not retries happened first: after retries the error *is* the
/// last attempt's, and [`attempts`](Self::attempts) and [`stop_reason`](Self::stop_reason)
/// say what the retrying did.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = httpmock::MockServer::start_async().await;
/// # server.mock_async(|when, then| { when.any_request(); then.status(404)
/// #     .body(r#"{"code":20404,"message":"Not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#); }).await;
/// # let creds = balance_api::Credentials::auth_token("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?, "token")?;
/// # let client = balance_api::Client::builder().credentials(creds).base_url(server.base_url()).build()?;
/// use balance_api::Error;
///
/// let advice = match client.fetch_balance().await {
///     Ok(balance) => format!("{balance}"),
///     Err(Error::Api(api)) if api.code == Some(20404) => "no such account".to_owned(),
///     Err(Error::Api(api)) if api.status == 401 => "check the credentials".to_owned(),
///     Err(e) if e.is_timeout() => format!("Twilio did not answer in time: {e}"),
///     Err(e) if e.is_retryable() => format!("still failing after {} attempts: {e}", e.attempts()),
///     Err(e) => format!("{e}"),
/// };
/// assert_eq!(advice, "no such account");
/// # Ok(()) }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A string that is not an Account SID; nothing was sent.
    #[error(transparent)]
    InvalidSid(#[from] InvalidSid),
    /// A setting is missing or malformed, or the client was misused; nothing was sent.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Credentials given in code that cannot be right; nothing was sent.
    #[error(transparent)]
    Credentials(#[from] InvalidCredentials),
    /// Twilio answered with its error body (`code`, `message`, `more_info`).
    #[error(transparent)]
    Api(Box<ApiError>),
    /// An error status whose body is not Twilio's error JSON (a proxy's HTML page, a redirect).
    #[error(transparent)]
    Http(Box<HttpError>),
    /// No complete response in time: the per-request timeout or the retry deadline passed.
    #[error(transparent)]
    Timeout(Box<TransportError>),
    /// The connection failed or broke (refused, reset, TLS, DNS, not HTTP).
    #[error(transparent)]
    Transport(Box<TransportError>),
    /// A 200 response that is not the documented balance.
    #[error(transparent)]
    Decode(Box<DecodeError>),
}

/// What the retry loop did before returning an error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RetryRecord {
    pub(crate) attempts: u32,
    pub(crate) stop: Option<StopReason>,
}

impl fmt::Display for RetryRecord {
    /// Silent for the common single attempt; otherwise says how many and why they stopped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let telling = matches!(
            self.stop,
            Some(StopReason::Deadline(_) | StopReason::RetryAfterTooLong { .. })
        );
        match self.stop {
            Some(stop) if self.attempts == 0 => write!(f, "; no request sent: {stop}"),
            Some(stop) if self.attempts > 1 || telling => {
                let s = if self.attempts == 1 { "" } else { "s" };
                write!(f, "; gave up after {} attempt{s}: {stop}", self.attempts)
            }
            _ => Ok(()),
        }
    }
}

impl Error {
    fn retry_record(&self) -> Option<&RetryRecord> {
        match self {
            Self::Api(e) => Some(&e.retries),
            Self::Http(e) => Some(&e.retries),
            Self::Timeout(e) | Self::Transport(e) => Some(&e.retries),
            Self::Decode(e) => Some(&e.retries),
            Self::InvalidSid(_) | Self::Config(_) | Self::Credentials(_) => None,
        }
    }

    pub(crate) fn set_retry_record(&mut self, record: RetryRecord) {
        match self {
            Self::Api(e) => e.retries = record,
            Self::Http(e) => e.retries = record,
            Self::Timeout(e) | Self::Transport(e) => e.retries = record,
            Self::Decode(e) => e.retries = record,
            Self::InvalidSid(_) | Self::Config(_) | Self::Credentials(_) => {}
        }
    }

    /// Advice the client adds to a server's refusal when it knows the likely cause, e.g. that
    /// main-account API keys cannot read subaccounts.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            Self::Api(e) => e.hint,
            Self::Http(e) => e.hint,
            _ => None,
        }
    }

    /// Names the response a decode error came from (the other variants read their own).
    pub(crate) fn set_decode_request_id(&mut self, request_id: Option<String>) {
        if let Self::Decode(e) = self {
            e.request_id = request_id;
        }
    }

    pub(crate) fn set_hint(&mut self, hint: &'static str) {
        match self {
            Self::Api(e) => e.hint = Some(hint),
            Self::Http(e) => e.hint = Some(hint),
            _ => {}
        }
    }

    /// Requests made before this error was returned: 0 when nothing was sent.
    pub fn attempts(&self) -> u32 {
        self.retry_record().map_or(0, |t| t.attempts)
    }

    /// Why retrying stopped, when a request was made.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.retry_record()?.stop
    }

    /// The HTTP status, when a response arrived (the last attempt's).
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api(e) => Some(e.status),
            Self::Http(e) => Some(e.status),
            Self::Decode(_) => Some(StatusCode::OK),
            _ => None,
        }
    }

    /// Twilio's `Twilio-Request-Id`, when the response carried one (a malformed 200's too):
    /// quote it to support.
    pub fn request_id(&self) -> Option<&str> {
        match self {
            Self::Api(e) => e.request_id.as_deref(),
            Self::Http(e) => e.request_id.as_deref(),
            Self::Decode(e) => e.request_id.as_deref(),
            _ => None,
        }
    }

    /// The wait the response's `Retry-After` header asked for.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Api(e) => e.retry_after,
            Self::Http(e) => e.retry_after,
            _ => None,
        }
    }

    /// Whether the request ran out of time (per request, or the retry deadline).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Self::Timeout(_))
    }

    /// Whether the connection could not be established (refused, DNS, TLS, proxy).
    pub fn is_connect(&self) -> bool {
        matches!(self, Self::Transport(e) if e.source.as_ref().is_some_and(reqwest::Error::is_connect))
    }

    /// Whether the same request could plausibly succeed later: timeouts, broken connections,
    /// and HTTP 408, 429, 500, 502, 503 and 504. The client's own retries use this rule.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout(_) => true,
            Self::Transport(e) => e.retryable,
            Self::Api(_) | Self::Http(_) => self
                .status()
                .is_some_and(|s| matches!(s.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)),
            _ => false,
        }
    }
}

impl From<DecodeErrorKind> for Error {
    fn from(kind: DecodeErrorKind) -> Self {
        Self::Decode(Box::new(DecodeError {
            kind,
            request_id: None,
            retries: RetryRecord::default(),
        }))
    }
}

/// A missing or malformed setting. Names the environment variable when one was read, and never
/// repeats a value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct ConfigError {
    /// The environment variable at fault, if the setting came from the environment.
    pub variable: Option<&'static str>,
    /// What is wrong with it.
    pub problem: String,
}

impl ConfigError {
    /// A problem with a setting given in code.
    pub fn new(problem: impl Into<String>) -> Self {
        Self {
            variable: None,
            problem: problem.into(),
        }
    }

    /// A problem with an environment variable.
    pub fn var(variable: &'static str, problem: impl Into<String>) -> Self {
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
/// Its text fields are the server's, scrubbed of the client's secret; `Display` escapes their
/// control characters and bounds their length.
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
    pub(crate) retries: RetryRecord,
    pub(crate) hint: Option<&'static str>,
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Twilio error ")?;
        if let Some(code) = self.code {
            write!(f, "{code} ")?;
        }
        write!(
            f,
            "(HTTP {}): {}",
            self.status,
            Shown::escaped_long(&self.message)
        )?;
        if let Some(details) = &self.details {
            write!(f, " ({})", Shown::escaped_long(details))?;
        }
        if let Some(link) = &self.more_info {
            write!(f, "; see {}", Shown::escaped_short(link))?;
        }
        if let Some(hint) = self.hint {
            write!(f, " ({hint})")?;
        }
        write!(f, "{}", self.retries)
    }
}

/// An error status whose body is not Twilio's error JSON, or a redirect (never followed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub struct HttpError {
    /// The HTTP status of the response.
    pub status: StatusCode,
    /// The body as text (lossily decoded, at most the client's body cap); `Display` shows the
    /// start of it.
    pub body: String,
    /// Whether reading the body failed part-way (over the cap, or the connection broke), so
    /// `body` holds only what arrived.
    pub incomplete: bool,
    /// Where a redirect pointed.
    pub location: Option<String>,
    /// The `Twilio-Request-Id` response header, if any.
    pub request_id: Option<String>,
    /// The response's `Retry-After`, parsed.
    pub retry_after: Option<Duration>,
    pub(crate) retries: RetryRecord,
    pub(crate) hint: Option<&'static str>,
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.location, self.body.trim()) {
            (Some(to), _) => write!(
                f,
                "HTTP {}: redirect to {} not followed",
                self.status,
                Shown::escaped_short(to)
            )?,
            (None, "") if self.incomplete => {
                write!(f, "HTTP {} (its body could not be read)", self.status)?
            }
            (None, "") => write!(f, "HTTP {} with an empty body", self.status)?,
            (None, body) => write!(
                f,
                "HTTP {}: \"{}\"",
                self.status,
                Shown::escaped_short(body)
            )?,
        }
        if let Some(hint) = self.hint {
            write!(f, " ({hint})")?;
        }
        write!(f, "{}", self.retries)
    }
}

/// A request that got no (complete) response. `Display` is one line with the innermost cause,
/// such as "transport error: Connection refused (os error 111)";
/// [`source`](std::error::Error::source) is reqwest's error (without its URL), whose own chain
/// leads down to that cause.
#[derive(Debug, thiserror::Error)]
#[error("{} {}{retries}", if *.timed_out { "timed out:" } else { "transport error:" }, Shown::escaped_long(cause))]
pub struct TransportError {
    cause: String,
    #[source]
    source: Option<reqwest::Error>,
    retryable: bool,
    timed_out: bool,
    pub(crate) retries: RetryRecord,
}

impl TransportError {
    pub(crate) fn new(
        cause: String,
        source: Option<reqwest::Error>,
        retryable: bool,
        timed_out: bool,
    ) -> Self {
        Self {
            cause,
            source,
            retryable,
            timed_out,
            retries: RetryRecord::default(),
        }
    }

    /// The innermost cause, as text.
    pub fn cause(&self) -> &str {
        &self.cause
    }

    pub(crate) fn cause_mut(&mut self) -> &mut String {
        &mut self.cause
    }
}

/// A 200 response that is not the documented balance; [`kind`](Self::kind) says how.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind}{retries}")]
#[non_exhaustive]
pub struct DecodeError {
    /// What is wrong with the response.
    pub kind: DecodeErrorKind,
    /// The response's `Twilio-Request-Id`: what Twilio support asks for about a malformed answer.
    pub request_id: Option<String>,
    pub(crate) retries: RetryRecord,
}

impl From<InvalidAmount> for DecodeErrorKind {
    fn from(e: InvalidAmount) -> Self {
        match e {
            InvalidAmount::NotDecimal { raw } => Self::NotDecimal { raw },
            InvalidAmount::OutOfRange { raw } => Self::OutOfRange { raw },
        }
    }
}

/// How a 200 response differs from the documented balance. Raw values are the server's,
/// scrubbed of the client's secret; `Display` escapes and bounds them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The body is not the documented JSON object (bad JSON, wrong types, a malformed SID).
    #[error(
        "the response is not the documented balance: {}; body starts \"{}\"",
        Shown::escaped_long(reason),
        Shown::escaped_short(body)
    )]
    Json {
        /// Why it was refused (serde_json's words).
        reason: String,
        /// The body as text.
        body: String,
    },
    /// `balance` is not a plain decimal (optional `-`, digits, optional `.` and digits).
    #[error("the balance {}", InvalidAmount::NotDecimal { raw: raw.clone() })]
    NotDecimal {
        /// The value exactly as sent.
        raw: String,
    },
    /// `balance` is a decimal beyond what can be held exactly (28 significant digits).
    #[error("the balance {}", InvalidAmount::OutOfRange { raw: raw.clone() })]
    OutOfRange {
        /// The value exactly as sent.
        raw: String,
    },
    /// The 200 is labelled other than `application/json`, the only type the spec documents.
    #[error(
        "the response's content type is \"{}\", not application/json",
        Shown::escaped_short(raw)
    )]
    ContentType {
        /// The `Content-Type` as sent.
        raw: String,
    },
    /// The response names another account than the one asked for.
    #[error(
        "asked for {requested} but the response is for \"{}\"",
        Shown::escaped_short(got)
    )]
    AccountMismatch {
        /// The account asked for.
        requested: AccountSid,
        /// The `account_sid` the response carries.
        got: String,
    },
    /// The body was longer than the client's cap; reading stopped there.
    #[error("the response body exceeds the {limit} byte cap")]
    TooLarge {
        /// The cap, in bytes.
        limit: usize,
    },
}
