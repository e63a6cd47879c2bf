//! [`RetryPolicy`]: when a failed fetch is tried again, and how long the client waits.

use crate::Error;
use backon::{ExponentialBuilder, Retryable};
use std::sync::atomic::{AtomicU32, Ordering::Relaxed};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::sync::{Semaphore, SemaphorePermit};
use tokio::time::Instant;

/// Retries for the Balance GET, which is safe to repeat. On by default.
///
/// What is retried is what [`Error::is_retryable`] says: timeouts, broken connections, and
/// HTTP 408, 429, 500, 502, 503, 504; never a 401 or 404, a reply that is not HTTP, a body that
/// does not decode, or bad input. Waits grow exponentially with full jitter (a random wait
/// between zero and the step), and a server's `Retry-After` (seconds or an HTTP date) is a
/// floor on the wait, honoured up to [`max_retry_after`](Self::max_retry_after). A 429 that a
/// fetch waits out pauses every request of the client (one set of credentials, one rate
/// limit). The [`deadline`](Self::deadline) is one timeout around the whole fetch. After
/// retries the error returned is the last attempt's, and [`Error::attempts`] counts them.
/// The loop itself is [backon](https://docs.rs/backon)'s.
///
/// ```
/// use balance_api::RetryPolicy;
/// use std::time::Duration;
///
/// let patient = RetryPolicy::default()
///     .max_attempts(6)
///     .max_retry_after(Duration::from_secs(120))
///     .deadline(Some(Duration::from_secs(300)));
/// # let _ = (patient, RetryPolicy::none());
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
    /// returned at once, saying so, instead of a long silent sleep.
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
}

impl RetryPolicy {
    /// The backoff steps, before jitter: `base · 2^n`, capped, one per retry.
    fn backoff(&self) -> ExponentialBuilder {
        ExponentialBuilder::new()
            .with_min_delay(self.base_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.max_attempts.saturating_sub(1) as usize)
    }
}

/// A pause every fetch of one client honours: when one request hears 429, all of them wait
/// until this "not before" instant, so a batch slows down as a whole instead of each task
/// hammering the server.
#[derive(Debug, Default)]
pub(crate) struct Pause(Mutex<Option<Instant>>);

impl Pause {
    /// Moves the pause out to `until`, never in.
    fn extend(&self, until: Instant) {
        let mut current = lock(&self.0);
        *current = Some(current.map_or(until, |now| now.max(until)));
    }

    /// When the pause in force ends, if one is (copied out: no lock is held across a sleep).
    fn in_force(&self) -> Option<Instant> {
        (*lock(&self.0)).filter(|until| *until > Instant::now())
    }

    /// Sleeps until no pause is in force, re-reading it since other requests may extend it.
    async fn wait_out(&self) {
        while let Some(until) = self.in_force() {
            tracing::debug!("waiting out a 429 pause");
            tokio::time::sleep_until(until).await;
        }
    }
}

/// What an attempt waits for before it goes out: no 429 pause in force, and a free slot.
#[derive(Clone, Copy)]
pub(crate) struct Gate<'a> {
    pub(crate) pause: &'a Pause,
    pub(crate) slots: Option<&'a Semaphore>,
}

impl<'a> Gate<'a> {
    /// Waits until the attempt may go, and returns the slot it holds while it runs: taken
    /// after the pause, and given back should a pause begin while it waited for one.
    async fn pass(self) -> Option<SemaphorePermit<'a>> {
        loop {
            self.pause.wait_out().await;
            // The semaphore is never closed, so a permit always comes.
            let slot = match self.slots {
                Some(slots) => slots.acquire().await.ok(),
                None => None,
            };
            if self.pause.in_force().is_none() {
                return slot;
            }
        }
    }
}

/// A lock that a panic elsewhere does not poison: what it guards is a plain value.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// What backon sees of a failed attempt; the error itself waits in [`run`]'s slot, so that the
/// deadline, which cancels the retries, still has the last one to return.
struct Failed;

/// Runs `attempt` under `policy` on backon, each attempt once `gate` lets it: exponential
/// steps, each drawn with full jitter and floored by `Retry-After`; a 429 that will be waited
/// out extends the gate's pause for the client; the deadline is one timeout around it all.
/// Returns the last attempt's error, with the count.
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    gate: Gate<'_>,
    attempt: F,
) -> Result<T, Error>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let made = AtomicU32::new(0);
    let last: Mutex<Option<Error>> = Mutex::new(None);
    let deadline = policy
        .deadline
        .and_then(|limit| Some((limit, instant_after(limit)?)));
    let one = || async {
        let _slot = gate.pass().await;
        let number = made.fetch_add(1, Relaxed) + 1;
        tracing::Span::current().record("attempts", number);
        match attempt().await {
            Ok(value) => {
                tracing::debug!(attempt = number, "attempt succeeded");
                Ok(value)
            }
            Err(err) => {
                tracing::info!(attempt = number, error = %err, "attempt failed");
                *lock(&last) = Some(err);
                Err(Failed)
            }
        }
    };
    let retried = one
        .retry(policy.backoff())
        .when(|_| lock(&last).as_ref().is_some_and(Error::is_retryable))
        .adjust(|_, step| {
            let mut last = lock(&last);
            next_wait(
                policy,
                last.as_mut()?,
                step?,
                deadline.map(|(_, at)| at),
                gate.pause,
            )
        })
        .notify(|_, wait| tracing::info!(wait_ms = wait.as_millis() as u64, "retrying"));
    let finished = match deadline {
        Some((limit, _)) => tokio::time::timeout(limit, retried).await.ok(),
        None => Some(retried.await),
    };
    let mut err = match (finished, lock(&last).take(), deadline) {
        (Some(Ok(value)), _, _) => return Ok(value),
        (_, Some(err), _) => err,
        (_, None, Some((limit, _))) => Error::deadline(limit),
        (_, None, None) => Error::unsent("no attempt was made".into()),
    };
    err.set_attempts(made.load(Relaxed));
    Err(err)
}

/// The wait before the next attempt, or `None` to stop: a backoff `step` drawn with full jitter
/// and floored by `Retry-After`; none when the server asks for more than the cap (said in the
/// error), or when the wait would pass the deadline (it would only end in a timeout).
fn next_wait(
    policy: &RetryPolicy,
    err: &mut Error,
    step: Duration,
    deadline: Option<Instant>,
    pause: &Pause,
) -> Option<Duration> {
    let asked = err.retry_after();
    if let Some(asked) = asked.filter(|a| *a > policy.max_retry_after) {
        let cap = policy.max_retry_after;
        err.set_hint(format!(
            "Twilio asked to wait {asked:?}, over the {cap:?} cap"
        ));
        return None;
    }
    let wait = full_jitter(step).max(asked.unwrap_or_default());
    let resume = instant_after(wait)?;
    if deadline.is_some_and(|at| resume >= at) {
        return None;
    }
    if err.status().is_some_and(|s| s == 429) {
        // The whole client backs off with the task that heard it, at least one full step even
        // when the jitter drew less. A 429 this task will not wait out pauses no one.
        pause.extend(instant_after(wait.max(step)).unwrap_or(resume));
    }
    Some(wait)
}

/// `now + d`, or `None` when that is beyond what an `Instant` can hold.
fn instant_after(d: Duration) -> Option<Instant> {
    Instant::now().checked_add(d)
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
    fn steps_double_up_to_the_cap_one_per_retry() {
        use backon::BackoffBuilder;
        let policy = RetryPolicy::default()
            .base_delay(Duration::from_millis(100))
            .max_delay(Duration::from_millis(500))
            .max_attempts(6);
        let steps: Vec<u128> = policy.backoff().build().map(|d| d.as_millis()).collect();
        assert_eq!(steps, [100, 200, 400, 500, 500]);
        let many = policy.max_attempts(100).backoff().build();
        assert_eq!(many.last(), Some(Duration::from_millis(500)), "no overflow");
        assert_eq!(RetryPolicy::none().backoff().build().count(), 0);
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
