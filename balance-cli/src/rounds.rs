//! Rounds of fetches shared by everyone who asks close together: `balance serve`'s scrapes and
//! `balance-mcp`'s questions about a whole config. What a round found is served for `cache`;
//! whoever finds it stale starts a round, or joins the one running, and waits for it no longer
//! than it can afford to. Balance changes lag anyway, and Twilio's API is rate limited: ten
//! askers cost one round, not ten.

use crate::fetch::{self, Outcome, Problem, Target};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::watch;

/// What one round of fetches found: an outcome per target, in order.
pub struct Round {
    /// One per target.
    pub outcomes: Vec<Outcome>,
    /// When the round ended (None before the first: every outcome is [`Problem::NotYet`]).
    pub finished: Option<(Instant, SystemTime)>,
    /// How long it took.
    pub took: Duration,
}

/// What a round is made into, once, for everyone who reads it: the round itself, or answers
/// rendered from it.
pub trait Snapshot: Send + Sync + 'static {
    /// When the round it was made from ended (None before the first).
    fn finished(&self) -> Option<(Instant, SystemTime)>;
}

impl Snapshot for Round {
    fn finished(&self) -> Option<(Instant, SystemTime)> {
        self.finished
    }
}

/// Makes the next snapshot from the targets, the previous snapshot (None for the first) and
/// the round that ended.
type Make<S> = Box<dyn Fn(&[Target], Option<&S>, Round) -> S + Send + Sync>;

/// The targets, the latest snapshot, and whether a round is running.
pub struct Rounds<S> {
    targets: Arc<[Target]>,
    /// Each round's own time limit (see [`fetch::within`]).
    limit: Option<Duration>,
    cache: Duration,
    make: Make<S>,
    latest: watch::Sender<Arc<S>>,
    running: AtomicBool,
    /// Set at shutdown: whoever waits on a round answers at once with what there is.
    stopping: watch::Sender<bool>,
}

impl<S: Snapshot> Rounds<S> {
    /// Rounds over `targets`, each cut off after `limit`, served for `cache`; no round runs
    /// until one is asked for (or [`Rounds::start`]).
    pub fn new(
        targets: impl Into<Arc<[Target]>>,
        limit: Option<Duration>,
        cache: Duration,
        make: impl Fn(&[Target], Option<&S>, Round) -> S + Send + Sync + 'static,
    ) -> Arc<Self> {
        let targets = targets.into();
        let none = Round {
            outcomes: targets.iter().map(|_| Err(Problem::NotYet)).collect(),
            finished: None,
            took: Duration::ZERO,
        };
        let first = make(&targets, None, none);
        Arc::new(Self {
            targets,
            limit,
            cache,
            make: Box::new(make),
            latest: watch::Sender::new(Arc::new(first)),
            running: AtomicBool::new(false),
            stopping: watch::Sender::new(false),
        })
    }

    /// The targets, in order.
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// Whether a round is running now.
    pub fn running(&self) -> bool {
        self.running.load(SeqCst)
    }

    /// Ends every wait for a round: the server is stopping.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    /// The latest snapshot while it is fresh; else the round this call starts or joins, if it
    /// ends within `wait` (or what there is, at shutdown).
    pub async fn current(self: &Arc<Self>, wait: Duration) -> Arc<S> {
        let mut next = self.latest.subscribe();
        let finished = next.borrow().finished();
        if finished.is_none_or(|(at, _)| at.elapsed() >= self.cache) {
            self.start();
            let mut stopping = self.stopping.subscribe();
            tokio::select! {
                _ = tokio::time::timeout(wait, next.changed()) => {}
                _ = stopping.wait_for(|stop| *stop) => {}
            }
        }
        next.borrow().clone()
    }

    /// A round of fetches, unless one is already running.
    pub fn start(self: &Arc<Self>) {
        if self.running.swap(true, SeqCst) {
            return;
        }
        let rounds = self.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let outcomes = fetch::within(&rounds.targets, rounds.limit).await;
            let round = Round {
                outcomes,
                finished: Some((Instant::now(), SystemTime::now())),
                took: started.elapsed(),
            };
            let previous = rounds.latest.borrow().clone();
            let next = (rounds.make)(&rounds.targets, Some(&previous), round);
            rounds.latest.send_replace(Arc::new(next));
            rounds.running.store(false, SeqCst);
        });
    }
}
