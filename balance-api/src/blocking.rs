//! The same client for callers without an async runtime (feature `blocking`), after reqwest's
//! `blocking` module: [`Client`], built by the one builder's `build_blocking()`.
//!
//! ```
//! # let server = httpmock::MockServer::start();
//! # server.mock(|when, then| { when.any_request(); then.status(200)
//! #     .body(r#"{"account_sid":"ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","balance":"0.05","currency":"USD"}"#); });
//! # let creds = balance_api::Credentials::auth_token("ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".parse()?, "token")?;
//! // Client::from_env() in real use; a mock server here.
//! let client = balance_api::Client::builder()
//!     .credentials(creds)
//!     .base_url(server.base_url())
//!     .build_blocking()?;
//! let balance = client.fetch_balance()?;
//! assert_eq!(balance.to_string(), "0.05 USD");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::{AccountSid, Balance, BuildError, Error};
use reqwest::Url;
use std::future::Future;

/// A blocking Twilio balance client: the async [`crate::Client`] driven by a private
/// single-threaded runtime. Inside an async runtime every call returns an error (use the async
/// client there), and dropping it never waits, not even for a DNS lookup still running.
#[derive(Debug)]
pub struct Client {
    inner: crate::Client,
    runtime: Option<tokio::runtime::Runtime>,
}

impl crate::ClientBuilder {
    /// Checks the settings and builds a blocking client. No request is made.
    pub fn build_blocking(self) -> Result<Client, BuildError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| BuildError::new("cannot start the blocking runtime").because(e))?;
        Ok(Client {
            inner: crate::Client::new(self.settings)?,
            runtime: Some(runtime),
        })
    }
}

impl Client {
    /// A client configured from `TWILIO_*` environment variables.
    pub fn from_env() -> Result<Self, BuildError> {
        crate::ClientBuilder::from_env()?.build_blocking()
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
        self.block_on(self.inner.fetch_balance())?
    }

    /// See [`crate::Client::fetch_balance_of`].
    pub fn fetch_balance_of(&self, account: &AccountSid) -> Result<Balance, Error> {
        self.block_on(self.inner.fetch_balance_of(account))?
    }

    /// Blocking inside a runtime would panic (and stall that runtime): refuse with the way out.
    fn block_on<F: Future>(&self, work: F) -> Result<F::Output, Error> {
        match (&self.runtime, tokio::runtime::Handle::try_current()) {
            (Some(runtime), Err(_)) => Ok(runtime.block_on(work)),
            _ => Err(Error::inside_async_runtime()),
        }
    }
}

impl Drop for Client {
    /// Without waiting: a resolver thread stuck in `getaddrinfo` must not hold the caller, and
    /// a plain drop would panic inside an async runtime.
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
