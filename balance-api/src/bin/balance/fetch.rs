//! Reading every target at once, within `--concurrency` and the run's `--timeout`.

use crate::accounts::Target;
use crate::common::{Failure, batch};
use balance_api::{Balance, Error};
use std::fmt;
use std::time::Duration;

/// How much later than `--timeout` the whole run is cut, after each fetch's own deadline: a
/// fetch in flight ends first with its own "timed out", so the two never race.
const RUN_GRACE: Duration = Duration::from_millis(500);

/// Why an account has no balance to show: the fetch failed, or the run ended before it did.
#[derive(Debug)]
pub enum Problem {
    Fetch(Error),
    /// Still queued or in flight when the run's `--timeout` ran out.
    Unfinished {
        limit: Duration,
    },
    /// `balance serve` before its first round has ended.
    NotYet,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Fetch(e) => e.fmt(f),
            Self::Unfinished { limit } => write!(
                f,
                "timed out: not fetched before the --timeout of {} ran out (raise it, or --concurrency)",
                humantime::format_duration(*limit)
            ),
            Self::NotYet => f.write_str("not fetched yet: the first round is still running"),
        }
    }
}

impl Problem {
    /// The JSON form both programs use for a failed account.
    pub fn failure(&self) -> Failure {
        match self {
            Self::Fetch(e) => Failure::new(e, e.to_string()),
            Self::Unfinished { .. } | Self::NotYet => Failure::message(self.to_string()),
        }
    }
}

pub type Outcome = Result<Balance, Problem>;

/// One outcome per target, in order. With a `limit`, what finished in time is kept and only
/// the rest are [`Problem::Unfinished`].
pub async fn all(targets: &[Target], concurrency: usize, limit: Option<Duration>) -> Vec<Outcome> {
    let jobs = (targets.iter())
        .map(|t| t.client.fetch_balance_of(&t.account))
        .collect();
    let outputs = batch::within(jobs, concurrency, limit.map(|l| l + RUN_GRACE)).await;
    let limit = limit.unwrap_or_default();
    (outputs.into_iter())
        .map(|o| match o {
            Some(result) => result.map_err(Problem::Fetch),
            None => Err(Problem::Unfinished { limit }),
        })
        .collect()
}
