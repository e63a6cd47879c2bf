//! [`ClientBuilder`]: credentials, host, timeouts and identity, from code or the environment.

use crate::{AccountSid, BuildError, Client, Credentials, RetryPolicy};
use reqwest::Url;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// Default time to establish a connection (TCP and TLS).
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default time for a whole request, body included; twilio-node and twilio-java use 30 s too.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Every environment variable [`ClientBuilder::from_env`] reads; the first four are credentials.
///
/// ```
/// assert!(balance_api::ENV_VARS.contains(&"TWILIO_AUTH_TOKEN"));
/// ```
pub const ENV_VARS: [&str; 6] = [
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_KEY",
    "TWILIO_API_SECRET",
    "TWILIO_REGION",
    "TWILIO_EDGE",
];

/// The one builder: start from [`Client::builder`] or [`ClientBuilder::from_env`]; `build()`
/// gives a [`Client`], and `build_blocking()` (feature `blocking`) a `blocking::Client`.
///
/// ```
/// use balance_api::{Client, Credentials};
/// use std::time::Duration;
///
/// let account = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?;
/// let client = Client::builder()
///     .credentials(Credentials::auth_token(account, "token")?)
///     .region("au1")
///     .edge("sydney")
///     .timeout(Duration::from_secs(5))
///     .user_agent_suffix("billing-dashboard/2.1")
///     .build()?;
/// assert_eq!(client.base_url().as_str(), "https://api.sydney.au1.twilio.com/");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default)]
#[must_use]
pub struct ClientBuilder {
    pub(crate) settings: Settings,
}

/// What clients built with [`ClientBuilder::transport_of`] share.
#[derive(Clone)]
pub(crate) struct Transport {
    pub(crate) http: reqwest::Client,
    pub(crate) bypasses_proxies: bool,
    /// The in-flight limit, taken per attempt.
    pub(crate) slots: Option<Arc<Semaphore>>,
}

/// What a builder collects; the clients keep it for `Debug`.
#[derive(Clone)]
pub(crate) struct Settings {
    pub(crate) credentials: Option<Credentials>,
    pub(crate) region: Option<String>,
    pub(crate) edge: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) allow_insecure_http: bool,
    pub(crate) no_proxy: bool,
    pub(crate) connect_timeout: Duration,
    pub(crate) timeout: Duration,
    pub(crate) user_agent_suffix: Option<String>,
    pub(crate) retry: RetryPolicy,
    pub(crate) max_body: usize,
    pub(crate) max_in_flight: Option<usize>,
    /// Another client's transport, shared.
    pub(crate) transport: Option<Transport>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            credentials: None,
            region: None,
            edge: None,
            base_url: None,
            allow_insecure_http: false,
            no_proxy: false,
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            timeout: DEFAULT_TIMEOUT,
            user_agent_suffix: None,
            retry: RetryPolicy::default(),
            max_body: balance_api_gen::RequestSettings::default().max_body,
            max_in_flight: None,
            transport: None,
        }
    }
}

impl ClientBuilder {
    /// Reads the variables twilio-cli and the official SDKs read: `TWILIO_ACCOUNT_SID` with
    /// either `TWILIO_API_KEY` + `TWILIO_API_SECRET` (preferred when both sets are present) or
    /// `TWILIO_AUTH_TOKEN`; and `TWILIO_REGION`, `TWILIO_EDGE` when set.
    pub fn from_env() -> Result<Self, BuildError> {
        for var in ENV_VARS {
            if let Err(std::env::VarError::NotUnicode(_)) = std::env::var(var) {
                return Err(BuildError::var(var, "is not valid UTF-8"));
            }
        }
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with another source of variables (a test). A variable set
    /// to the empty string is an error, not "unset".
    pub(crate) fn from_vars(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, BuildError> {
        let get = |name: &'static str| match lookup(name) {
            Some(v) if v.is_empty() => Err(BuildError::var(name, "is set but empty")),
            value => Ok(value),
        };
        let account: AccountSid = get("TWILIO_ACCOUNT_SID")?
            .ok_or_else(|| BuildError::var("TWILIO_ACCOUNT_SID", "is not set"))?
            .parse()
            .map_err(|e: crate::InvalidSid| {
                BuildError::var("TWILIO_ACCOUNT_SID", "is not an Account SID").because(e)
            })?;
        // Read first, so an empty one is reported even when the API Key set is complete.
        let token = get("TWILIO_AUTH_TOKEN")?;
        let credentials = match (get("TWILIO_API_KEY")?, get("TWILIO_API_SECRET")?) {
            (Some(key), Some(secret)) => Credentials::checked_api_key(account, &key, secret),
            (Some(_), None) => Err(BuildError::var(
                "TWILIO_API_SECRET",
                "is not set but TWILIO_API_KEY is",
            ))?,
            (None, Some(_)) => Err(BuildError::var(
                "TWILIO_API_KEY",
                "is not set but TWILIO_API_SECRET is",
            ))?,
            (None, None) => {
                let token = token.ok_or_else(|| {
                    BuildError::var(
                        "TWILIO_AUTH_TOKEN",
                        "is not set (or set TWILIO_API_KEY and TWILIO_API_SECRET)",
                    )
                })?;
                Credentials::checked_auth_token(account, token)
            }
        }
        .map_err(|e| BuildError::var(e.variable(), "is invalid").because(e))?;
        let mut builder = Self::default().credentials(credentials);
        builder.settings.region = get("TWILIO_REGION")?;
        builder.settings.edge = get("TWILIO_EDGE")?;
        check_label(builder.settings.region.as_deref())
            .map_err(|p| BuildError::var("TWILIO_REGION", p))?;
        check_label(builder.settings.edge.as_deref())
            .map_err(|p| BuildError::var("TWILIO_EDGE", p))?;
        Ok(builder)
    }

    /// Who to authenticate as (required).
    pub fn credentials(mut self, credentials: Credentials) -> Self {
        self.settings.credentials = Some(credentials);
        self
    }

    /// A Twilio region such as `au1` or `ie1`.
    pub fn region(mut self, region: impl Into<String>) -> Self {
        self.settings.region = Some(region.into());
        self
    }

    /// A Twilio edge location such as `sydney` or `dublin`.
    pub fn edge(mut self, edge: impl Into<String>) -> Self {
        self.settings.edge = Some(edge.into());
        self
    }

    /// Sends requests to this URL instead of Twilio's (a proxy, a mock server); region and edge
    /// are then not applied. Refused: a user name or password in it, a query or fragment (the
    /// API path would land inside them), and plain `http://` unless the host and the next hop
    /// (a proxy from `HTTP_PROXY`, say) are loopback or
    /// [`allow_insecure_http`](Self::allow_insecure_http) is set, since the credentials travel
    /// in every request.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.settings.base_url = Some(url.into());
        self
    }

    /// Permits plain `http://` to a non-loopback host or proxy. Only for networks you trust.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.settings.allow_insecure_http = allow;
        self
    }

    /// Ignores `HTTP_PROXY`, `HTTPS_PROXY` and `ALL_PROXY`: requests go straight to the host.
    pub fn no_proxy(mut self) -> Self {
        self.settings.no_proxy = true;
        self
    }

    /// Time allowed to establish a connection.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.settings.connect_timeout = timeout;
        self
    }

    /// Time allowed for each request, body included (the retry policy's deadline bounds them
    /// all together).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// Appended to the `User-Agent`, e.g. `my-app/1.2`, so Twilio can tell your traffic apart.
    pub fn user_agent_suffix(mut self, suffix: impl Into<String>) -> Self {
        self.settings.user_agent_suffix = Some(suffix.into());
        self
    }

    /// When and how failed fetches are retried; [`RetryPolicy::none`] turns retries off.
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.settings.retry = policy;
        self
    }

    /// The largest response body read (default 64 KiB); reading stops there, and a longer 200
    /// is a decode error.
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.settings.max_body = bytes;
        self
    }

    /// At most `requests` of this client in flight at once (and of every client that shares
    /// its transport). A slot is held only while a request is on its way: a fetch waiting out
    /// a backoff or a 429 pause holds none, so a throttled account never holds up the others.
    /// Unlimited by default.
    pub fn max_in_flight(mut self, requests: usize) -> Self {
        self.settings.max_in_flight = Some(requests.max(1));
        self
    }

    /// Shares `client`'s transport (its connection pool, TLS setup, proxy settings, connect
    /// timeout, User-Agent and [in-flight limit](Self::max_in_flight)) instead of building one,
    /// which costs about 100 KB and the loading of the platform's roots. Credentials, host,
    /// timeout, retries and body cap stay this builder's: for many accounts with credentials
    /// of their own in one process.
    ///
    /// ```
    /// use balance_api::{Client, Credentials};
    ///
    /// let a = Credentials::auth_token("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?, "token-a")?;
    /// let b = Credentials::auth_token("ACbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".parse()?, "token-b")?;
    /// let first = Client::builder().credentials(a).build()?;
    /// let second = Client::builder().credentials(b).transport_of(&first).build()?;
    /// # let _ = second;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn transport_of(mut self, client: &Client) -> Self {
        self.settings.transport = Some(client.transport());
        self
    }

    /// Checks the settings and builds the client. No request is made.
    pub fn build(self) -> Result<Client, BuildError> {
        Client::new(self.settings)
    }
}

impl Settings {
    /// Whether requests skip the system's proxies: the shared transport's setting when there is
    /// one (it decides), else this builder's.
    pub(crate) fn bypasses_proxies(&self) -> bool {
        self.transport
            .as_ref()
            .map_or(self.no_proxy, |shared| shared.bypasses_proxies)
    }

    /// The URL requests go to: the override as given, or the spec's server with region and edge.
    pub(crate) fn base_url(&self) -> Result<Url, BuildError> {
        // Checked whether or not a base URL makes them moot: a bad value is a mistake to report.
        check_label(self.region.as_deref()).map_err(|p| BuildError::new(format!("region {p}")))?;
        check_label(self.edge.as_deref()).map_err(|p| BuildError::new(format!("edge {p}")))?;
        let url = match &self.base_url {
            // The text is not repeated: it may hold a password.
            Some(given) => Url::parse(given)
                .map_err(|e| BuildError::new(format!("the base URL is not a URL: {e}")))?,
            None => {
                let mut url = Url::parse(balance_api_gen::SERVER_URL)
                    .map_err(|e| BuildError::new(format!("the spec's server URL: {e}")))?;
                let host = url.host_str().unwrap_or_default().to_owned();
                let host =
                    crate::host::regional_host(&host, self.region.as_deref(), self.edge.as_deref());
                url.set_host(Some(&host))
                    .map_err(|e| BuildError::new(format!("host {host:?}: {e}")))?;
                url
            }
        };
        if !url.username().is_empty() || url.password().is_some() {
            // reqwest would turn these into a second, silent set of credentials.
            return Err(BuildError::new(
                "the base URL carries a user name or password; pass credentials with .credentials()",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(BuildError::new(
                "the base URL has a query or fragment, which would swallow the API path",
            ));
        }
        match url.scheme() {
            "https" => Ok(url),
            "http" if self.allow_insecure_http => Ok(url),
            "http" if is_loopback(url.host_str()) && self.bypasses_proxies() => Ok(url),
            "http" if is_loopback(url.host_str()) => match plain_http_proxy(&url) {
                Some(proxy) => Err(BuildError::new(format!(
                    "refusing to send credentials over plain http through the proxy {proxy} \
                     (from the *_PROXY variables); use a loopback proxy, NO_PROXY, https, or \
                     allow_insecure_http(true)"
                ))),
                None => Ok(url),
            },
            "http" => Err(BuildError::new(format!(
                "refusing to send credentials over plain http to {}; use https, a loopback host, \
                 or allow_insecure_http(true)",
                url.host_str().unwrap_or("?")
            ))),
            other => Err(BuildError::new(format!(
                "base URL scheme {other:?} is not http(s)"
            ))),
        }
    }
}

/// The non-loopback proxy the system settings would send a plain-http request to `url`
/// through (the matcher reqwest itself uses), by host.
fn plain_http_proxy(url: &Url) -> Option<String> {
    let uri: http::Uri = url.as_str().parse().ok()?;
    let matcher = hyper_util::client::proxy::matcher::Matcher::from_system();
    let proxy = matcher.intercept(&uri)?;
    let host = proxy.uri().host()?;
    (!is_loopback(Some(host))).then(|| host.to_owned())
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A base URL is shown only when it holds no user information (which build() refuses).
        let base_url = self.base_url.as_deref().map(|u| match Url::parse(u) {
            Ok(url) if url.username().is_empty() && url.password().is_none() => u,
            _ => "[not shown]",
        });
        f.debug_struct("Settings")
            .field("credentials", &self.credentials)
            .field("region", &self.region)
            .field("edge", &self.edge)
            .field("base_url", &base_url)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("no_proxy", &self.no_proxy)
            .field("connect_timeout", &self.connect_timeout)
            .field("timeout", &self.timeout)
            .field("user_agent_suffix", &self.user_agent_suffix)
            .field("retry", &self.retry)
            .field("max_body", &self.max_body)
            .field("max_in_flight", &self.max_in_flight)
            .field("shared_transport", &self.transport.is_some())
            .finish()
    }
}

/// Regions and edges become host labels: lower-case letters, digits and hyphens only.
fn check_label(label: Option<&str>) -> Result<(), &'static str> {
    // RFC 1123's label: what DNS takes, so a bad one is refused here rather than at each retry.
    let valid = |l: &str| {
        (1..=63).contains(&l.len())
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-'))
    };
    match label {
        Some(l) if !valid(l) => Err(
            "must be a host label: 1 to 63 lower-case letters, digits and hyphens, not starting or ending with one",
        ),
        _ => Ok(()),
    }
}

fn is_loopback(host: Option<&str>) -> bool {
    let Some(host) = host else { return false };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    //! `from_vars` is private: the environment's rules are tested here, through it.

    use std::error::Error as _;

    const EXAMPLE_SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const EXAMPLE_BODY: &str =
        r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"0.05","currency":"USD"}"#;
    const TOKEN: &str = "s3cr3t-auth-token-0123456789abcdef";
    const KEY_SID: &str = "SKbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const KEY_SECRET: &str = "k3y-s3cr3t-fedcba9876543210";

    fn basic(user: &str, secret: &str) -> String {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"));
        format!("Basic {encoded}")
    }

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            pairs
                .iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    /// Where a client built from `extra` (beside an SID and a token) sends its requests.
    fn host_from(extra: &[(&'static str, &'static str)]) -> String {
        let mut env = vec![
            ("TWILIO_ACCOUNT_SID", EXAMPLE_SID),
            ("TWILIO_AUTH_TOKEN", TOKEN),
        ];
        env.extend_from_slice(extra);
        let client = super::ClientBuilder::from_vars(vars(&env))
            .expect("env")
            .build()
            .expect("client");
        assert_eq!(client.account_sid().as_str(), EXAMPLE_SID);
        client.base_url().to_string()
    }

    #[test]
    fn the_environment_sets_credentials_region_and_edge() {
        let both = [("TWILIO_REGION", "au1"), ("TWILIO_EDGE", "sydney")];
        assert_eq!(host_from(&both), "https://api.sydney.au1.twilio.com/");
        let region_only = [("TWILIO_REGION", "ie1")];
        assert_eq!(host_from(&region_only), "https://api.ie1.twilio.com/");
        let edge_only = [("TWILIO_EDGE", "dublin")];
        assert_eq!(host_from(&edge_only), "https://api.dublin.us1.twilio.com/");
    }

    #[tokio::test]
    async fn api_key_and_secret_are_preferred_when_both_sets_are_present() {
        let env = [
            ("TWILIO_ACCOUNT_SID", EXAMPLE_SID),
            ("TWILIO_AUTH_TOKEN", TOKEN),
            ("TWILIO_API_KEY", KEY_SID),
            ("TWILIO_API_SECRET", KEY_SECRET),
        ];
        let server = httpmock::MockServer::start_async().await;
        let keyed = server
            .mock_async(|when, then| {
                when.header("authorization", basic(KEY_SID, KEY_SECRET));
                then.status(200).body(EXAMPLE_BODY);
            })
            .await;
        let client = super::ClientBuilder::from_vars(vars(&env))
            .expect("env")
            .base_url(server.base_url())
            .build()
            .expect("client");
        client
            .fetch_balance()
            .await
            .expect("the key's Authorization matched");
        assert_eq!(keyed.calls_async().await, 1);
    }

    /// The error with its causes, as anyhow's `{:#}` shows it.
    fn env_error(pairs: &[(&str, &str)]) -> String {
        let err = super::ClientBuilder::from_vars(vars(pairs)).expect_err("refused");
        let causes = std::iter::successors(err.source(), |&c| c.source());
        causes.fold(err.to_string(), |text, cause| format!("{text}: {cause}"))
    }

    #[test]
    fn missing_or_malformed_variables_are_named_and_never_echoed() {
        assert_eq!(env_error(&[]), "TWILIO_ACCOUNT_SID: is not set");
        assert_eq!(
            env_error(&[("TWILIO_ACCOUNT_SID", ""), ("TWILIO_AUTH_TOKEN", TOKEN)]),
            "TWILIO_ACCOUNT_SID: is set but empty"
        );
        assert_eq!(
            env_error(&[
                ("TWILIO_API_KEY", KEY_SID),
                ("TWILIO_API_SECRET", KEY_SECRET)
            ]),
            "TWILIO_ACCOUNT_SID: is not set"
        );
        assert_eq!(
            env_error(&[("TWILIO_ACCOUNT_SID", "AC12"), ("TWILIO_AUTH_TOKEN", TOKEN)]),
            "TWILIO_ACCOUNT_SID: is not an Account SID: invalid Account SID (4 characters): shorter than 34 characters"
        );
        assert_eq!(
            env_error(&[("TWILIO_ACCOUNT_SID", EXAMPLE_SID)]),
            "TWILIO_AUTH_TOKEN: is not set (or set TWILIO_API_KEY and TWILIO_API_SECRET)"
        );
        assert_eq!(
            env_error(&[
                ("TWILIO_ACCOUNT_SID", EXAMPLE_SID),
                ("TWILIO_API_KEY", KEY_SID)
            ]),
            "TWILIO_API_SECRET: is not set but TWILIO_API_KEY is"
        );
    }

    #[test]
    fn malformed_credentials_are_named_and_never_echoed() {
        let bad_key = env_error(&[
            ("TWILIO_ACCOUNT_SID", EXAMPLE_SID),
            ("TWILIO_API_KEY", KEY_SECRET),
            ("TWILIO_API_SECRET", KEY_SECRET),
        ]);
        assert_eq!(
            bad_key,
            "TWILIO_API_KEY: is invalid: the API Key SID is not SK followed by 32 hex digits"
        );
        let spaced = format!("{TOKEN} trailing");
        let bad_token = env_error(&[
            ("TWILIO_ACCOUNT_SID", EXAMPLE_SID),
            ("TWILIO_AUTH_TOKEN", &spaced),
        ]);
        assert_eq!(
            bad_token,
            "TWILIO_AUTH_TOKEN: is invalid: the Auth Token contains whitespace, control or non-ASCII characters"
        );
        assert!(!bad_token.contains(TOKEN));
        // Pasted along with the token: a byte-order mark, a zero-width space. Twilio would refuse
        // them, so they are refused here, before anything is sent.
        for odd in [format!("\u{feff}{TOKEN}"), format!("{TOKEN}\u{200b}")] {
            assert_eq!(
                env_error(&[
                    ("TWILIO_ACCOUNT_SID", EXAMPLE_SID),
                    ("TWILIO_AUTH_TOKEN", &odd)
                ]),
                "TWILIO_AUTH_TOKEN: is invalid: the Auth Token contains whitespace, control or non-ASCII characters"
            );
        }
        // An empty setting is an error even when another credential set makes it unneeded.
        assert_eq!(
            env_error(&[
                ("TWILIO_ACCOUNT_SID", EXAMPLE_SID),
                ("TWILIO_AUTH_TOKEN", ""),
                ("TWILIO_API_KEY", KEY_SID),
                ("TWILIO_API_SECRET", KEY_SECRET)
            ]),
            "TWILIO_AUTH_TOKEN: is set but empty"
        );
    }

    #[test]
    fn a_region_or_edge_that_is_no_host_label_is_named() {
        let bad_region = env_error(&[
            ("TWILIO_ACCOUNT_SID", EXAMPLE_SID),
            ("TWILIO_AUTH_TOKEN", TOKEN),
            ("TWILIO_REGION", "AU 1"),
        ]);
        assert!(
            bad_region.starts_with("TWILIO_REGION: must be a host label"),
            "{bad_region}"
        );
        // What DNS cannot take is refused before any request, not retried as a failed lookup.
        for label in ["-", "au1-", "-au1", &"a".repeat(64)] {
            let err = env_error(&[
                ("TWILIO_ACCOUNT_SID", EXAMPLE_SID),
                ("TWILIO_AUTH_TOKEN", TOKEN),
                ("TWILIO_EDGE", label),
            ]);
            assert!(
                err.starts_with("TWILIO_EDGE: must be a host label"),
                "{err}"
            );
        }
    }
}
