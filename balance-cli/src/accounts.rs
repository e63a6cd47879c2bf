//! The accounts a run watches, each with the client that reads it: from `--config FILE` (every
//! account with its own credentials), or the environment's credentials (their own account, or
//! the SIDs given), or the demo server.

pub mod config;

use crate::args::ClientArgs;
use crate::fetch::Target;
use crate::{demo, input};
use balance_api::{AccountSid, Balance, BuildError, Client, ClientBuilder, Decimal};
use std::path::{Path, PathBuf};

/// Which accounts to read and how: the flags `balance` and `balance serve` share.
#[derive(clap::Args, Debug)]
pub struct AccountArgs {
    /// Several accounts, each with its own credentials: a TOML file of `[[account]]` tables.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["accounts", "accounts_file", "demo"])]
    pub config: Option<PathBuf>,
    /// Read this (sub)account with the environment's credentials; repeatable.
    /// Default: the credentials' own account.
    #[arg(long = "account", value_name = "SID")]
    pub accounts: Vec<String>,
    /// Read SIDs from FILE (`-` for stdin), one per line; blank lines and `#` comments ignored.
    #[arg(long, value_name = "FILE")]
    pub accounts_file: Option<PathBuf>,
    /// Use the example documented in Twilio's spec, served on loopback, instead of an account.
    /// Every output says it is demo data (and the one-shot --output is refused).
    #[arg(long)]
    pub demo: bool,
    /// Flag balances below AMOUNT (exact plain decimal, in each account's currency; the
    /// one-shot command then exits 2). A config file's `min` overrides it for its account.
    #[arg(long, value_name = "AMOUNT", value_parser = parse_min, allow_negative_numbers = true)]
    pub min: Option<Decimal>,
    /// How to reach Twilio.
    #[command(flatten)]
    pub client: ClientArgs,
}

fn parse_min(text: &str) -> Result<Decimal, String> {
    Balance::parse_amount(text)
        .map_err(|_| "not a plain decimal (digits, an optional - and .) held exactly".to_owned())
}

impl AccountArgs {
    /// Every account to read, each with its client, checked before any request.
    pub async fn accounts(&self) -> Result<Accounts, String> {
        let mut sids = (self.accounts.iter())
            .map(|s| s.parse())
            .collect::<Result<Vec<AccountSid>, _>>()
            .map_err(|e| format!("--account: {e}"))?;
        if let Some(path) = &self.accounts_file {
            sids.extend(read_accounts(path)?);
            if sids.is_empty() {
                // A generated list that came out empty must not pass as "all good".
                return Err(format!(
                    "--accounts-file {} lists no account",
                    path.display()
                ));
            }
        }
        if let Some(path) = &self.config {
            return config::read(path, self.min, &self.client, "balance-cli");
        }
        let (client, demo) = own_client(&self.client, self.demo, "balance-cli").await?;
        if let Some(server) = &demo {
            eprintln!(
                "balance --demo: answers come from a demo server at {}",
                server.base_url()
            );
        }
        let targets = with_client(&client, sids, self.min);
        let inputs = self.accounts_file.iter().cloned().collect();
        Ok(Accounts {
            targets,
            demo,
            inputs,
        })
    }
}

/// What both programs say when there is nothing to read balances with.
const NO_CREDENTIALS: &str = "no Twilio credentials: set TWILIO_ACCOUNT_SID and \
    TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and TWILIO_API_SECRET), or pass --demo to see the \
    example documented in Twilio's spec; or --config FILE for accounts with credentials of \
    their own";

/// The one client of a run without a config file, with `flags` applied and `program` in its
/// user agent: the demo server's under `demo` (returned too, for the caller to keep and
/// announce), else the environment's credentials'.
pub async fn own_client(
    flags: &ClientArgs,
    demo: bool,
    program: &str,
) -> Result<(Client, Option<demo::Server>), String> {
    let text = |e: BuildError| crate::one_line(&e);
    let present = |var: &&str| std::env::var_os(var).is_some();
    // The first four of ENV_VARS are the credentials. Any of them present (even empty) is a
    // configuration to use or report, never a reason to fall back to demo data.
    let (builder, server) = if demo {
        flags.refuse_with_demo()?;
        let server = demo::Server::start().await?;
        (server.builder().map_err(text)?, Some(server))
    } else if balance_api::ENV_VARS[..4].iter().any(present) {
        (ClientBuilder::from_env().map_err(text)?, None)
    } else {
        return Err(NO_CREDENTIALS.into());
    };
    let client = flags.apply(builder).user_agent_suffix(program).build();
    Ok((client.map_err(text)?, server))
}

/// What a run reads: its accounts, the demo server when `--demo` asked for one (it stops when
/// dropped with the runtime), and the files it read them from.
#[derive(Default)]
pub struct Accounts {
    /// Every account to read, each with its client.
    pub targets: Vec<Target>,
    /// The demo server the clients talk to, under `--demo`.
    pub demo: Option<demo::Server>,
    /// The files read: the config, the accounts file, secret files (never to be overwritten).
    pub inputs: Vec<PathBuf>,
}

/// One SID per line; blank lines and `#` comments ignored; a bad line is an error naming it.
fn read_accounts(path: &Path) -> Result<Vec<AccountSid>, String> {
    let text = input::read_list(path).map_err(|e| format!("--accounts-file {e}"))?;
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

/// `sids` read with one client, each once, in first-seen order; no SID means the credentials'
/// own account.
pub fn with_client(client: &Client, sids: Vec<AccountSid>, min: Option<Decimal>) -> Vec<Target> {
    let mut seen = std::collections::HashSet::new();
    let sids = match sids.is_empty() {
        true => vec![client.account_sid().clone()],
        false => sids,
    };
    sids.into_iter()
        .filter(|sid| seen.insert(sid.clone()))
        .map(|account| Target {
            name: None,
            account,
            min,
            client: client.clone(),
        })
        .collect()
}
