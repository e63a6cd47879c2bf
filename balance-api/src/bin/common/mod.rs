//! What `balance` and `balance-mcp` share: how they find credentials, the settings flags they
//! both take, and the demo server that stands in for Twilio when no credentials are set.

pub mod batch;
pub mod demo;

use balance_api::{ClientBuilder, Error, RetryPolicy};
use serde::Serialize;
use std::time::Duration;

/// The credential variables; demo mode only when none of them is set at all.
const CREDENTIAL_VARS: [&str; 4] = [
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_API_KEY",
    "TWILIO_API_SECRET",
];

/// What both programs say when there is nothing to read balances with.
pub const NO_CREDENTIALS: &str = "no Twilio credentials: set TWILIO_ACCOUNT_SID and \
    TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET), or pass --demo to see the \
    example documented in Twilio's spec";

/// What a child account's `balance: null` means, in every output of both programs.
pub const BILLED_TO_PARENT: &str =
    "no balance of its own: Twilio bills a subaccount's usage to its parent account";

/// Whether any credential variable is present (even empty: a half-set configuration is an
/// error to report, never a reason to fall back to demo data).
pub fn credentials_set() -> bool {
    CREDENTIAL_VARS
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// One account's failure, as both programs report it (a JSON line, an MCP batch entry).
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Failure {
    /// Twilio's error code (see <https://www.twilio.com/docs/errors>), when Twilio sent one.
    #[schemars(schema_with = "twilio_code")]
    pub code: Option<u32>,
    /// The HTTP status, when a response arrived.
    #[schemars(schema_with = "http_status")]
    pub status: Option<u16>,
    /// What went wrong, in one line.
    pub message: String,
    /// Twilio's request id, for support.
    pub request_id: Option<String>,
}

// schemars writes `"format": "uint32"` for unsigned integers, which is no JSON Schema format
// (validators such as the MCP Inspector's warn on every call); bounds say the same in the
// standard vocabulary.
fn twilio_code(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["integer", "null"], "minimum": 0, "maximum": u32::MAX })
}

fn http_status(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": ["integer", "null"], "minimum": 100, "maximum": 599 })
}

impl Failure {
    /// `e`, told as `message`.
    pub fn new(e: &Error, message: String) -> Self {
        Self {
            code: match e {
                Error::Api(api) => api.code,
                _ => None,
            },
            status: e.status().map(|s| s.as_u16()),
            message,
            request_id: e.request_id().map(str::to_owned),
        }
    }

    /// A failure the program itself reports (no response to speak of).
    pub fn message(message: String) -> Self {
        Self {
            code: None,
            status: None,
            message,
            request_id: None,
        }
    }
}

/// The flags both programs take beside their own.
#[derive(clap::Args, Debug, Clone)]
pub struct Settings {
    /// Twilio region, e.g. au1 or ie1 (overrides TWILIO_REGION).
    #[arg(long)]
    pub region: Option<String>,
    /// Twilio edge, e.g. sydney or dublin (overrides TWILIO_EDGE).
    #[arg(long)]
    pub edge: Option<String>,
    /// Time allowed, retries included: seconds (5) or with a unit (500ms, 2m).
    #[arg(long, value_parser = parse_timeout, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Send requests to this URL (a proxy, a mock server; needs TWILIO_* credentials);
    /// plain http only to loopback.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

impl Settings {
    /// The builder for real credentials from the environment, with these flags applied.
    pub fn builder(&self) -> Result<ClientBuilder, Error> {
        self.apply(ClientBuilder::from_env()?)
    }

    /// These flags applied to `builder`.
    pub fn apply(&self, mut builder: ClientBuilder) -> Result<ClientBuilder, Error> {
        if let Some(region) = &self.region {
            builder = builder.region(region);
        }
        if let Some(edge) = &self.edge {
            builder = builder.edge(edge);
        }
        if let Some(timeout) = self.timeout {
            // The user's limit bounds the whole fetch, retries included, not just one try.
            builder = builder
                .timeout(timeout)
                .retry(RetryPolicy::default().deadline(Some(timeout)));
        }
        if let Some(url) = &self.base_url {
            builder = builder.base_url(url);
        }
        Ok(builder)
    }

    /// Refuses flags that only make sense with real credentials: the demo server is on
    /// loopback, reached directly, and has no regions or edges.
    pub fn check_demo(&self) -> Result<(), String> {
        let given = [
            ("--base-url", self.base_url.is_some()),
            ("--region", self.region.is_some()),
            ("--edge", self.edge.is_some()),
        ];
        match given.iter().find(|(_, set)| *set) {
            Some((flag, _)) => Err(format!("{flag} does not apply to --demo (no real account)")),
            None => Ok(()),
        }
    }
}

/// A secret from a file that only its owner can read (as ssh insists for keys); one trailing
/// newline is dropped. Errors name the path, never the content.
pub fn read_private_file(path: &std::path::Path) -> Result<String, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| format!("{shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a regular file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "{shown} is open to group or others (mode {mode:04o}); run chmod 600 on it"
            ));
        }
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("{shown}: {e}"))?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    Ok(text.strip_suffix('\r').unwrap_or(text).to_owned())
}

/// `5` (seconds, as curl's --max-time), `1.5`, or a duration with a unit (`500ms`, `2m`); zero
/// is refused, since no request could finish in it.
pub fn parse_timeout(text: &str) -> Result<Duration, String> {
    let duration = match text.parse::<f64>() {
        Ok(secs) if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())?
        }
        _ => humantime::parse_duration(text).map_err(|e| e.to_string())?,
    };
    if duration.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(duration)
}

/// Runs `main` on a runtime that is shut down without waiting for its blocking threads: a DNS
/// lookup stuck in `getaddrinfo` must not keep the process alive past its timeout.
pub fn run<F: std::future::Future>(main: F) -> Result<F::Output, String> {
    // One thread: the work is waiting on the network, and a second costs memory for nothing.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let output = runtime.block_on(main);
    runtime.shutdown_background();
    Ok(output)
}
