//! `balance`: prints Twilio account balances, or checks them against a minimum, for one account
//! or a fleet of subaccounts; text, JSON Lines, or Prometheus metrics for node_exporter.
//!
//! With `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN` (or `TWILIO_API_KEY` + `TWILIO_API_SECRET`)
//! set, it asks Twilio. With none of them set it starts a demo server that answers with the
//! example documented in the spec.

#[path = "../common/mod.rs"]
mod common;
mod output;

use balance_api::{AccountSid, Balance, Client, ConfigError, Decimal, Error};
use clap::Parser;
use output::{Format, Report};
use std::path::PathBuf;
use std::process::ExitCode;

/// How much later than `--timeout` the whole run is cut, after each fetch's own deadline.
const RUN_GRACE: std::time::Duration = std::time::Duration::from_millis(500);

const AFTER_HELP: &str = "\
Exit status:
  0  every balance was fetched (and is at or above --min, if given)
  1  any error: bad arguments or settings, or any account that could not be fetched
  2  no errors, but at least one balance is below --min

Environment:
  TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN    account credentials
  TWILIO_API_KEY, TWILIO_API_SECRET        API Key credentials (preferred when set)
  TWILIO_REGION, TWILIO_EDGE               default region and edge
With none of the credential variables set, a built-in demo server answers with the spec's
example; with only some of them set, it is an error naming the missing one.

Examples:
  balance --min 20                                  # cron: mail on exit status 1 or 2
  balance --accounts-file subaccounts.txt --json    # JSON Lines, one object per account
  balance --accounts-file - --format prometheus --min 5 --output /var/lib/node_exporter/twilio.prom";

/// Fetch Twilio account balances.
#[derive(Parser, Debug)]
#[command(name = "balance", version, after_help = AFTER_HELP)]
struct Args {
    /// Fetch this (sub)account's balance with the parent's credentials; repeatable.
    /// Default: the credentials' own account.
    #[arg(long = "account", value_name = "SID")]
    accounts: Vec<String>,
    /// Read SIDs from FILE (`-` for stdin), one per line; blank lines and `#` comments ignored.
    #[arg(long, value_name = "FILE")]
    accounts_file: Option<PathBuf>,
    /// Requests in flight at most.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Shorthand for --format json: JSON Lines, one object per account.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Flag balances below AMOUNT (exact plain decimal, in each account's currency); exit 2.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_min)]
    min: Option<Decimal>,
    /// Write the output to FILE atomically (a temporary file in the same directory, renamed).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    settings: common::Settings,
}

fn parse_min(text: &str) -> Result<Decimal, String> {
    Balance::parse_amount(text)
        .map_err(|_| "not a plain decimal (digits, an optional - and .) held exactly".to_owned())
}

fn main() -> ExitCode {
    // clap's own usage errors exit 2, which here means "below minimum"; keep 2 for that alone.
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 1 } else { 0 });
        }
    };
    match common::run(run(args)).and_then(|r| r.map_err(|e| e.to_string())) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, Error> {
    // Every SID is checked before anything else: an invalid one never costs a request.
    let mut accounts = args
        .accounts
        .iter()
        .map(|s| s.parse())
        .collect::<Result<Vec<AccountSid>, _>>()?;
    if let Some(path) = &args.accounts_file {
        accounts.extend(read_accounts(path)?);
    }
    let (builder, _demo) = if common::credentials_set() {
        (args.settings.builder()?, None)
    } else {
        args.settings.check_demo()?;
        let demo = common::demo::Server::start()
            .await
            .map_err(ConfigError::new)?;
        eprintln!(
            "No Twilio credentials in the environment (TWILIO_ACCOUNT_SID, ...); using the demo server at {}",
            demo.base_url()
        );
        (args.settings.apply(demo.builder()?)?, Some(demo))
    };
    let client = builder.user_agent_suffix("balance-cli").build()?;
    if args.accounts.is_empty() && args.accounts_file.is_none() {
        accounts.push(client.account_sid().clone());
    } else if accounts.is_empty() {
        // A generated list that came out empty must not pass as "all good".
        return Err(ConfigError::new("--accounts-file lists no account").into());
    }
    let results = fetch(&client, accounts, &args).await;
    let format = if args.json { Format::Json } else { args.format };
    let report = Report::new(results, args.min);
    let text = report.render(format);
    match &args.output {
        Some(path) => output::write_atomically(path, text.as_bytes())
            .map_err(|e| ConfigError::new(format!("--output {}: {e}", path.display())))?,
        // Not print!: a closed pipe is an error to report, not a panic.
        None => std::io::Write::write_all(&mut std::io::stdout(), text.as_bytes())
            .map_err(|e| ConfigError::new(format!("stdout: {e}")))?,
    }
    if format == Format::Text {
        report.below_lines().for_each(|line| eprintln!("{line}"));
    }
    Ok(ExitCode::from(report.exit_status()))
}

/// The batch, bounded as a whole by `--timeout`. Each fetch is bounded by it too and ends first
/// with its own "timed out" error; the whole-run bound (a little later, so the two never race)
/// catches accounts still queued behind `--concurrency` when time runs out.
async fn fetch(
    client: &Client,
    accounts: Vec<AccountSid>,
    args: &Args,
) -> Vec<(AccountSid, Result<Balance, Error>)> {
    let batch = client.fetch_balances(accounts.clone(), args.concurrency.into());
    match args.settings.timeout {
        None => batch.await,
        Some(limit) => match tokio::time::timeout(limit + RUN_GRACE, batch).await {
            Ok(results) => results,
            Err(_) => {
                let why = format!(
                    "not fetched: the --timeout of {limit:?} ran out first (raise it, or --concurrency)"
                );
                let err = || Error::Config(ConfigError::new(why.clone()));
                accounts.into_iter().map(|a| (a, Err(err()))).collect()
            }
        },
    }
}

/// One SID per line; blank lines and `#` comments ignored; the first bad line is an error
/// naming it.
fn read_accounts(path: &std::path::Path) -> Result<Vec<AccountSid>, Error> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| ConfigError::new(format!("--accounts-file {}: {e}", path.display())))?;
    let mut accounts = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let sid = line.split('#').next().unwrap_or_default().trim();
        if sid.is_empty() {
            continue;
        }
        let sid = sid
            .parse()
            .map_err(|e| ConfigError::new(format!("{}:{}: {e}", path.display(), number + 1)))?;
        accounts.push(sid);
    }
    Ok(accounts)
}
