//! `balance serve`: the balances as a Prometheus exporter.
//!
//! Answers are cached for `--cache` (balance changes lag anyway, and Twilio's API is rate
//! limited), and every scrape that finds the cache stale joins the one round of fetches in
//! progress, so several Prometheus replicas cost one round, not one each. A scrape waits for
//! that round no longer than Prometheus will wait for the scrape; past that it answers with
//! what it has and says a round is in progress. A failed fetch is reported as down, never
//! with the balance of an earlier round.

use crate::accounts::AccountArgs;
use crate::fetch::{Outcome, Problem, Target};
use crate::output::{Report, gauge};
use crate::rounds::{self, Round, Rounds};
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
use std::time::{Duration, Instant, SystemTime};

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
struct Snapshot {
    /// One per account, in order.
    accounts: Vec<Account>,
    /// When the round ended (None before the first).
    finished: Option<(Instant, SystemTime)>,
    took: Duration,
    /// `/metrics` but for the in-progress gauge, which is per request.
    metrics: Bytes,
    /// The status page's rows.
    page_rows: Bytes,
}

/// One account: what the last round found, and what earlier ones leave standing.
struct Account {
    target: Target,
    outcome: Outcome,
    /// When it last answered, across rounds.
    last_success: Option<SystemTime>,
    /// When its fetches started failing, across rounds, while they fail.
    failing_since: Option<SystemTime>,
}

impl rounds::Snapshot for Snapshot {
    fn finished(&self) -> Option<(Instant, SystemTime)> {
        self.finished
    }
}

struct Exporter {
    rounds: Arc<Rounds<Snapshot>>,
    demo: bool,
}

/// Serves until SIGTERM or SIGINT.
pub async fn run(args: Args) -> Result<ExitCode, String> {
    let accounts = args.accounts.accounts().await?;
    let demo = accounts.demo.is_some();
    let server = Server::bind(args.listen).await?;
    let address = server.local_addr()?;
    let make = move |targets: &[Target], previous: Option<&Snapshot>, round: Round| {
        snapshot(targets, demo, previous, round)
    };
    let timeout = args.accounts.client.timeout;
    let rounds = Rounds::new(accounts.targets, timeout, args.cache, make);
    // The first round starts now, so the first scrape rarely waits.
    rounds.start();
    let exporter = Arc::new(Exporter { rounds, demo });
    eprintln!("balance serve: listening on http://{address}/metrics");
    let mut app = axum::Router::new()
        .route("/metrics", get(metrics))
        .route("/", get(index))
        .fallback(|| async { (StatusCode::NOT_FOUND, "not found: try /metrics\n") })
        .with_state(exporter.clone());
    if address.ip().is_loopback() {
        app = crate::server::loopback_host_only(app, address);
    }
    server.run(app, || exporter.rounds.stop()).await;
    drop(accounts.demo);
    Ok(ExitCode::SUCCESS)
}

/// The status page: what the cache holds, after at most a short wait for a fresh round.
async fn index(State(exporter): State<Arc<Exporter>>) -> impl IntoResponse {
    let snapshot = exporter.rounds.current(PAGE_WAIT).await;
    let last_round = snapshot.finished.map(|(_, at)| at);
    let running = exporter.rounds.running();
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
    let snapshot = exporter.rounds.current(wait).await;
    let mut in_progress = String::new();
    gauge(
        &mut in_progress,
        "twilio_balance_round_in_progress",
        "Whether a round was still running when this answer was made (1): its results are not in it.",
        [(
            run_labels(exporter.demo),
            u8::from(exporter.rounds.running()),
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

/// `round` with what earlier rounds leave standing, its answers rendered once.
fn snapshot(targets: &[Target], demo: bool, previous: Option<&Snapshot>, round: Round) -> Snapshot {
    let at = round.finished.map(|(_, at)| at);
    let accounts = (targets.iter().zip(round.outcomes).enumerate())
        .map(|(i, (target, outcome))| {
            let before = previous.and_then(|p| p.accounts.get(i));
            let last_success = before.and_then(|b| b.last_success);
            let (last_success, failing_since) = match &outcome {
                Err(Problem::NotYet) => (last_success, None),
                Ok(_) => (at, None),
                Err(_) => (last_success, before.and_then(|b| b.failing_since).or(at)),
            };
            let target = target.clone();
            Account {
                target,
                outcome,
                last_success,
                failing_since,
            }
        })
        .collect();
    let mut snapshot = Snapshot {
        accounts,
        finished: round.finished,
        took: round.took,
        metrics: Bytes::new(),
        page_rows: Bytes::new(),
    };
    let rows = snapshot.accounts.iter().map(|a| Row {
        target: &a.target,
        outcome: &a.outcome,
        failing_since: a.failing_since,
    });
    snapshot.page_rows = status_page::rows(rows, demo).into();
    snapshot.metrics = render(demo, &snapshot).into();
    snapshot
}

/// The labels of the series about the run itself (`demo="true"` under `--demo`).
fn run_labels(demo: bool) -> String {
    Report::new([], demo).run_labels()
}

fn render(demo: bool, snapshot: &Snapshot) -> String {
    let accounts = || snapshot.accounts.iter();
    let report = Report::new(accounts().map(|a| (&a.target, &a.outcome)), demo);
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
        accounts().filter_map(|a| Some((report.labels(&a.target, None), unix(a.last_success?)))),
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
