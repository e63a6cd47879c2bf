//! `balance`: prints Twilio account balances, or checks them against a minimum, for one account
//! or several; text, JSON Lines, or Prometheus metrics for node_exporter.
//!
//! Credentials come from the `TWILIO_*` variables (one account, or subaccounts read with the
//! parent's credentials) or from `--config FILE` (accounts that each have their own). Without
//! them it refuses to run, unless `--demo` asks for the example documented in the spec.

mod accounts;
#[path = "../common/mod.rs"]
mod common;
mod destination;
mod fetch;
mod output;

use balance_api::{AccountSid, Balance, Decimal};
use clap::Parser;
use destination::Destination;
use output::{Format, Report};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Exit status:
  0  every balance was fetched (and is at or above its minimum, if any)
  1  any error: bad arguments or settings, or any account that could not be fetched
  2  no errors, but at least one balance is below its minimum
A subaccount has no balance of its own (Twilio bills it to its parent account): it is reported
as such, and counts as neither below nor failed.

Accounts:
  TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN        one account's own credentials
    (or TWILIO_API_KEY and TWILIO_API_SECRET)      ... as an API Key
  TWILIO_REGION, TWILIO_EDGE                       default region and edge
  --config FILE                                    several accounts, each with its own
                                                   credentials (see the README)
  --demo                                           no account: the example documented in the
                                                   spec, marked as demo data in every output
Without credentials, --config or --demo it exits 1 and says what to set.

Examples:
  balance --min 20                                  # cron: mail on exit status 1 or 2
  balance --config accounts.toml --json             # JSON Lines, one object per account
  balance --accounts-file subaccounts.txt --format prometheus --min 5 --output /var/lib/node_exporter/twilio.prom";

/// Fetch Twilio account balances.
#[derive(Parser, Debug)]
#[command(name = "balance", version, after_help = AFTER_HELP)]
struct Args {
    /// Several accounts, each with its own credentials: a TOML file of [[account]] tables.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["accounts", "accounts_file", "demo"])]
    config: Option<PathBuf>,
    /// Read this (sub)account with the environment's credentials; repeatable.
    /// Default: the credentials' own account.
    #[arg(long = "account", value_name = "SID")]
    accounts: Vec<String>,
    /// Read SIDs from FILE (`-` for stdin), one per line; blank lines and `#` comments ignored.
    #[arg(long, value_name = "FILE")]
    accounts_file: Option<PathBuf>,
    /// Use the example documented in Twilio's spec, served on loopback, instead of an account.
    /// Every output says it is demo data; --output is refused.
    #[arg(long)]
    demo: bool,
    /// Requests in flight at most, across all accounts.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Shorthand for --format json: JSON Lines, one object per account.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Flag balances below AMOUNT (exact plain decimal, in each account's currency); exit 2.
    /// A config file's `min` overrides it for its account.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_min, allow_negative_numbers = true)]
    min: Option<Decimal>,
    /// Write the output to FILE atomically (a temporary file in the same directory, renamed);
    /// only a regular file or a new one, never one of the inputs.
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
    match common::run(run(args)).and_then(|r| r) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, String> {
    let text = |e: balance_api::Error| e.to_string();
    // Everything the user named is checked before anything is sent.
    let inputs: Vec<&Path> = [args.config.as_deref(), args.accounts_file.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let destination = match &args.output {
        Some(_) if args.demo => {
            return Err(
                "--output is refused with --demo: demo figures must not reach a file \
                        that monitoring reads"
                    .into(),
            );
        }
        Some(path) => Some(Destination::check(path, &inputs).map_err(|e| format!("--output {e}"))?),
        None => None,
    };
    let mut sids = (args.accounts.iter())
        .map(|s| s.parse())
        .collect::<Result<Vec<AccountSid>, _>>()
        .map_err(|e| format!("--account: {e}"))?;
    if let Some(path) = &args.accounts_file {
        sids.extend(read_accounts(path)?);
        if sids.is_empty() {
            // A generated list that came out empty must not pass as "all good".
            return Err(format!(
                "--accounts-file {} lists no account",
                path.display()
            ));
        }
    }
    let configure = |builder: balance_api::ClientBuilder| {
        args.settings
            .apply(builder)
            .map(|b| b.user_agent_suffix("balance-cli"))
    };
    let mut demo = None;
    let targets = if let Some(path) = &args.config {
        accounts::from_config(path, args.min, configure)?
    } else if args.demo {
        args.settings.check_demo()?;
        let server = common::demo::Server::start().await?;
        eprintln!(
            "balance --demo: answers come from a demo server at {}",
            server.base_url()
        );
        let client = configure(server.builder().map_err(text)?).and_then(|b| b.build());
        let targets = accounts::with_client(&client.map_err(text)?, sids, args.min);
        demo = Some(server);
        targets
    } else if common::credentials_set() {
        let client = args
            .settings
            .builder()
            .and_then(|b| b.user_agent_suffix("balance-cli").build());
        accounts::with_client(&client.map_err(text)?, sids, args.min)
    } else {
        return Err(format!(
            "{}; or --config FILE for accounts with credentials of their own",
            common::NO_CREDENTIALS
        ));
    };
    let outcomes = fetch::all(&targets, args.concurrency.into(), args.settings.timeout).await;
    let format = if args.json { Format::Json } else { args.format };
    let report = Report::new(
        &targets,
        outcomes,
        demo.as_ref().map(|_| common::demo::NOTE.as_str()),
    );
    let rendered = report.render(format);
    match &destination {
        Some(file) => file.write(rendered.as_bytes()).map_err(|e| {
            format!(
                "--output {}: {e}",
                args.output.as_deref().unwrap_or(Path::new("?")).display()
            )
        })?,
        // Not print!: a closed pipe is an error to report, not a panic.
        None => std::io::Write::write_all(&mut std::io::stdout(), rendered.as_bytes())
            .map_err(|e| format!("stdout: {e}"))?,
    }
    if format == Format::Text {
        report.below_lines().for_each(|line| eprintln!("{line}"));
    }
    Ok(ExitCode::from(report.exit_status()))
}

/// One SID per line; blank lines and `#` comments ignored; a bad line is an error naming it.
fn read_accounts(path: &Path) -> Result<Vec<AccountSid>, String> {
    let text = if path.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin())
    } else {
        std::fs::read_to_string(path)
    }
    .map_err(|e| format!("--accounts-file {}: {e}", path.display()))?;
    // Editors on some systems save a byte-order mark; it is no part of the first SID.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let mut accounts = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let sid = line.split('#').next().unwrap_or_default().trim();
        if sid.is_empty() {
            continue;
        }
        let sid = sid
            .parse()
            .map_err(|e| format!("{}:{}: {e}", path.display(), number + 1))?;
        accounts.push(sid);
    }
    Ok(accounts)
}
