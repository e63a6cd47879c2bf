//! [`Error`], what a fetch can fail with, and [`BuildError`], what building a client can.

use crate::untrusted::Shown;
use crate::{AccountSid, InvalidSid};
use reqwest::StatusCode;
use std::borrow::Cow;
use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

type BoxError = Box<dyn StdError + Send + Sync>;

/// Why a fetch failed, on reqwest's model: predicates say what kind of failure it is
/// ([`is_timeout`](Self::is_timeout), [`is_connect`](Self::is_connect),
/// [`is_decode`](Self::is_decode), [`is_retryable`](Self::is_retryable)), and accessors read
/// what the response said ([`status`](Self::status), [`request_id`](Self::request_id), and
/// Twilio's [`code`](Self::code), [`message`](Self::message) and
/// [`more_info`](Self::more_info)). After retries it is the last attempt's error.
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
/// let advice = match client.fetch_balance().await {
///     Ok(balance) => format!("{balance}"),
///     Err(e) if e.code() == Some(20404) => "no such account".to_owned(),
///     Err(e) if e.status().is_some_and(|s| s == 401) => "check the credentials".to_owned(),
///     Err(e) if e.is_timeout() => format!("Twilio did not answer in time: {e}"),
///     Err(e) if e.is_retryable() => format!("still failing after {} attempts: {e}", e.attempts()),
///     Err(e) => format!("{e}"),
/// };
/// assert_eq!(advice, "no such account");
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Error(Box<Inner>);

#[derive(Debug)]
struct Inner {
    kind: Kind,
    status: Option<StatusCode>,
    request_id: Option<String>,
    retry_after: Option<Duration>,
    attempts: u32,
    /// Advice the client adds when it knows more than the response says.
    hint: Option<Cow<'static, str>>,
    /// For timeouts and broken connections: whether a new attempt could do better.
    retryable: bool,
    source: Option<BoxError>,
}

/// Which layer failed; private, so that a new layer is no breaking change.
#[derive(Debug)]
pub(crate) enum Kind {
    /// Twilio's error body: `{"code":20404,"message":"…","more_info":"…","status":404}`.
    Api {
        code: Option<u32>,
        message: String,
        more_info: Option<String>,
        /// `detail` or `details`, as JSON text.
        details: Option<String>,
    },
    /// An error status whose body is not Twilio's error JSON, or a redirect (never followed).
    Http {
        body: String,
        /// Reading the body failed part-way.
        incomplete: bool,
        location: Option<String>,
    },
    /// No complete response in time.
    Timeout,
    /// The connection failed or broke (refused, reset, TLS, DNS, a reply that is not HTTP).
    Transport,
    /// A 200 that is not the documented balance.
    Decode(Decode),
    /// The blocking client was called inside an async runtime; nothing was sent.
    #[cfg(feature = "blocking")]
    InsideAsyncRuntime,
}

/// How a 200 differs from the documented balance; raw values are the server's, scrubbed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Decode {
    #[error(
        "the response is not the documented balance: {}; body starts \"{}\"",
        Shown::escaped_long(reason),
        Shown::escaped_short(body)
    )]
    Json { reason: String, body: String },
    #[error("the balance {0}")]
    Amount(crate::InvalidAmount),
    #[error(
        "the response's content type is \"{}\", not application/json",
        Shown::escaped_short(raw)
    )]
    ContentType { raw: String },
    #[error(
        "asked for {requested} but the response is for \"{}\"",
        Shown::escaped_short(got)
    )]
    AccountMismatch { requested: AccountSid, got: String },
    #[error("the response body exceeds the {limit} byte cap")]
    TooLarge { limit: usize },
}

impl Error {
    fn new(kind: Kind, status: Option<StatusCode>) -> Self {
        Self(Box::new(Inner {
            kind,
            status,
            request_id: None,
            retry_after: None,
            attempts: 0,
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
            Kind::Timeout
        } else {
            Kind::Transport
        };
        let mut err = Self::new(kind, None);
        err.0.retryable = !not_http && !e.is_builder();
        err.0.source = Some(Box::new(e));
        err
    }

    /// A request that could not be made; not worth retrying.
    pub(crate) fn unsent(reason: String) -> Self {
        let mut err = Self::new(Kind::Transport, None);
        err.0.source = Some(reason.into());
        err
    }

    /// The whole fetch's deadline passed before any attempt ended; not worth retrying.
    pub(crate) fn deadline(limit: Duration) -> Self {
        let mut err = Self::new(Kind::Timeout, None);
        err.0.source = Some(format!("the {limit:?} deadline passed").into());
        err
    }

    /// A response that is not the documented balance.
    pub(crate) fn decode(kind: Decode) -> Self {
        Self::new(Kind::Decode(kind), Some(StatusCode::OK))
    }

    /// An error status, with what its response said.
    pub(crate) fn status_error(
        kind: Kind,
        status: StatusCode,
        retry_after: Option<Duration>,
    ) -> Self {
        let mut err = Self::new(kind, Some(status));
        err.0.retry_after = retry_after;
        err
    }

    #[cfg(feature = "blocking")]
    pub(crate) fn inside_async_runtime() -> Self {
        Self::new(Kind::InsideAsyncRuntime, None)
    }

    pub(crate) fn kind_mut(&mut self) -> &mut Kind {
        &mut self.0.kind
    }

    pub(crate) fn set_request_id(&mut self, request_id: Option<String>) {
        self.0.request_id = request_id;
    }

    pub(crate) fn set_attempts(&mut self, attempts: u32) {
        self.0.attempts = attempts;
    }

    pub(crate) fn set_hint(&mut self, hint: impl Into<Cow<'static, str>>) {
        self.0.hint = Some(hint.into());
    }

    /// The wait the response's `Retry-After` asked for.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// Every string in it that came from the server, for scrubbing.
    pub(crate) fn server_text(&mut self) -> Vec<&mut String> {
        let inner = &mut *self.0;
        let mut texts: Vec<&mut String> = inner.request_id.iter_mut().collect();
        match &mut inner.kind {
            Kind::Api {
                message,
                more_info,
                details,
                ..
            } => texts.extend([more_info, details].into_iter().flatten().chain([message])),
            Kind::Http { body, location, .. } => texts.extend(location.iter_mut().chain([body])),
            Kind::Decode(Decode::Json { reason, body }) => texts.extend([reason, body]),
            Kind::Decode(
                Decode::ContentType { raw } | Decode::AccountMismatch { got: raw, .. },
            ) => texts.push(raw),
            Kind::Decode(Decode::Amount(amount)) => texts.push(amount.raw_mut()),
            _ => {}
        }
        texts
    }

    /// The HTTP status, when a response arrived (the last attempt's); 200 for a body that is
    /// not the documented balance.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status
    }

    /// Twilio's `Twilio-Request-Id`, when the response carried one (a malformed 200's too):
    /// quote it to support.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }

    /// Twilio's error code (e.g. 20404, 20003), when the response was Twilio's error body.
    pub fn code(&self) -> Option<u32> {
        match &self.0.kind {
            Kind::Api { code, .. } => *code,
            _ => None,
        }
    }

    /// Twilio's error message, scrubbed of the client's secret (unescaped: escape it before
    /// showing it on a terminal, as `Display` does).
    pub fn message(&self) -> Option<&str> {
        match &self.0.kind {
            Kind::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The link to Twilio's page for the error code, as the response gave it.
    pub fn more_info(&self) -> Option<&str> {
        match &self.0.kind {
            Kind::Api { more_info, .. } => more_info.as_deref(),
            _ => None,
        }
    }

    /// Requests made before this error was returned: 0 when nothing was sent.
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// Whether no complete response came in time (per request, connecting, or the whole
    /// fetch's deadline).
    pub fn is_timeout(&self) -> bool {
        matches!(self.0.kind, Kind::Timeout)
    }

    /// Whether the connection could not be established (refused, DNS, TLS, proxy, a connect
    /// timeout).
    pub fn is_connect(&self) -> bool {
        std::iter::successors(self.source(), |&e| e.source()).any(|e| {
            e.downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_connect)
        })
    }

    /// Whether a 200 came that is not the documented balance: bad JSON, an amount not held
    /// exactly, another account's SID, a content type other than JSON, a body over the cap.
    pub fn is_decode(&self) -> bool {
        matches!(self.0.kind, Kind::Decode(_))
    }

    /// Whether the same request could plausibly succeed later: timeouts and broken connections
    /// (not the whole fetch's deadline, not a reply that is not HTTP), and HTTP 408, 429, 500,
    /// 502, 503 and 504. The client's own retries use this rule.
    pub fn is_retryable(&self) -> bool {
        match self.0.kind {
            Kind::Timeout | Kind::Transport => self.0.retryable,
            Kind::Api { .. } | Kind::Http { .. } => (self.0.status)
                .is_some_and(|s| matches!(s.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)),
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = self.0.status.unwrap_or_default();
        match &self.0.kind {
            Kind::Api {
                code,
                message,
                more_info,
                details,
            } => {
                let code = code.map(|c| format!("{c} ")).unwrap_or_default();
                write!(f, "Twilio error {code}(HTTP {status}): {}", Shown::escaped_long(message))?;
                if let Some(details) = details {
                    write!(f, " ({})", Shown::escaped_long(details))?;
                }
                if let Some(link) = more_info {
                    write!(f, "; see {}", Shown::escaped_short(link))?;
                }
            }
            Kind::Http {
                body,
                incomplete,
                location,
            } => match (location, body.trim()) {
                (Some(to), _) => {
                    write!(f, "HTTP {status}: redirect to {} not followed", Shown::escaped_short(to))?
                }
                (None, "") if *incomplete => write!(f, "HTTP {status} (its body could not be read)")?,
                (None, "") => write!(f, "HTTP {status} with an empty body")?,
                (None, body) => write!(f, "HTTP {status}: \"{}\"", Shown::escaped_short(body))?,
            },
            Kind::Timeout => f.write_str("timed out")?,
            Kind::Transport if self.is_connect() => f.write_str("could not connect")?,
            Kind::Transport => f.write_str("the request failed")?,
            Kind::Decode(e) => e.fmt(f)?,
            #[cfg(feature = "blocking")]
            Kind::InsideAsyncRuntime => f.write_str(
                "the blocking client cannot be used inside an async runtime; use balance_api::Client",
            )?,
        }
        match &self.0.hint {
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

/// Why a client, or its credentials, could not be built; nothing was sent. Names the
/// environment variable when one was read, and never repeats a value (a mistyped setting can
/// hold a secret).
///
/// ```
/// let account = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?;
/// let err = balance_api::Credentials::auth_token(account, "\u{feff}0123abcd").unwrap_err();
/// assert_eq!(err.to_string(), "the Auth Token contains whitespace, control or non-ASCII characters");
/// # Ok::<(), balance_api::InvalidSid>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[error("{}{problem}", variable.map(|v| format!("{v}: ")).unwrap_or_default())]
pub struct BuildError {
    variable: Option<&'static str>,
    problem: Cow<'static, str>,
    #[source]
    source: Option<BoxError>,
}

impl BuildError {
    pub(crate) fn new(problem: impl Into<Cow<'static, str>>) -> Self {
        let (variable, problem, source) = (None, problem.into(), None);
        Self {
            variable,
            problem,
            source,
        }
    }

    pub(crate) fn var(variable: &'static str, problem: impl Into<Cow<'static, str>>) -> Self {
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

impl From<InvalidSid> for BuildError {
    fn from(e: InvalidSid) -> Self {
        Self::new(e.to_string())
    }
}
