//! [`RetryPolicy`]: when a failed fetch is tried again, and how long the client waits.

use crate::Error;
use backon::BackoffBuilder;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Retries for the Balance GET, which is safe to repeat. On by default.
///
/// Retried: connection failures and broken bodies, timeouts, and HTTP 408, 429, 500, 502, 503,
/// 504. Never retried: other statuses (401, 404, …), undecodable bodies, bad input.
/// Waits grow exponentially with full jitter (a random wait between zero and the step), and a
/// server's `Retry-After` (seconds or an HTTP date) is a floor on the wait.
///
/// ```
/// use balance_api::RetryPolicy;
/// use std::time::Duration;
///
/// let patient = RetryPolicy::default()
///     .max_attempts(6)
///     .max_retry_after(Duration::from_secs(120))
///     .deadline(Some(Duration::from_secs(300)));
/// assert_eq!(patient.attempts(), 6);
/// assert_eq!(RetryPolicy::none().attempts(), 1);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct RetryPolicy {
    max_attempts: u32,
    base_delay: Duration,
    max_delay: Duration,
    max_retry_after: Duration,
    deadline: Option<Duration>,
}

impl Default for RetryPolicy {
    /// 4 attempts; backoff steps 200 ms, 400 ms, 800 ms (at most 5 s); `Retry-After` honoured up
    /// to 30 s; everything within 60 s.
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
            max_retry_after: Duration::from_secs(30),
            deadline: Some(Duration::from_secs(60)),
        }
    }
}

impl RetryPolicy {
    /// One attempt, no retries.
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts.max(1);
        self
    }

    /// The first backoff step; each later one doubles.
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// The largest backoff step.
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// The longest `Retry-After` the client will wait; a server asking for more gets an error
    /// ([`GiveUp::RetryAfterTooLong`]) at once instead of a long silent sleep.
    pub fn max_retry_after(mut self, wait: Duration) -> Self {
        self.max_retry_after = wait;
        self
    }

    /// Time for the whole fetch, every attempt and wait included; `None` for no overall limit
    /// (attempts, per-request timeouts, backoff and `Retry-After` waits still bound it).
    pub fn deadline(mut self, deadline: Option<Duration>) -> Self {
        self.deadline = deadline;
        self
    }

    /// The configured number of attempts.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// backon supplies the capped exponential steps; its own jitter adds to a step, so full
    /// jitter (uniform in [0, step], which spreads a thundering herd best) is applied here.
    fn steps(&self) -> impl Iterator<Item = Duration> {
        backon::ExponentialBuilder::default()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay)
            .without_max_times()
            .build()
    }
}

/// Why retrying stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum GiveUp {
    /// Every allowed attempt failed.
    MaxAttempts,
    /// The overall deadline would pass before the next attempt could finish.
    Deadline(Duration),
    /// The server asked to wait longer than [`RetryPolicy::max_retry_after`].
    RetryAfterTooLong {
        /// What the server asked for.
        asked: Duration,
        /// The configured maximum.
        cap: Duration,
    },
    /// A later attempt failed in a way that is not worth retrying.
    NotRetryable,
}

impl std::fmt::Display for GiveUp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MaxAttempts => f.write_str("no attempts left"),
            Self::Deadline(d) => write!(f, "the {d:?} deadline"),
            Self::RetryAfterTooLong { asked, cap } => {
                write!(
                    f,
                    "the server asked to wait {asked:?}, over the {cap:?} cap"
                )
            }
            Self::NotRetryable => f.write_str("not retryable"),
        }
    }
}

/// A pause every fetch of one client honours: when one request hears 429, all of them wait,
/// so a batch slows down as a whole instead of each task hammering the server.
#[derive(Debug, Default)]
pub(crate) struct Pause(Mutex<Option<Instant>>);

impl Pause {
    fn extend_to(&self, until: Instant) {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_none_or(|current| current < until) {
            *slot = Some(until);
        }
    }

    fn until(&self) -> Option<Instant> {
        *self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Clone, Copy)]
struct Deadline {
    at: Instant,
    limit: Duration,
}

/// Runs `attempt` until it succeeds or the policy says stop. A failure after more than one
/// attempt, or a stop for a reason other than the error itself (a `Retry-After` over the cap, a
/// wait that would cross the deadline), is [`Error::GaveUp`], carrying the count and last cause.
///
/// `per_attempt` is the HTTP client's own total timeout: while the deadline is further away
/// than that, the attempt cannot outlive it and no deadline timer is armed (a timer per fetch
/// cost about a tenth of the throughput at 16 fetches in flight).
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    pause: &Pause,
    per_attempt: Duration,
    mut attempt: F,
) -> Result<T, Error>
where
    F: FnMut(u32) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    // A deadline too far to represent is no deadline.
    let deadline = policy.deadline.and_then(|limit| {
        Some(Deadline {
            at: Instant::now().checked_add(limit)?,
            limit,
        })
    });
    let mut steps = policy.steps();
    let mut previous: Option<Error> = None;
    for number in 1.. {
        if !wait_out_pause(pause, deadline, number).await {
            let limit = deadline.map_or(Duration::ZERO, |d| d.limit);
            return Err(match previous {
                Some(last) => give_up(number - 1, GiveUp::Deadline(limit), last),
                None => Error::Deadline(limit),
            });
        }
        let outcome = match deadline {
            Some(d) if later(per_attempt).is_none_or(|end| end >= d.at) => {
                tokio::time::timeout_at(d.at, attempt(number))
                    .await
                    .unwrap_or(Err(Error::Deadline(d.limit)))
            }
            _ => attempt(number).await,
        };
        let err = match outcome {
            Ok(value) => {
                tracing::debug!(attempt = number, "attempt succeeded");
                return Ok(value);
            }
            Err(err) => err,
        };
        tracing::info!(attempt = number, error = %err, "attempt failed");
        match next_wait(policy, &err, number, &mut steps, deadline) {
            Ok(Wait { wait, step }) => {
                if err.status().is_some_and(|s| s == 429) {
                    // The whole client backs off at least one full step, even when this task's
                    // jitter drew a short wait.
                    if let Some(until) = later(wait.max(step)) {
                        pause.extend_to(until);
                    }
                }
                tracing::info!(
                    attempt = number,
                    wait_ms = wait.as_millis() as u64,
                    "retrying"
                );
                tokio::time::sleep(wait).await;
                previous = Some(err);
            }
            Err(reason) => {
                // A deadline that struck mid-attempt says less than the failure before it.
                let last = match (err, previous) {
                    (Error::Deadline(_), Some(before)) => before,
                    (err, _) => err,
                };
                return Err(match reason {
                    GiveUp::NotRetryable | GiveUp::MaxAttempts if number == 1 => last,
                    GiveUp::Deadline(_) if matches!(last, Error::Deadline(_)) => last,
                    _ => give_up(number, reason, last),
                });
            }
        }
    }
    unreachable!("the attempt loop only ends by returning")
}

/// `now + d`, or `None` when that is beyond what an `Instant` can hold.
fn later(d: Duration) -> Option<Instant> {
    Instant::now().checked_add(d)
}

/// Sleeps until no 429 pause is in force, re-reading it since other requests may extend it.
/// Returns false when the deadline comes first: no attempt could succeed in time.
async fn wait_out_pause(pause: &Pause, deadline: Option<Deadline>, number: u32) -> bool {
    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d.at) {
            return false;
        }
        match pause.until() {
            Some(until) if until > now => {
                tracing::debug!(attempt = number, "waiting out a 429 pause");
                tokio::time::sleep_until(deadline.map_or(until, |d| until.min(d.at))).await;
            }
            _ => return true,
        }
    }
}

fn give_up(attempts: u32, reason: GiveUp, last: Error) -> Error {
    Error::GaveUp {
        attempts,
        reason,
        last: Box::new(last),
    }
}

struct Wait {
    /// The jittered wait this request sleeps.
    wait: Duration,
    /// The backoff step before jitter.
    step: Duration,
}

/// How long to wait before the next attempt, or why there is none.
fn next_wait(
    policy: &RetryPolicy,
    err: &Error,
    number: u32,
    steps: &mut impl Iterator<Item = Duration>,
    deadline: Option<Deadline>,
) -> Result<Wait, GiveUp> {
    if let Error::Deadline(limit) = err {
        return Err(GiveUp::Deadline(*limit));
    }
    if !is_retryable(err) {
        return Err(GiveUp::NotRetryable);
    }
    if number >= policy.max_attempts {
        return Err(GiveUp::MaxAttempts);
    }
    let asked = err.retry_after();
    if let Some(asked) = asked.filter(|a| *a > policy.max_retry_after) {
        return Err(GiveUp::RetryAfterTooLong {
            asked,
            cap: policy.max_retry_after,
        });
    }
    let step = steps.next().unwrap_or(policy.max_delay);
    let wait = full_jitter(step).max(asked.unwrap_or_default());
    match deadline {
        // Sleeping into the deadline would only end in a timeout; say so now.
        Some(d) if later(wait).is_none_or(|resume| resume >= d.at) => {
            Err(GiveUp::Deadline(d.limit))
        }
        _ => Ok(Wait { wait, step }),
    }
}

fn full_jitter(step: Duration) -> Duration {
    step.mul_f64(fastrand::f64())
}

fn is_retryable(err: &Error) -> bool {
    match err {
        Error::Transport(_) | Error::Timeout(_) => true,
        Error::Api(_) | Error::Http(_) => err
            .status()
            .is_some_and(|s| matches!(s.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)),
        _ => false,
    }
}

/// Parses `Retry-After`: delta-seconds or an HTTP date (RFC 9110 §10.2.3), relative to `now`.
/// A date in the past means "now"; anything else unreadable is ignored.
///
/// ```
/// use balance_api::parse_retry_after;
/// use std::time::{Duration, SystemTime};
///
/// let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
/// assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
/// assert_eq!(parse_retry_after("Tue, 14 Nov 2023 22:13:30 GMT", now), Some(Duration::from_secs(10)));
/// assert_eq!(parse_retry_after("soon", now), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits for u64 is still "a very long time", which the cap then refuses.
        return Some(Duration::from_secs(value.parse().unwrap_or(u64::MAX)));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_jitter_spreads_over_the_whole_step() {
        let step = Duration::from_millis(1000);
        let draws: Vec<Duration> = (0..2000).map(|_| full_jitter(step)).collect();
        assert!(draws.iter().all(|d| *d <= step));
        assert!(draws.iter().any(|d| *d < step / 10), "reaches near zero");
        assert!(
            draws.iter().any(|d| *d > step * 9 / 10),
            "reaches near the step"
        );
    }

    #[test]
    fn steps_double_up_to_the_cap() {
        let policy = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(500));
        let steps: Vec<u64> = policy
            .steps()
            .take(5)
            .map(|d| d.as_millis() as u64)
            .collect();
        assert_eq!(steps, [100, 200, 400, 500, 500]);
    }
}
