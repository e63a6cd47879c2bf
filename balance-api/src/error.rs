//! [`Error`], what a fetch can fail with, and [`BuildError`], what building a client can.

use crate::untrusted::Shown;
use crate::{AccountSid, InvalidAmount, InvalidCredentials, InvalidSid, StopReason};
use reqwest::StatusCode;
use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Why a fetch failed. [`kind`](Self::kind) says which layer; the response's status, request
/// id and `Retry-After`, and what the retries did, are read here whatever the kind. After
/// retries the error is the last attempt's.
///
/// `Display` is one line without the causes; [`source`](StdError::source) leads to them, so
/// anyhow's `{:#}` names each once. Server text is never a source: it is kept as strings,
/// scrubbed of the client's secret, and `Display` escapes and bounds it.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = httpmock::MockServer::start_async().await;
/// # server.mock_async(|when, then| { when.any_request(); then.status(404)
/// #     .body(r#"{"code":20404,"message":"Not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#); }).await;
/// # let creds = balance_api::Credentials::auth_token("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?, "token")?;
/// # let client = balance_api::Client::builder().credentials(creds).base_url(server.base_url()).build()?;
/// use balance_api::ErrorKind;
///
/// let advice = match client.fetch_balance().await {
///     Ok(balance) => format!("{balance}"),
///     Err(e) => match e.kind() {
///         ErrorKind::Api(api) if api.code == Some(20404) => "no such account".to_owned(),
///         _ if e.status().is_some_and(|s| s == 401) => "check the credentials".to_owned(),
///         _ if e.is_timeout() => format!("Twilio did not answer in time: {e}"),
///         _ if e.is_retryable() => format!("still failing after {} attempts: {e}", e.attempts()),
///         _ => format!("{e}"),
///     },
/// };
/// assert_eq!(advice, "no such account");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: ErrorKind,
    status: Option<StatusCode>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    attempts: u32,
    stop: Option<StopReason>,
    hint: Option<&'static str>,
    /// For timeouts and broken connections: whether a new attempt could do better.
    retryable: bool,
    source: Option<BoxError>,
}

/// Which layer a fetch failed in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Twilio answered with its error body (`code`, `message`, `more_info`).
    Api(ApiError),
    /// An error status whose body is not Twilio's error JSON (a proxy's HTML page, a redirect).
    Http(HttpError),
    /// No complete response in time: the per-request timeout or the retry deadline passed.
    Timeout,
    /// The connection failed or broke (refused, reset, TLS, DNS, a reply that is not HTTP).
    Transport,
    /// A 200 response that is not the documented balance.
    Decode(DecodeError),
    /// The blocking client was called inside an async runtime; nothing was sent.
    #[cfg(feature = "blocking")]
    InsideAsyncRuntime,
}

/// Twilio's error response: `{"code":20404,"message":"…","more_info":"…","status":404}`, its
/// text fields the server's, scrubbed of the client's secret.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// Twilio's error code (see `more_info`), e.g. 20404 or 20003.
    pub code: Option<u32>,
    /// Twilio's message.
    pub message: String,
    /// A link to Twilio's page for the code.
    pub more_info: Option<String>,
    /// `detail` or `details`, when Twilio sent them, as JSON text.
    pub details: Option<String>,
}

/// An error status whose body is not Twilio's error JSON, or a redirect (never followed).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpError {
    /// The body as text (lossily decoded, at most the client's body cap).
    pub body: String,
    /// Whether reading the body failed part-way, so `body` holds only what arrived.
    pub incomplete: bool,
    /// Where a redirect pointed.
    pub location: Option<String>,
}

/// How a 200 response differs from the documented balance. Raw values are the server's,
/// scrubbed of the client's secret; `Display` escapes and bounds them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
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
    /// `balance` is not an amount held exactly.
    #[error("the balance {0}")]
    Amount(InvalidAmount),
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

impl Error {
    fn new(kind: ErrorKind, status: Option<StatusCode>) -> Self {
        Self(Box::new(Inner {
            kind,
            status,
            request_id: None,
            retry_after: None,
            attempts: 0,
            stop: None,
            hint: None,
            retryable: false,
            source: None,
        }))
    }

    /// A failed exchange; only failures a new attempt could fix are retryable: not a reply
    /// that is not HTTP, nor a request that could not be built.
    pub(crate) fn transport(e: reqwest::Error) -> Self {
        let e = e.without_url();
        let not_http = (std::iter::successors(e.source(), |&c| c.source())).any(|c| {
            c.downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_parse)
        });
        let kind = if e.is_timeout() {
            ErrorKind::Timeout
        } else {
            ErrorKind::Transport
        };
        let mut err = Self::new(kind, None);
        err.0.retryable = !not_http && !e.is_builder();
        err.0.source = Some(Box::new(e));
        err
    }

    /// A request that could not be made; not worth retrying.
    pub(crate) fn unsent(reason: String) -> Self {
        let mut err = Self::new(ErrorKind::Transport, None);
        err.0.source = Some(reason.into());
        err
    }

    /// The retry deadline passed with no answer in hand; not worth retrying.
    pub(crate) fn deadline(limit: Duration) -> Self {
        let mut err = Self::new(ErrorKind::Timeout, None);
        err.0.source = Some(format!("the {limit:?} deadline passed").into());
        err
    }

    /// One attempt had no complete response within the per-request timeout; a new one may.
    pub(crate) fn attempt_timed_out(limit: Duration) -> Self {
        let mut err = Self::new(ErrorKind::Timeout, None);
        err.0.retryable = true;
        err.0.source = Some(format!("no complete response within the {limit:?} timeout").into());
        err
    }

    /// A response that is not the documented balance.
    pub(crate) fn decode(kind: DecodeError) -> Self {
        Self::new(ErrorKind::Decode(kind), Some(StatusCode::OK))
    }

    /// An error status, with what its response said.
    pub(crate) fn status_error(
        kind: ErrorKind,
        status: StatusCode,
        retry_after: Option<Duration>,
    ) -> Self {
        let mut err = Self::new(kind, Some(status));
        err.0.retry_after = retry_after;
        err
    }

    #[cfg(feature = "blocking")]
    pub(crate) fn inside_async_runtime() -> Self {
        Self::new(ErrorKind::InsideAsyncRuntime, None)
    }

    pub(crate) fn kind_mut(&mut self) -> &mut ErrorKind {
        &mut self.0.kind
    }

    pub(crate) fn set_request_id(&mut self, request_id: Option<String>) {
        self.0.request_id = request_id;
    }

    /// This error, with what the retrying did before it was returned.
    pub(crate) fn with_retries(mut self, attempts: u32, stop: StopReason) -> Self {
        (self.0.attempts, self.0.stop) = (attempts, Some(stop));
        self
    }

    pub(crate) fn set_hint(&mut self, hint: &'static str) {
        self.0.hint = Some(hint);
    }

    /// Every string in it that came from the server, for scrubbing.
    pub(crate) fn server_text(&mut self) -> Vec<&mut String> {
        let inner = &mut *self.0;
        let mut texts: Vec<&mut String> = inner.request_id.iter_mut().collect();
        match &mut inner.kind {
            ErrorKind::Api(e) => texts.extend(
                [&mut e.more_info, &mut e.details]
                    .into_iter()
                    .flatten()
                    .chain([&mut e.message]),
            ),
            ErrorKind::Http(e) => texts.extend(e.location.iter_mut().chain([&mut e.body])),
            ErrorKind::Decode(DecodeError::Json { reason, body }) => texts.extend([reason, body]),
            ErrorKind::Decode(
                DecodeError::ContentType { raw }
                | DecodeError::AccountMismatch { got: raw, .. }
                | DecodeError::Amount(
                    InvalidAmount::NotDecimal { raw } | InvalidAmount::OutOfRange { raw },
                ),
            ) => texts.push(raw),
            _ => {}
        }
        texts
    }

    /// Which layer failed, with what the server said.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }

    /// The HTTP status, when a response arrived (the last attempt's).
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status
    }

    /// Twilio's `Twilio-Request-Id`, when the response carried one (a malformed 200's too):
    /// quote it to support.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// The wait the response's `Retry-After` header asked for.
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// Requests made before this error was returned: 0 when nothing was sent.
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// Why retrying stopped, when it was tried.
    pub fn stop_reason(&self) -> Option<StopReason> {
        self.0.stop
    }

    /// Advice the client adds to a server's refusal when it knows the likely cause, e.g. that
    /// main-account API keys cannot read subaccounts.
    pub fn hint(&self) -> Option<&'static str> {
        self.0.hint
    }

    /// Whether no complete response came in time (per request, connecting, or the deadline).
    pub fn is_timeout(&self) -> bool {
        matches!(self.0.kind, ErrorKind::Timeout)
    }

    /// Whether the connection could not be established (refused, DNS, TLS, proxy, a connect
    /// timeout).
    pub fn is_connect(&self) -> bool {
        std::iter::successors(self.source(), |&e| e.source()).any(|e| {
            e.downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_connect)
        })
    }

    /// Whether the same request could plausibly succeed later: timeouts and broken connections
    /// (not the retry deadline, not a reply that is not HTTP), and HTTP 408, 429, 500, 502, 503
    /// and 504. The client's own retries use this rule.
    pub fn is_retryable(&self) -> bool {
        match self.0.kind {
            ErrorKind::Timeout | ErrorKind::Transport => self.0.retryable,
            ErrorKind::Api(_) | ErrorKind::Http(_) => (self.0.status)
                .is_some_and(|s| matches!(s.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.0.status.unwrap_or_default();
        match &self.0.kind {
            ErrorKind::Api(e) => {
                let code = e.code.map(|c| format!("{c} ")).unwrap_or_default();
                write!(f, "Twilio error {code}(HTTP {status}): {}", Shown::escaped_long(&e.message))?;
                if let Some(details) = &e.details {
                    write!(f, " ({})", Shown::escaped_long(details))?;
                }
                if let Some(link) = &e.more_info {
                    write!(f, "; see {}", Shown::escaped_short(link))?;
                }
            }
            ErrorKind::Http(e) => match (&e.location, e.body.trim()) {
                (Some(to), _) => {
                    write!(f, "HTTP {status}: redirect to {} not followed", Shown::escaped_short(to))?
                }
                (None, "") if e.incomplete => write!(f, "HTTP {status} (its body could not be read)")?,
                (None, "") => write!(f, "HTTP {status} with an empty body")?,
                (None, body) => write!(f, "HTTP {status}: \"{}\"", Shown::escaped_short(body))?,
            },
            ErrorKind::Timeout => f.write_str("timed out")?,
            ErrorKind::Transport if self.is_connect() => f.write_str("could not connect")?,
            ErrorKind::Transport => f.write_str("the request failed")?,
            ErrorKind::Decode(e) => e.fmt(f)?,
            #[cfg(feature = "blocking")]
            ErrorKind::InsideAsyncRuntime => f.write_str(
                "the blocking client cannot be used inside an async runtime; use balance_api::Client",
            )?,
        }
        match self.0.hint {
            Some(hint) => write!(f, " ({hint})"),
            None => Ok(()),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.0.source.as_deref().map(|e| e as _)
    }
}

/// Why a client could not be built; nothing was sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// A string that is not an Account SID.
    #[error(transparent)]
    InvalidSid(#[from] InvalidSid),
    /// Credentials given in code that cannot be right.
    #[error(transparent)]
    Credentials(#[from] InvalidCredentials),
    /// A setting is missing or malformed, in code or in the environment.
    #[error(transparent)]
    Config(#[from] ConfigError),
}

/// A missing or malformed setting. Names the environment variable when one was read, and never
/// repeats a value.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", variable.unwrap_or("configuration"))]
#[non_exhaustive]
pub struct ConfigError {
    /// The environment variable at fault, if the setting came from the environment.
    pub variable: Option<&'static str>,
    /// What is wrong with it.
    pub problem: String,
    #[source]
    source: Option<BoxError>,
}

impl ConfigError {
    pub(crate) fn new(problem: impl Into<String>) -> Self {
        let (variable, problem, source) = (None, problem.into(), None);
        Self {
            variable,
            problem,
            source,
        }
    }

    pub(crate) fn var(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable: Some(variable),
            ..Self::new(problem)
        }
    }

    pub(crate) fn because(mut self, source: impl Into<BoxError>) -> Self {
        self.source = Some(source.into());
        self
    }
}
