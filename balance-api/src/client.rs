//! [`Client`]: the async client over the generated one.

use crate::BuildError;
use crate::config::{Settings, Transport};
use crate::redact::Scrubber;
use crate::retry::{self, Pause};
use crate::{AccountSid, Balance, ClientBuilder, Error};
use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Semaphore;
use tracing::Instrument;

/// A Twilio balance client. Cheap to clone: clones share one connection pool and one 429 pause.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let server = httpmock::MockServer::start_async().await;
/// # server.mock_async(|when, then| { when.any_request(); then.status(200)
/// #     .header("content-type", "application/json")
/// #     .header("twilio-request-id", "RQ0123456789abcdef0123456789abcdef")
/// #     .body(r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"0.05","currency":"USD"}"#); }).await;
/// use balance_api::{Client, Credentials};
///
/// let account = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?;
/// let client = Client::builder()
///     .credentials(Credentials::auth_token(account, "token")?)
///     .base_url(server.base_url()) // a mock here; Twilio by default
///     .build()?;
/// let balance = client.fetch_balance().await?;
/// assert_eq!(balance.to_string(), "0.05 USD");
/// assert_eq!(balance.request_id(), Some("RQ0123456789abcdef0123456789abcdef"));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    /// The generated client; its hooks add this client's credentials, per-request timeout and
    /// body cap to every request.
    api: balance_api_gen::Client,
    account_sid: AccountSid,
    base_url: Url,
    scrubber: Scrubber,
    pause: Pause,
    /// The in-flight limit, shared with the clients of the same transport.
    slots: Option<Arc<Semaphore>>,
    settings: Settings,
    api_key: bool,
}

/// The response header in which Twilio names each request (`Twilio-Request-Id`, the id its
/// support asks for): what [`Balance::request_id`](crate::Balance::request_id) and
/// [`Error::request_id`](crate::Error::request_id) report.
pub const REQUEST_ID_HEADER: &str = "twilio-request-id";

/// [`REQUEST_ID_HEADER`], checked once, at compile time.
const REQUEST_ID: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);

/// Twilio denies a main account's API keys any subaccount's resources; a bare 401/403 says
/// nothing of that.
const API_KEY_HINT: &str = "main-account API keys cannot read subaccounts: use the main \
    account's Auth Token, or the subaccount's own credentials";

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from `TWILIO_*` environment variables; see [`ClientBuilder::from_env`].
    pub fn from_env() -> Result<Self, BuildError> {
        ClientBuilder::from_env()?.build()
    }

    pub(crate) fn new(settings: Settings) -> Result<Self, BuildError> {
        let credentials = settings.credentials.clone().ok_or_else(|| {
            BuildError::new("no credentials: call .credentials(...) or use from_env()")
        })?;
        let base_url = settings.base_url()?;
        let (os, arch) = (std::env::consts::OS, std::env::consts::ARCH);
        let mut user_agent = format!("balance-api/{} ({os} {arch})", env!("CARGO_PKG_VERSION"));
        if let Some(suffix) = &settings.user_agent_suffix {
            user_agent = format!("{user_agent} {suffix}");
        }
        let user_agent = HeaderValue::try_from(user_agent)
            .map_err(|_| BuildError::new("the User-Agent suffix is not a valid header value"))?;
        let (http, slots) = match &settings.transport {
            Some(shared) => (shared.http.clone(), shared.slots.clone()),
            None => (
                transport(&settings, user_agent)?,
                (settings.max_in_flight).map(|n| Arc::new(Semaphore::new(n))),
            ),
        };
        // Per request, so that clients sharing one transport each send their own; the timeout
        // is reqwest's own per-request one.
        let per_request = balance_api_gen::RequestSettings {
            max_body: settings.max_body,
            authorization: Some(credentials.authorization()),
            timeout: Some(settings.timeout),
        };
        // progenitor appends "/2010-04-01/..." to the base, so it must not end in a slash.
        let base = base_url.as_str().trim_end_matches('/');
        let inner = Inner {
            api: balance_api_gen::Client::new_with_client(base, http, per_request),
            account_sid: credentials.account_sid().clone(),
            base_url,
            scrubber: Scrubber::new(&credentials),
            pause: Pause::default(),
            slots,
            api_key: credentials.is_api_key(),
            settings,
        };
        Ok(Self {
            inner: Arc::new(inner),
        })
    }

    /// What another client built with `transport_of` shares.
    pub(crate) fn transport(&self) -> Transport {
        use progenitor_client::ClientInfo;
        Transport {
            http: self.inner.api.client().clone(),
            bypasses_proxies: self.inner.settings.bypasses_proxies(),
            slots: self.inner.slots.clone(),
        }
    }

    /// The URL requests go to (after region and edge).
    pub fn base_url(&self) -> &Url {
        &self.inner.base_url
    }

    /// The account the credentials act for; [`fetch_balance`](Self::fetch_balance) reads its balance.
    pub fn account_sid(&self) -> &AccountSid {
        &self.inner.account_sid
    }

    /// The balance of the account the credentials belong to.
    pub async fn fetch_balance(&self) -> Result<Balance, Error> {
        self.fetch_balance_of(self.account_sid()).await
    }

    /// The balance of `account`, e.g. a subaccount, using this client's (parent) credentials.
    /// Taking an [`AccountSid`] means an invalid SID cannot get this far:
    ///
    /// ```compile_fail
    /// # async fn f(client: balance_api::Client) {
    /// client.fetch_balance_of("AC123").await; // a &str is not an AccountSid
    /// # }
    /// ```
    pub async fn fetch_balance_of(&self, account: &AccountSid) -> Result<Balance, Error> {
        let span = tracing::info_span!(
            "balance_api.fetch",
            account_sid = %account,
            attempts = tracing::field::Empty,
            status = tracing::field::Empty,
            request_id = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        let inner = &self.inner;
        let gate = retry::Gate {
            pause: &inner.pause,
            slots: inner.slots.as_deref(),
        };
        let run = retry::run(&inner.settings.retry, gate, || self.fetch_once(account));
        // Entering a span nobody listens to still costs each poll (with tracing's `log` feature,
        // a check of the logger on every enter and exit).
        let mut result = match span.is_disabled() {
            true => run.await,
            false => run.instrument(span.clone()).await,
        };
        if let Err(e) = &mut result
            && self.inner.api_key
            && account != self.account_sid()
            && e.status().is_some_and(|s| s == 401 || s == 403)
        {
            e.set_hint(API_KEY_HINT);
        }
        // Nobody listening (the usual case in a library): skip the bookkeeping.
        if span.is_disabled() {
            return result;
        }
        span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        // Recorded from the scrubbed outcome: a span is output too.
        let (status, request_id) = match &result {
            Ok(balance) => (Some(200), balance.request_id()),
            Err(e) => (e.status().map(|s| s.as_u16()), e.request_id()),
        };
        span.record("status", status);
        span.record("request_id", request_id.map(tracing::field::debug));
        match &result {
            Ok(_) => tracing::debug!(parent: &span, "balance fetched"),
            Err(e) => tracing::debug!(parent: &span, error = %e, "balance fetch failed"),
        }
        result
    }

    async fn fetch_once(&self, account: &AccountSid) -> Result<Balance, Error> {
        // Boxed once, here: the generated future is large, and every layer above (the request-id
        // scope, the attempt's timeout, the retry loop, the span) would otherwise copy it whole.
        let call = Box::pin(self.inner.api.fetch_balance(account.as_generated()));
        let (result, request_id) = balance_api_gen::noting_header(REQUEST_ID, call).await;
        // At most 256 bytes of text (Twilio's are 34): a longer value is no request id, and
        // would be carried into every output.
        let request_id = (request_id.as_ref().and_then(|v| v.to_str().ok()))
            .filter(|id| id.len() <= 256)
            .map(str::to_owned);
        let mut outcome = match result {
            Ok(value) => crate::response::balance(value, account),
            Err(e) => Err(crate::response::error(e, self.inner.settings.max_body).await),
        };
        // One place for the id, on every outcome that had a response: a 200 that did not decode,
        // or whose body broke off, is exactly what support asks about.
        match &mut outcome {
            Ok(balance) => balance.set_request_id(request_id),
            Err(err) => err.set_request_id(request_id),
        }
        self.inner.scrubber.result(&mut outcome);
        outcome
    }
}

/// A new connection pool and TLS setup, with the settings that are the transport's own.
fn transport(settings: &Settings, user_agent: HeaderValue) -> Result<reqwest::Client, BuildError> {
    // reqwest's rustls-no-provider takes the process's default provider: ring, unless the
    // application chose one (feature unification hands every reqwest in the program this
    // choice, so it is made once for all of them, not only for this client).
    #[cfg(all(feature = "rustls", not(feature = "aws-lc-rs")))]
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut http = reqwest::Client::builder();
    if settings.no_proxy {
        http = http.no_proxy();
    }
    let http = http
        .user_agent(user_agent)
        .connect_timeout(settings.connect_timeout)
        // The Balance endpoint never redirects: a 3xx is reported, never followed, so no
        // redirect can take the request (or a forged answer) elsewhere, nor loop.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| BuildError::new("cannot build the HTTP client").because(e))?;
    Ok(http)
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url.as_str())
            .field("account_sid", &self.inner.account_sid)
            .field("settings", &self.inner.settings)
            .finish()
    }
}
