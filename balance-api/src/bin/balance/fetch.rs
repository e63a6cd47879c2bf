//! Reading every target at once, within `--concurrency` and the run's `--timeout`.

use crate::accounts::Target;
use crate::common::Failure;
use balance_api::{Balance, Error};
use futures_util::StreamExt;
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
        }
    }
}

impl Problem {
    /// The JSON form both programs use for a failed account.
    pub fn failure(&self) -> Failure {
        match self {
            Self::Fetch(e) => Failure::new(e, e.to_string()),
            Self::Unfinished { .. } => Failure::message(self.to_string()),
        }
    }
}

pub type Outcome = Result<Balance, Problem>;

/// One outcome per target, in order. With a `limit`, what finished in time is kept and only
/// the rest are [`Problem::Unfinished`].
pub async fn all(targets: &[Target], concurrency: usize, limit: Option<Duration>) -> Vec<Outcome> {
    let mut outcomes: Vec<Option<Outcome>> = targets.iter().map(|_| None).collect();
    let mut stream = futures_util::stream::iter(targets.iter().enumerate())
        .map(|(index, target)| async move {
            let result = target.client.fetch_balance_of(&target.account).await;
            (index, result)
        })
        .buffer_unordered(concurrency.max(1));
    let collect = async {
        while let Some((index, result)) = stream.next().await {
            outcomes[index] = Some(result.map_err(Problem::Fetch));
        }
    };
    match limit {
        Some(limit) => {
            let _ = tokio::time::timeout(limit + RUN_GRACE, collect).await;
        }
        None => collect.await,
    }
    let limit = limit.unwrap_or_default();
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or(Err(Problem::Unfinished { limit })))
        .collect()
}
