//! The accounts a run watches, each with the client that reads it: from `--config FILE` (every
//! account with its own credentials), or the environment's credentials (their own account, or
//! the SIDs given), or the demo server.

use crate::args::{self, ClientArgs};
use crate::demo;
use balance_api::{AccountSid, Balance, Client, ClientBuilder, Credentials, Decimal};
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::de::{DeTable, DeValue};

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
    /// Requests in flight at most, across all accounts.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,
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
    /// The files the user named as inputs (an output must not overwrite them).
    pub fn inputs(&self) -> Vec<&Path> {
        [self.config.as_deref(), self.accounts_file.as_deref()]
            .into_iter()
            .flatten()
            .collect()
    }

    /// Every account to read, each with its client, checked before any request; and the demo
    /// server when `--demo` asked for one (it stops when dropped with the runtime).
    pub async fn targets(&self) -> Result<(Vec<Target>, Option<demo::Server>), String> {
        let text = |e: balance_api::Error| e.to_string();
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
        let configure = |builder: ClientBuilder| {
            (self.client.apply(builder)).map(|b| b.user_agent_suffix("balance-cli"))
        };
        if let Some(path) = &self.config {
            return Ok((from_config(path, self.min, configure)?, None));
        }
        if self.demo {
            self.client.refuse_with_demo()?;
            let server = demo::Server::start().await?;
            eprintln!(
                "balance --demo: answers come from a demo server at {}",
                server.base_url()
            );
            let client = configure(server.builder().map_err(text)?).and_then(|b| b.build());
            let targets = with_client(&client.map_err(text)?, sids, self.min);
            return Ok((targets, Some(server)));
        }
        if args::credentials_set() {
            let client = (self.client.builder())
                .and_then(|b| b.user_agent_suffix("balance-cli").build())
                .map_err(text)?;
            return Ok((with_client(&client, sids, self.min), None));
        }
        Err(format!(
            "{}; or --config FILE for accounts with credentials of their own",
            args::NO_CREDENTIALS
        ))
    }
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

/// One account to read, and how.
#[derive(Debug, Clone)]
pub struct Target {
    /// The `name` from the config file: a label in every output.
    pub name: Option<String>,
    /// The account whose balance is read.
    pub account: AccountSid,
    /// The account's own threshold, else the run's `--min`.
    pub min: Option<Decimal>,
    /// The client that reads it, with the credentials that may.
    pub client: Client,
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

/// Keys an `[[account]]` table may hold.
const KEYS: [&str; 11] = [
    "name",
    "account_sid",
    "parent_account_sid",
    "auth_token_env",
    "auth_token_file",
    "api_key",
    "api_secret_env",
    "api_secret_file",
    "region",
    "edge",
    "min",
];

/// Reads and checks the whole accounts file before any request: every problem is reported at
/// once, each as `FILE:LINE: problem`. `configure` applies the run's own flags to each
/// account's builder before the file's region and edge.
pub fn from_config(
    path: &Path,
    run_min: Option<Decimal>,
    configure: impl Fn(ClientBuilder) -> Result<ClientBuilder, balance_api::Error>,
) -> Result<Vec<Target>, String> {
    let raw = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    // Editors on some systems save a byte-order mark; it is not part of the TOML.
    let text = raw.strip_prefix('\u{feff}').unwrap_or(&raw);
    let offset = raw.len() - text.len();
    let at = |span: Range<usize>| {
        let line = raw[..(span.start + offset).min(raw.len())]
            .matches('\n')
            .count()
            + 1;
        format!("{}:{line}", path.display())
    };
    let doc = DeTable::parse(text).map_err(|e| {
        let line = e
            .span()
            .map(&at)
            .unwrap_or_else(|| path.display().to_string());
        format!("{line}: not valid TOML: {}", e.message())
    })?;
    let mut problems: Vec<(Range<usize>, String)> = Vec::new();
    let mut tables = Vec::new();
    for (key, value) in doc.get_ref() {
        match (key.get_ref().as_ref(), value.get_ref()) {
            ("account", DeValue::Array(items)) => {
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::Table(table) => tables.push((item.span(), table)),
                        _ => problems.push((
                            item.span(),
                            "`account` entries must be tables: write [[account]]".into(),
                        )),
                    }
                }
            }
            ("account", _) => problems.push((
                value.span(),
                "`account` must be an array of tables: write [[account]]".into(),
            )),
            (other, _) => problems.push((
                key.span(),
                format!("unknown key `{other}` (accounts go in [[account]] tables)"),
            )),
        }
    }
    if tables.is_empty() && problems.is_empty() {
        return Err(format!("{}: lists no [[account]]", path.display()));
    }
    let mut targets = Vec::new();
    let mut names: Vec<(String, Range<usize>)> = Vec::new();
    let mut sids: Vec<(AccountSid, Range<usize>)> = Vec::new();
    let mut clients = std::collections::HashMap::new();
    for (span, table) in tables {
        let entry = Entry { span, table };
        match entry.target(run_min, &configure, &mut clients) {
            Ok(target) => {
                let name = target.name.clone().unwrap_or_default();
                if let Some((_, first)) = names.iter().find(|(n, _)| *n == name) {
                    let why = format!("name {name:?} is already used at {}", at(first.clone()));
                    problems.push((entry.span_of("name"), why));
                } else if let Some((_, first)) = sids.iter().find(|(s, _)| *s == target.account) {
                    let why = format!(
                        "{} is already listed at {}",
                        target.account,
                        at(first.clone())
                    );
                    problems.push((entry.span_of("account_sid"), why));
                } else {
                    names.push((name, entry.span_of("name")));
                    sids.push((target.account.clone(), entry.span_of("account_sid")));
                    targets.push(target);
                }
            }
            Err(found) => problems.extend(found),
        }
    }
    if problems.is_empty() {
        return Ok(targets);
    }
    problems.sort_by_key(|(span, _)| span.start);
    let lines: Vec<String> = problems
        .into_iter()
        .map(|(span, why)| format!("{}: {why}", at(span)))
        .collect();
    Err(lines.join("\n"))
}

/// One `[[account]]` table.
struct Entry<'a, 'i> {
    span: Range<usize>,
    table: &'a DeTable<'i>,
}

type Problems = Vec<(Range<usize>, String)>;

impl Entry<'_, '_> {
    fn span_of(&self, key: &str) -> Range<usize> {
        self.table
            .get_key_value(key)
            .map_or(self.span.clone(), |(k, _)| k.span())
    }

    /// The key's string value; a key of another type is a problem, an absent one `None`.
    fn text(&self, key: &str, problems: &mut Problems) -> Option<String> {
        let value = self.table.get(key)?;
        match value.get_ref() {
            DeValue::String(s) if !s.is_empty() => Some(s.to_string()),
            DeValue::String(_) => {
                problems.push((value.span(), format!("`{key}` is empty")));
                None
            }
            _ => {
                problems.push((value.span(), format!("`{key}` must be a string")));
                None
            }
        }
    }

    fn target(
        &self,
        run_min: Option<Decimal>,
        configure: &impl Fn(ClientBuilder) -> Result<ClientBuilder, balance_api::Error>,
        clients: &mut std::collections::HashMap<String, Client>,
    ) -> Result<Target, Problems> {
        let mut problems = Problems::new();
        for (key, _) in self.table.iter() {
            let key_name = key.get_ref().as_ref();
            let why = match key_name {
                "auth_token" | "api_secret" => format!(
                    "`{key_name}` would put a secret in this file: name where it is kept with \
                     `{key_name}_env` (an environment variable) or `{key_name}_file`"
                ),
                known if KEYS.contains(&known) => continue,
                other => format!("unknown key `{other}`; known: {}", KEYS.join(", ")),
            };
            problems.push((key.span(), why));
        }
        let name = self.text("name", &mut problems);
        if name.is_none() && !self.table.contains_key("name") {
            problems.push((
                self.span.clone(),
                "`name` is missing (a label for the outputs)".into(),
            ));
        }
        let sid = |key: &str, problems: &mut Problems| {
            let text = self.text(key, problems)?;
            text.parse::<AccountSid>()
                .map_err(|e| problems.push((self.table[key].span(), format!("`{key}`: {e}"))))
                .ok()
        };
        let account = sid("account_sid", &mut problems);
        if !self.table.contains_key("account_sid") {
            problems.push((self.span.clone(), "`account_sid` is missing".into()));
        }
        let parent = sid("parent_account_sid", &mut problems);
        let credentials = self.credentials(account.as_ref(), parent, &mut problems);
        let min = self.min(&mut problems).or(run_min);
        let (region, edge) = (
            self.text("region", &mut problems),
            self.text("edge", &mut problems),
        );
        let (Some(name), Some(account), Some(credentials), true) =
            (name, account, credentials, problems.is_empty())
        else {
            return Err(problems);
        };
        // Accounts read with the same credentials at the same host share one client: one
        // connection pool, and one 429 pause for the one rate limit they share.
        let secret_from: Vec<&str> = [
            "auth_token_env",
            "auth_token_file",
            "api_secret_env",
            "api_secret_file",
        ]
        .iter()
        .filter_map(|key| match self.table.get(*key)?.get_ref() {
            DeValue::String(s) => Some(s.as_ref()),
            _ => None,
        })
        .collect();
        let key = format!(
            "{}:{}:{secret_from:?}:{region:?}:{edge:?}",
            credentials.account_sid(),
            credentials.username()
        );
        let client = match clients.get(&key) {
            Some(client) => client.clone(),
            None => {
                let mut builder = configure(Client::builder().credentials(credentials))
                    .map_err(|e| vec![(self.span.clone(), e.to_string())])?;
                if let Some(region) = region {
                    builder = builder.region(region);
                }
                if let Some(edge) = edge {
                    builder = builder.edge(edge);
                }
                let client = builder
                    .build()
                    .map_err(|e| vec![(self.span.clone(), e.to_string())])?;
                clients.insert(key, client.clone());
                client
            }
        };
        Ok(Target {
            name: Some(name),
            account,
            min,
            client,
        })
    }

    /// An exact decimal: a string, or an integer; a float is refused, since TOML floats are
    /// binary and `0.1` is not what it says.
    fn min(&self, problems: &mut Problems) -> Option<Decimal> {
        let value = self.table.get("min")?;
        let text = match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Integer(i) if i.radix() == 10 => i.as_str().replace('_', ""),
            DeValue::Float(f) => {
                let why = format!(
                    "`min` must be exact: write it as a string, min = \"{}\"",
                    f.as_str()
                );
                problems.push((value.span(), why));
                return None;
            }
            _ => {
                problems.push((
                    value.span(),
                    "`min` must be a decimal string such as \"20\"".into(),
                ));
                return None;
            }
        };
        Balance::parse_amount(&text)
            .map_err(|_| {
                problems.push((
                    value.span(),
                    "`min` is not a plain decimal (digits, an optional - and .)".into(),
                ))
            })
            .ok()
    }

    /// An Auth Token or an API Key and its secret, each secret named by reference only.
    fn credentials(
        &self,
        account: Option<&AccountSid>,
        parent: Option<AccountSid>,
        problems: &mut Problems,
    ) -> Option<Credentials> {
        let api_key = self.text("api_key", problems);
        let (kind, wrong) = match api_key {
            Some(_) => ("api_secret", "auth_token"),
            None => ("auth_token", "api_secret"),
        };
        for key in [format!("{wrong}_env"), format!("{wrong}_file")] {
            if self.table.contains_key(key.as_str()) {
                let why = match api_key {
                    Some(_) => format!(
                        "`{key}` does not go with `api_key` (use `api_secret_env` or `api_secret_file`)"
                    ),
                    None => format!("`{key}` needs `api_key`"),
                };
                problems.push((self.span_of(&key), why));
            }
        }
        let (env_key, file_key) = (format!("{kind}_env"), format!("{kind}_file"));
        let secret = match (
            self.text(&env_key, problems),
            self.text(&file_key, problems),
        ) {
            (Some(var), None) => match std::env::var(&var) {
                Ok(value) if !value.is_empty() => Some(value),
                Ok(_) => {
                    problems.push((
                        self.table[env_key.as_str()].span(),
                        format!("the variable {var} is set but empty"),
                    ));
                    None
                }
                Err(_) => {
                    problems.push((
                        self.table[env_key.as_str()].span(),
                        format!("the variable {var} is not set (or not UTF-8)"),
                    ));
                    None
                }
            },
            (None, Some(file)) => crate::secret_file::read(Path::new(&file))
                .map_err(|why| problems.push((self.table[file_key.as_str()].span(), why)))
                .ok(),
            (Some(_), Some(_)) => {
                problems.push((
                    self.span_of(&file_key),
                    format!("give `{env_key}` or `{file_key}`, not both"),
                ));
                None
            }
            (None, None) => {
                if !self.table.contains_key(env_key.as_str())
                    && !self.table.contains_key(file_key.as_str())
                {
                    problems.push((
                        self.span.clone(),
                        format!("no secret: give `{env_key}` or `{file_key}`"),
                    ));
                }
                None
            }
        };
        // Whose credentials these are: the parent's when reading a subaccount with them.
        let owner = parent.or(account.cloned())?;
        let secret = secret?;
        let made = match &api_key {
            Some(key) => Credentials::api_key(owner, key, secret),
            None => Credentials::auth_token(owner, secret),
        };
        made.map_err(|e| {
            problems.push((
                self.span_of(if api_key.is_some() {
                    "api_key"
                } else {
                    &env_key
                }),
                e.to_string(),
            ))
        })
        .ok()
    }
}
