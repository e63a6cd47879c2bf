//! `balance serve`: the balances as a Prometheus exporter.
//!
//! Answers are cached for `--cache` (balance changes lag anyway, and Twilio's API is rate
//! limited), and every scrape that finds the cache stale joins the one round of fetches in
//! progress, so several Prometheus replicas cost one round, not one each. A scrape waits for
//! that round no longer than Prometheus will wait for the scrape; past that it answers with
//! what it has and says a round is in progress. A failed fetch is reported as down, never
//! with the balance of an earlier round.

use crate::accounts::{AccountArgs, Target};
use crate::fetch::{self, Outcome, Problem};
use crate::output::{Report, gauge};
use crate::server::Server;
use crate::status_page::{self, Row};
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::watch;

/// Not in the 2020 snapshot of Prometheus's default port allocations we could check (see the
/// README); loopback only unless told otherwise.
const DEFAULT_LISTEN: &str = "127.0.0.1:9877";

/// How long the status page waits for a fresh round before showing what it has.
const PAGE_WAIT: Duration = Duration::from_secs(2);

/// Prometheus's own default scrape timeout, for scrapers that do not send theirs.
const DEFAULT_SCRAPE_WAIT: Duration = Duration::from_secs(10);

/// `balance serve`'s flags.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    accounts: AccountArgs,
    /// Address to serve on: GET /metrics, and GET / (a status page for people).
    #[arg(long, value_name = "ADDR", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// How long fetched balances are served before a scrape starts a new round: seconds (60)
    /// or with a unit (90s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "60", value_parser = crate::args::parse_duration)]
    cache: Duration,
}

/// What one round found, and what earlier rounds leave standing, with the answers rendered
/// from it once and shared by every request that reads them.
#[derive(Default)]
struct Snapshot {
    /// `/metrics` but for the in-progress gauge, which is per request.
    metrics: Bytes,
    /// The status page's rows.
    page_rows: Bytes,
    outcomes: Vec<Outcome>,
    /// When each account last answered, across rounds.
    last_success: Vec<Option<SystemTime>>,
    /// When each failing account's fetches started failing, across rounds.
    failing_since: Vec<Option<SystemTime>>,
    /// When the round ended (None before the first).
    finished: Option<(Instant, SystemTime)>,
    took: Duration,
}

struct Exporter {
    targets: Vec<Target>,
    timeout: Option<Duration>,
    cache: Duration,
    demo: bool,
    latest: watch::Sender<Arc<Snapshot>>,
    running: AtomicBool,
    /// Set at shutdown: scrapes waiting on a round answer at once with what there is.
    stopping: watch::Sender<bool>,
}

/// Serves until SIGTERM or SIGINT.
pub async fn run(args: Args) -> Result<ExitCode, String> {
    let accounts = args.accounts.accounts().await?;
    let (targets, demo) = (accounts.targets, accounts.demo);
    let server = Server::bind(args.listen).await?;
    let address = server.local_addr()?;
    let first = Snapshot {
        outcomes: targets.iter().map(|_| Err(Problem::NotYet)).collect(),
        last_success: targets.iter().map(|_| None).collect(),
        failing_since: targets.iter().map(|_| None).collect(),
        ..Snapshot::default()
    };
    let exporter = Arc::new(Exporter {
        targets,
        timeout: args.accounts.client.timeout,
        cache: args.cache,
        demo: demo.is_some(),
        latest: watch::Sender::new(Arc::new(Snapshot::default())),
        running: AtomicBool::new(false),
        stopping: watch::Sender::new(false),
    });
    exporter.publish(first);
    // The first round starts now, so the first scrape rarely waits.
    exporter.start_round();
    eprintln!("balance serve: listening on http://{address}/metrics");
    let mut app = axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/", get(index))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found: try /metrics\n") })
        .with_state(exporter.clone());
    if address.ip().is_loopback() {
        app = crate::server::loopback_host_only(app, address);
    }
    server
        .run(app, || {
            exporter.stopping.send_replace(true);
        })
        .await;
    drop(demo);
    Ok(ExitCode::SUCCESS)
}

/// The status page: what the cache holds, after at most a short wait for a fresh round.
async fn index(State(exporter): State<Arc<Exporter>>) -> impl IntoResponse {
    let snapshot = exporter.current(PAGE_WAIT).await;
    let last_round = snapshot.finished.map(|(_, at)| at);
    let running = exporter.running.load(SeqCst);
    let head = status_page::head(exporter.demo, last_round, running);
    let parts = [
        head.into(),
        snapshot.page_rows.clone(),
        status_page::TAIL.into(),
    ];
    let kind = "text/html; charset=utf-8";
    ([(header::CONTENT_TYPE, kind)], shared_body(parts))
}

async fn metrics(State(exporter): State<Arc<Exporter>>, headers: HeaderMap) -> impl IntoResponse {
    let wait = headers
        .get("x-prometheus-scrape-timeout-seconds")
        .and_then(|v| v.to_str().ok()?.parse::<f64>().ok())
        .and_then(|secs| Duration::try_from_secs_f64(secs).ok())
        // Answer before Prometheus gives up: a quarter of its timeout, at most half a second.
        .map(|limit| limit.saturating_sub((limit / 4).min(Duration::from_millis(500))))
        .unwrap_or(DEFAULT_SCRAPE_WAIT);
    let snapshot = exporter.current(wait).await;
    let mut in_progress = String::new();
    gauge(
        &mut in_progress,
        "twilio_balance_round_in_progress",
        "Whether a round was still running when this answer was made (1): its results are not in it.",
        [(
            exporter.run_labels(),
            u8::from(exporter.running.load(SeqCst)),
        )],
    );
    let kind = "text/plain; version=0.0.4; charset=utf-8";
    let parts = [snapshot.metrics.clone(), in_progress.into()];
    ([(header::CONTENT_TYPE, kind)], shared_body(parts))
}

/// A body of parts, each written as it is: the round's shared part is never copied per request.
fn shared_body<const N: usize>(parts: [Bytes; N]) -> Body {
    let chunks = parts.map(Ok::<_, std::convert::Infallible>);
    Body::from_stream(futures_util::stream::iter(chunks))
}

impl Exporter {
    /// The cache while it is fresh; else the round this call starts or joins, if it ends
    /// within `wait` (or what there is, at shutdown).
    async fn current(self: &Arc<Self>, wait: Duration) -> Arc<Snapshot> {
        let mut next = self.latest.subscribe();
        let fresh = (next.borrow().finished).is_some_and(|(at, _)| at.elapsed() < self.cache);
        if !fresh {
            self.start_round();
            let mut stopping = self.stopping.subscribe();
            tokio::select! {
                _ = tokio::time::timeout(wait, next.changed()) => {}
                _ = stopping.wait_for(|stop| *stop) => {}
            }
        }
        next.borrow().clone()
    }

    /// A round of fetches, unless one is already running.
    fn start_round(self: &Arc<Self>) {
        if self.running.swap(true, SeqCst) {
            return;
        }
        let exporter = self.clone();
        tokio::spawn(async move {
            let started = Instant::now();
            let outcomes = fetch::within(&exporter.targets, exporter.timeout).await;
            let now = SystemTime::now();
            let previous = exporter.latest.borrow().clone();
            let last_success = (outcomes.iter().zip(&previous.last_success))
                .map(|(outcome, before)| if outcome.is_ok() { Some(now) } else { *before })
                .collect();
            let failing_since = (outcomes.iter().zip(&previous.failing_since))
                .map(|(outcome, before)| outcome.is_err().then(|| before.unwrap_or(now)))
                .collect();
            exporter.publish(Snapshot {
                outcomes,
                last_success,
                failing_since,
                finished: Some((Instant::now(), now)),
                took: started.elapsed(),
                ..Snapshot::default()
            });
            exporter.running.store(false, SeqCst);
        });
    }

    /// Renders `snapshot`'s answers once, into it, and publishes it.
    fn publish(&self, mut snapshot: Snapshot) {
        snapshot.metrics = self.render(&snapshot).into();
        let rows: Vec<Row> = (self.targets.iter().zip(&snapshot.outcomes))
            .zip(&snapshot.failing_since)
            .map(|((target, outcome), since)| Row {
                target,
                outcome,
                failing_since: *since,
            })
            .collect();
        snapshot.page_rows = status_page::rows(&rows, self.demo).into();
        self.latest.send_replace(Arc::new(snapshot));
    }

    /// The labels of the series about the run itself (`demo="true"` under `--demo`).
    fn run_labels(&self) -> String {
        Report::new(&self.targets[..0], &[], self.demo).run_labels()
    }

    fn render(&self, snapshot: &Snapshot) -> String {
        let report = Report::new(&self.targets, &snapshot.outcomes, self.demo);
        let mut out = String::new();
        report.prometheus(&mut out);
        let unix = |at: SystemTime| {
            let secs = at
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap_or_default();
            format!("{:.3}", secs.as_secs_f64())
        };
        gauge(
            &mut out,
            "twilio_balance_last_success_timestamp_seconds",
            "When the account's balance was last fetched, in Unix seconds.",
            (self.targets.iter().zip(&snapshot.last_success))
                .filter_map(|(target, at)| Some((report.labels(target, None), unix((*at)?)))),
        );
        let demo = report.run_labels();
        if let Some((_, at)) = snapshot.finished {
            gauge(
                &mut out,
                "twilio_balance_round_duration_seconds",
                "How long the last round of fetches took.",
                [(demo.clone(), format!("{:.3}", snapshot.took.as_secs_f64()))],
            );
            gauge(
                &mut out,
                "twilio_balance_round_timestamp_seconds",
                "When the round whose results these are ended, in Unix seconds.",
                [(demo.clone(), unix(at))],
            );
        }
        out
    }
}
