//! `balance`: prints Twilio account balances, or checks them against a minimum, for one account
//! or several; text, JSON Lines, or Prometheus metrics for node_exporter.
//!
//! Credentials come from the `TWILIO_*` variables (one account, or subaccounts read with the
//! parent's credentials) or from `--config FILE` (accounts that each have their own). Without
//! them it refuses to run, unless `--demo` asks for the example documented in the spec.

use balance_cli::accounts::AccountArgs;
use balance_cli::destination::Destination;
use balance_cli::fetch;
use balance_cli::output::{Format, Report};
use balance_cli::serve;
use clap::Parser;
use std::path::PathBuf;
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
  balance --accounts-file subaccounts.txt --format prometheus --min 5 --output /var/lib/node_exporter/twilio.prom
  balance serve --config accounts.toml              # a Prometheus exporter (see balance serve --help)";

/// Fetch Twilio account balances.
#[derive(Parser, Debug)]
#[command(name = "balance", version, after_help = AFTER_HELP, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    report: ReportArgs,
}

#[derive(clap::Subcommand, Debug)]
enum Command {
    /// Serve the balances to Prometheus (GET /metrics, cached and shared between scrapes) and
    /// to people (GET /, a status page).
    Serve(serve::Args),
}

/// The one-shot report's own flags.
#[derive(clap::Args, Debug)]
struct ReportArgs {
    #[command(flatten)]
    accounts: AccountArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Shorthand for --format json: JSON Lines, one object per account.
    #[arg(long, conflicts_with = "format")]
    json: bool,
    /// Write the output to FILE atomically (a temporary file in the same directory, renamed);
    /// only a regular file or a new one, never one of the inputs.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

fn main() -> ExitCode {
    // clap's own usage errors exit 2, which here means "below minimum"; keep 2 for that alone.
    let cli = match balance_cli::command_line::<Cli>(1) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
    let outcome = match cli.command {
        Some(Command::Serve(args)) => balance_cli::run(serve::run(args)),
        None => balance_cli::run(report(cli.report)),
    };
    match outcome.and_then(|r| r) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn report(args: ReportArgs) -> Result<ExitCode, String> {
    // Everything the user named is checked before anything is sent.
    if args.output.is_some() && args.accounts.demo {
        return Err(
            "--output is refused with --demo: demo figures must not reach a file that \
                    monitoring reads"
                .into(),
        );
    }
    let accounts = args.accounts.accounts().await?;
    let destination = match &args.output {
        Some(path) => {
            Some(Destination::check(path, &accounts.inputs).map_err(|e| format!("--output {e}"))?)
        }
        None => None,
    };
    let targets = &accounts.targets;
    let outcomes = fetch::within(targets, args.accounts.client.timeout).await;
    let format = if args.json { Format::Json } else { args.format };
    let report = Report::new(targets.iter().zip(&outcomes), accounts.demo.is_some());
    let rendered = report.render(format);
    match &destination {
        Some(file) => file
            .write(rendered.as_bytes())
            .map_err(|e| format!("--output {e}"))?,
        // Not print!: a closed pipe is an error to report, not a panic.
        None => std::io::Write::write_all(&mut std::io::stdout(), rendered.as_bytes())
            .map_err(|e| format!("stdout: {e}"))?,
    }
    if format == Format::Text {
        report.below_lines().for_each(|line| eprintln!("{line}"));
    }
    Ok(ExitCode::from(report.exit_status()))
}
