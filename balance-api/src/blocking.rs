//! The same client for callers without an async runtime (feature `blocking`).
//!
//! ```
//! # let server = httpmock::MockServer::start();
//! # server.mock(|when, then| { when.any_request(); then.status(200)
//! #     .body(r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"0.05","currency":"USD"}"#); });
//! # let creds = balance_api::Credentials::auth_token("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?, "token")?;
//! // Client::from_env() in real use; a mock server here.
//! let client = balance_api::blocking::Client::builder()
//!     .credentials(creds)
//!     .base_url(server.base_url())
//!     .build_blocking()?;
//! let balance = client.fetch_balance()?;
//! assert_eq!(balance.to_string(), "0.05 USD");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::{AccountSid, Balance, ClientBuilder, ConfigError, Error, Response};
use reqwest::Url;

/// A blocking Twilio balance client: the async [`crate::Client`] driven by a private
/// single-threaded runtime. Do not call it from inside an async runtime; use the async client.
#[derive(Debug)]
pub struct Client {
    inner: crate::Client,
    runtime: tokio::runtime::Runtime,
}

impl Client {
    /// A client configured from `TWILIO_*` environment variables.
    pub fn from_env() -> Result<Self, Error> {
        Self::new(ClientBuilder::from_env()?)
    }

    /// A client from a configured builder.
    ///
    /// ```
    /// use balance_api::{ClientBuilder, Credentials};
    ///
    /// let creds = Credentials::auth_token("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?, "token")?;
    /// let client = balance_api::blocking::Client::new(ClientBuilder::default().credentials(creds))?;
    /// assert_eq!(client.base_url().as_str(), "https://api.twilio.com/");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(builder: ClientBuilder) -> Result<Self, Error> {
        // block_on inside a runtime would panic later; refuse now, with the way out.
        if tokio::runtime::Handle::try_current().is_ok() {
            return Err(ConfigError::new(
                "the blocking client cannot run inside an async runtime; use balance_api::Client",
            )
            .into());
        }
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ConfigError::new(format!("cannot start the blocking runtime: {e}")))?;
        Ok(Self {
            inner: builder.build()?,
            runtime,
        })
    }

    /// Starts configuring a client; finish with [`ClientBuilder::build_blocking`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// See [`crate::Client::generated`] (its methods are async).
    pub fn generated(&self) -> &balance_api_gen::Client {
        self.inner.generated()
    }

    /// See [`crate::Client::base_url`].
    pub fn base_url(&self) -> &Url {
        self.inner.base_url()
    }

    /// See [`crate::Client::account_sid`].
    pub fn account_sid(&self) -> &AccountSid {
        self.inner.account_sid()
    }

    /// See [`crate::Client::fetch_balance`].
    pub fn fetch_balance(&self) -> Result<Balance, Error> {
        self.runtime.block_on(self.inner.fetch_balance())
    }

    /// See [`crate::Client::fetch_balance_of`].
    pub fn fetch_balance_of(&self, account: &AccountSid) -> Result<Balance, Error> {
        self.runtime.block_on(self.inner.fetch_balance_of(account))
    }

    /// See [`crate::Client::fetch_balance_with_info`].
    pub fn fetch_balance_with_info(
        &self,
        account: &AccountSid,
    ) -> Result<Response<Balance>, Error> {
        self.runtime
            .block_on(self.inner.fetch_balance_with_info(account))
    }
}
