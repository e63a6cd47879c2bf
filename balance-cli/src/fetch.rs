//! Fetching many accounts at once: at most so many requests in flight, and a time limit after
//! which what finished is kept and the rest are reported as unfinished. Both programs fetch
//! through [`within`].

use balance_api::{AccountSid, Balance, Client, Decimal, Error};
use futures_util::StreamExt;
use std::fmt;
use std::time::Duration;

/// How many fetches exist at once: a future per account of a long list held gigabytes. Well
/// above any `--concurrency` that the clients' own in-flight limit allows, so that fetches
/// waiting out a 429 (which hold no request slot) leave room for the others.
const PENDING: usize = 256;

/// One account to read, and how.
#[derive(Debug, Clone)]
pub struct Target {
    /// The `name` from the config file: a label in every output.
    pub name: Option<String>,
    /// The account whose balance is read.
    pub account: AccountSid,
    /// The account's own threshold, else the run's `--min`.
    pub min: Option<Decimal>,
    /// The client that reads it, with the credentials that may.
    pub client: Client,
}

/// Why an account has no balance to show: the fetch failed, or the wait for it ended first.
#[derive(Debug)]
pub enum Problem {
    /// The fetch failed.
    Fetch(Error),
    /// Still queued or in flight when the time limit of the run (or of the tool call) ran out.
    Unfinished {
        /// The limit that ran out.
        limit: Duration,
    },
    /// `balance serve` before its first round has ended.
    NotYet,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fetch(e) => f.write_str(&describe(e)),
            Self::Unfinished { limit } => write!(
                f,
                "timed out: not fetched before the --timeout of {} ran out (raise it, or --concurrency)",
                humantime::format_duration(*limit)
            ),
            Self::NotYet => f.write_str("not fetched yet: the first round is still running"),
        }
    }
}

/// An account's balance, or why there is none.
pub type Outcome = Result<Balance, Problem>;

/// How much later than the limit waiting stops, after each fetch's own deadline (which the
/// programs set to the same limit): a fetch that started at once ends first with its own
/// error. One that waited for a slot has its deadline later and is cut off here, unfinished.
const GRACE: Duration = Duration::from_millis(500);

/// Fetches each target's account (at most as many requests in flight as its client allows),
/// and returns one outcome per target, in order. With a `limit`, what finished by then (plus a
/// short grace) is kept and the rest are [`Problem::Unfinished`].
pub async fn within(targets: &[Target], limit: Option<Duration>) -> Vec<Outcome> {
    let mut outcomes: Vec<Outcome> = (targets.iter())
        .map(|_| {
            let limit = limit.unwrap_or_default();
            Err(Problem::Unfinished { limit })
        })
        .collect();
    // Each fetch is made as a slot frees, not up front (a future per account of a long list
    // held gigabytes); unordered, so that finished ones never wait behind one slow account.
    // By index: a closure taking `(index, &Target)` from `enumerate` makes the future not `Send`
    // (rustc's "FnOnce is not general enough"), and both servers spawn it.
    let jobs = (0..targets.len()).map(|index| fetch(index, &targets[index]));
    let mut running = futures_util::stream::iter(jobs).buffer_unordered(PENDING);
    let collect = async {
        while let Some((index, result)) = running.next().await {
            outcomes[index] = result.map_err(|e| match limit {
                // The limit passed with no answer at all (waiting for a slot, or for the one
                // request it sent): the same as one still queued at the limit.
                Some(limit) if e.is_timeout() && !e.is_retryable() => Problem::Unfinished { limit },
                _ => Problem::Fetch(e),
            });
        }
    };
    match limit {
        Some(limit) => {
            let _ = tokio::time::timeout(limit.saturating_add(GRACE), collect).await;
        }
        None => collect.await,
    }
    outcomes
}

/// One account's fetch.
async fn fetch(index: usize, target: &Target) -> (usize, Result<Balance, Error>) {
    (index, target.client.fetch_balance_of(&target.account).await)
}

/// A failed fetch in one line: the error, its causes, and how many attempts it took when
/// there was more than one.
fn describe(e: &Error) -> String {
    let line = crate::one_line(e);
    match e.attempts() {
        0 => format!("{line}; no request sent"),
        1 => line,
        n => format!("{line}; gave up after {n} attempts"),
    }
}
