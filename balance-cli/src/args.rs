//! The flags both programs take for reaching Twilio, and how they find credentials.

use balance_api::{ClientBuilder, RetryPolicy};
use std::time::Duration;

/// How to reach Twilio: the flags both programs take beside their own.
#[derive(clap::Args, Debug, Clone)]
pub struct ClientArgs {
    /// Twilio region, e.g. au1 or ie1 (overrides TWILIO_REGION).
    #[arg(long)]
    pub region: Option<String>,
    /// Twilio edge, e.g. sydney or dublin (overrides TWILIO_EDGE).
    #[arg(long)]
    pub edge: Option<String>,
    /// Time allowed, retries included: seconds (5) or with a unit (500ms, 2m).
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub timeout: Option<Duration>,
    /// Send requests to this URL (a proxy, a mock server; needs TWILIO_* credentials);
    /// plain http only to loopback.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Requests to Twilio in flight at most, across all accounts (and, for balance-mcp, all
    /// tool calls); a fetch waiting out a 429 or a backoff holds no slot.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
}

impl ClientArgs {
    /// These flags applied to `builder`.
    pub fn apply(&self, mut builder: ClientBuilder) -> ClientBuilder {
        builder = builder.max_in_flight(self.concurrency.into());
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
        builder
    }

    /// Refuses flags that only make sense with real credentials: the demo server is on
    /// loopback, reached directly, and has no regions or edges.
    pub fn refuse_with_demo(&self) -> Result<(), String> {
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

/// `5` (seconds, as curl's --max-time), `1.5`, or a duration with a unit (`500ms`, `2m`); zero
/// is refused, since no request could finish in it.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = match text.parse::<f64>() {
        Ok(secs) if text.bytes().all(|b| b.is_ascii_digit() || b == b'.') => {
            Duration::try_from_secs_f64(secs).map_err(|e| e.to_string())?
        }
        // humantime 2 panics (an unchecked `Duration::new`) on some sums that land on the
        // largest duration; 64 characters with numbers of at most 9 digits stay far below it
        // (32 × 999,999,999 years is about 1e18 s, against 1.8e19). It reads digits across
        // whitespace as one number, so digits are counted up to the next other character.
        _ if text.len() > 64
            || (text.split(|c: char| !c.is_ascii_digit() && !c.is_whitespace()))
                .any(|number| number.chars().filter(char::is_ascii_digit).count() > 9) =>
        {
            return Err("too long: at most 64 characters, each number at most 9 digits".into());
        }
        _ => humantime::parse_duration(text).map_err(|e| e.to_string())?,
    };
    if duration.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(duration)
}
