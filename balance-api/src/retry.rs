//! [`RetryPolicy`]: when a failed fetch is tried again, and how long the client waits.

use crate::Error;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use tokio::time::Instant;

/// Retries for the Balance GET, which is safe to repeat. On by default.
///
/// What is retried is what [`Error::is_retryable`] says: timeouts, broken connections, and
/// HTTP 408, 429, 500, 502, 503, 504; never a 401 or 404, a reply that is not HTTP, a body that
/// does not decode, or bad input. Waits grow exponentially with full jitter (a random wait
/// between zero and the step), and a server's `Retry-After` (seconds or an HTTP date) is a
/// floor on the wait. After retries the error returned is the last attempt's; its
/// [`attempts`](Error::attempts) and [`stop_reason`](Error::stop_reason) tell the rest.
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
        Self::default().max_attempts(1)
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

    /// The longest `Retry-After` the client will wait; a server asking for more gets its error
    /// returned at once ([`StopReason::RetryAfterTooLong`]) instead of a long silent sleep.
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

    /// The backoff step before attempt `number + 1`: `base · 2^(number-1)`, capped.
    fn step(&self, number: u32) -> Duration {
        let factor = 2u32.saturating_pow(number.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }
}

/// Why retrying stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StopReason {
    /// The error is not worth retrying (or succeeded no better on a later attempt).
    NotRetryable,
    /// Every allowed attempt failed.
    MaxAttempts,
    /// The overall deadline passed, or would pass before the next attempt could be made.
    Deadline(Duration),
    /// The server asked to wait longer than [`RetryPolicy::max_retry_after`].
    RetryAfterTooLong {
        /// What the server asked for.
        asked: Duration,
        /// The configured maximum.
        cap: Duration,
    },
}

impl std::fmt::Display for StopReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotRetryable => f.write_str("not retryable"),
            Self::MaxAttempts => f.write_str("no attempts left"),
            Self::Deadline(d) => write!(f, "the {d:?} deadline"),
            Self::RetryAfterTooLong { asked, cap } => {
                write!(
                    f,
                    "the server asked to wait {asked:?}, over the {cap:?} cap"
                )
            }
        }
    }
}

/// A pause every fetch of one client honours: when one request hears 429, all of them wait,
/// so a batch slows down as a whole instead of each task hammering the server.
#[derive(Debug, Default)]
pub(crate) struct Pause(Mutex<Option<Instant>>);

impl Pause {
    fn until(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Clone, Copy)]
struct Deadline {
    at: Instant,
    limit: Duration,
}

/// Runs `attempt` until it succeeds or the policy says stop, and returns the last attempt's
/// error with the count and the reason recorded in it.
///
/// `per_attempt` bounds each attempt, body included; the deadline bounds it instead when it
/// is nearer. One timer per attempt: reqwest's own per-request timeout would arm two.
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
        let at = Instant::now().checked_add(limit)?;
        Some(Deadline { at, limit })
    });
    let mut previous: Option<Error> = None;
    for number in 1.. {
        if let (false, Some(d)) = (wait_out_pause(pause, deadline).await, deadline) {
            let last = previous.unwrap_or_else(|| Error::deadline(d.limit));
            return Err(last.with_retries(number - 1, StopReason::Deadline(d.limit)));
        }
        let mut cut_short = false;
        let attempt_end = instant_after(per_attempt);
        let outcome = match (attempt_end, deadline) {
            (_, Some(d)) if attempt_end.is_none_or(|end| end >= d.at) => {
                tokio::time::timeout_at(d.at, attempt(number))
                    .await
                    .unwrap_or_else(|_| {
                        cut_short = true;
                        Err(Error::deadline(d.limit))
                    })
            }
            (Some(end), _) => (tokio::time::timeout_at(end, attempt(number)).await)
                .unwrap_or_else(|_| Err(Error::attempt_timed_out(per_attempt))),
            (None, _) => attempt(number).await,
        };
        let err = match outcome {
            Ok(value) => {
                tracing::debug!(attempt = number, "attempt succeeded");
                return Ok(value);
            }
            Err(err) => err,
        };
        tracing::info!(attempt = number, error = %err, "attempt failed");
        let next = next_wait(policy, &err, number, deadline);
        if let (true, Ok(wait)) = (err.status().is_some_and(|s| s == 429), &next) {
            // The whole client backs off with the task that heard the 429, at least one full
            // step even when its jitter drew less. A pause this task will not wait out itself
            // (it stops here: a Retry-After over the cap, no attempts or time left) is not
            // imposed on the others.
            if let Some(until) = instant_after((*wait).max(policy.step(number))) {
                let mut until_then = pause.until();
                *until_then = Some(until_then.map_or(until, |current| current.max(until)));
            }
        }
        match next {
            Ok(wait) => {
                tracing::info!(
                    attempt = number,
                    wait_ms = wait.as_millis() as u64,
                    "retrying"
                );
                tokio::time::sleep(wait).await;
                previous = Some(err);
            }
            Err(reason) => {
                // A deadline that cut an attempt short says less than the failure before it.
                let last = match (cut_short, previous) {
                    (true, Some(before)) => before,
                    _ => err,
                };
                return Err(last.with_retries(number, reason));
            }
        }
    }
    unreachable!("the attempt loop only ends by returning")
}

/// `now + d`, or `None` when that is beyond what an `Instant` can hold.
fn instant_after(d: Duration) -> Option<Instant> {
    Instant::now().checked_add(d)
}

/// Sleeps until no 429 pause is in force, re-reading it since other requests may extend it.
/// Returns false when the deadline comes first: no attempt could succeed in time.
async fn wait_out_pause(pause: &Pause, deadline: Option<Deadline>) -> bool {
    loop {
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d.at) {
            return false;
        }
        // Copied out: the lock must not be held across the sleep.
        let until = *pause.until();
        match until {
            Some(until) if until > now => {
                tracing::debug!("waiting out a 429 pause");
                tokio::time::sleep_until(deadline.map_or(until, |d| until.min(d.at))).await;
            }
            _ => return true,
        }
    }
}

/// How long to wait before the next attempt, or why there is none.
fn next_wait(
    policy: &RetryPolicy,
    err: &Error,
    number: u32,
    deadline: Option<Deadline>,
) -> Result<Duration, StopReason> {
    if let Some(d) = deadline.filter(|d| Instant::now() >= d.at) {
        return Err(StopReason::Deadline(d.limit));
    }
    if !err.is_retryable() {
        return Err(StopReason::NotRetryable);
    }
    if number >= policy.max_attempts {
        return Err(StopReason::MaxAttempts);
    }
    let asked = err.retry_after();
    if let Some(asked) = asked.filter(|a| *a > policy.max_retry_after) {
        let cap = policy.max_retry_after;
        return Err(StopReason::RetryAfterTooLong { asked, cap });
    }
    let wait = full_jitter(policy.step(number)).max(asked.unwrap_or_default());
    match deadline {
        // Sleeping into the deadline would only end in a timeout; say so now.
        Some(d) if instant_after(wait).is_none_or(|resume| resume >= d.at) => {
            Err(StopReason::Deadline(d.limit))
        }
        _ => Ok(wait),
    }
}

fn full_jitter(step: Duration) -> Duration {
    step.mul_f64(fastrand::f64())
}

/// Parses `Retry-After`: delta-seconds or an HTTP date (RFC 9110 §10.2.3), relative to `now`.
/// A date in the past means "now"; anything else unreadable is ignored.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
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
    use proptest::prelude::*;

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
        let steps: Vec<u128> = (1..=5).map(|n| policy.step(n).as_millis()).collect();
        assert_eq!(steps, [100, 200, 400, 500, 500]);
        assert_eq!(
            policy.step(u32::MAX),
            Duration::from_millis(500),
            "no overflow"
        );
    }

    #[test]
    fn retry_after_examples() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        let date = "Tue, 14 Nov 2023 22:13:30 GMT";
        assert_eq!(parse_retry_after(date, now), Some(Duration::from_secs(10)));
        assert_eq!(parse_retry_after("soon", now), None);
    }

    proptest! {
        #[test]
        fn retry_after_seconds_parse_exactly(secs in any::<u64>()) {
            prop_assert_eq!(parse_retry_after(&secs.to_string(), SystemTime::now()), Some(Duration::from_secs(secs)));
        }

        #[test]
        fn retry_after_dates_parse_to_the_remaining_wait(ahead in 0u64..100_000, base in 946_684_800u64..4_000_000_000) {
            let now = SystemTime::UNIX_EPOCH + Duration::from_secs(base);
            let date = httpdate::fmt_http_date(now + Duration::from_secs(ahead));
            prop_assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(ahead)));
            // A date already past means "retry now".
            prop_assert_eq!(parse_retry_after(&date, now + Duration::from_secs(ahead + 5)), Some(Duration::ZERO));
        }

        #[test]
        fn arbitrary_retry_after_text_never_panics(text in "\\PC{0,40}") {
            let _ = parse_retry_after(&text, SystemTime::now());
        }
    }
}
