//! The accounts a run watches, each with the client that reads it: from `--config FILE` (every
//! account with its own credentials), or the environment's credentials (their own account, or
//! the SIDs given), or the demo server.

use crate::args::ClientArgs;
use crate::{demo, input};
use balance_api::{AccountSid, Balance, Client, ClientBuilder, Credentials, Decimal};
use std::collections::HashMap;
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
            return from_config(path, self.min, &self.client, "balance-cli");
        }
        let (client, demo) = self.client.client(self.demo, "balance-cli").await?;
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

/// Problems found in the file, each at the span it is about.
type Problems = Vec<(Range<usize>, String)>;

/// Reads and checks the whole accounts file before any request: every problem is reported at
/// once, each as `FILE:LINE: problem`. Its accounts come in file order, with the secret files
/// they name as inputs (which an output must never overwrite). Each account's client has the run's own flags (`client`)
/// applied before the file's region and edge, and `program` in its user agent.
pub fn from_config(
    path: &Path,
    run_min: Option<Decimal>,
    client: &ClientArgs,
    program: &str,
) -> Result<Accounts, String> {
    let configure = |builder| client.apply(builder).user_agent_suffix(program);
    let raw = input::read_list(path)?;
    // Editors on some systems save a byte-order mark; it is not part of the TOML (nor a line).
    let text = raw.strip_prefix('\u{feff}').unwrap_or(&raw);
    let line_starts: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    let at = |span: &Range<usize>| {
        let line = line_starts.partition_point(|&start| start < span.start) + 1;
        format!("{}:{line}", path.display())
    };
    let doc = DeTable::parse(text).map_err(|e| {
        let place = (e.span().as_ref()).map_or_else(|| path.display().to_string(), &at);
        format!("{place}: not valid TOML: {}", e.message())
    })?;
    let mut problems = Problems::new();
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
    let mut config = Accounts {
        inputs: vec![path.to_owned()],
        ..Accounts::default()
    };
    let mut names = HashMap::new();
    let mut sids = HashMap::new();
    let mut clients = HashMap::new();
    for (span, table) in tables {
        let mut entry = Entry {
            span,
            table,
            problems: Problems::new(),
        };
        let Some(target) = entry.target(run_min, &configure, &mut clients, &mut config) else {
            problems.append(&mut entry.problems);
            continue;
        };
        let (name_at, sid_at) = (entry.span_of("name"), entry.span_of("account_sid"));
        let name = target.name.clone().unwrap_or_default();
        if let Some(first) = names.get(&name) {
            problems.push((
                name_at,
                format!("name {name:?} is already used at {}", at(first)),
            ));
        } else if let Some(first) = sids.get(&target.account) {
            let why = format!("{} is already listed at {}", target.account, at(first));
            problems.push((sid_at, why));
        } else {
            names.insert(name, name_at);
            sids.insert(target.account.clone(), sid_at);
            config.targets.push(target);
        }
    }
    if problems.is_empty() {
        return Ok(config);
    }
    Err(report(path, problems, at))
}

/// The report of a config's `problems`, in file order: the first [`PROBLEMS_SHOWN`], how many
/// more there are, and the known keys once if any key was unknown.
fn report(path: &Path, mut problems: Problems, at: impl Fn(&Range<usize>) -> String) -> String {
    problems.sort_by_key(|(span, _)| span.start);
    let mut lines: Vec<String> = (problems.iter().take(PROBLEMS_SHOWN))
        .map(|(span, why)| format!("{}: {why}", at(span)))
        .collect();
    if let more @ 1.. = problems.len().saturating_sub(PROBLEMS_SHOWN) {
        lines.push(format!("{}: and {more} more problems", path.display()));
    }
    if (problems.iter()).any(|(_, why)| why.starts_with("unknown key `")) {
        let keys = KEYS.join(", ");
        lines.push(format!(
            "{}: an [[account]] knows the keys {keys}",
            path.display()
        ));
    }
    lines.join("\n")
}

/// How many problems a config's report lists; the rest are counted.
const PROBLEMS_SHOWN: usize = 100;

/// `text` (a variable name or path from the file) as a message may show it: itself only when it
/// cannot be a secret pasted in the wrong key (Twilio's are letters and digits, with lower
/// case), so when it is a variable name (`A-Z`, `0-9`, `_`) or a path (with a `/` or a `.`);
/// else `instead`.
fn shown(text: &str, instead: String) -> String {
    let variable =
        (text.bytes()).all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    match variable || text.contains(['/', '.']) {
        true => text.to_owned(),
        false => instead,
    }
}

/// One `[[account]]` table, and the problems found in it so far.
struct Entry<'a, 'i> {
    span: Range<usize>,
    table: &'a DeTable<'i>,
    problems: Problems,
}

impl Entry<'_, '_> {
    /// Where `key` is written, or the whole table when it is not.
    fn span_of(&self, key: &str) -> Range<usize> {
        (self.table.get_key_value(key)).map_or(self.span.clone(), |(k, _)| k.span())
    }

    fn problem(&mut self, span: Range<usize>, why: impl Into<String>) {
        self.problems.push((span, why.into()));
    }

    /// Records a problem; `None`, for the value it leaves unknown.
    fn none<T>(&mut self, span: Range<usize>, why: impl Into<String>) -> Option<T> {
        self.problem(span, why);
        None
    }

    /// The key's non-empty string value and its span; a value of another type is a problem, an
    /// absent key `None`.
    fn text(&mut self, key: &str) -> Option<(String, Range<usize>)> {
        let value = self.table.get(key)?;
        match value.get_ref() {
            DeValue::String(s) if !s.is_empty() => Some((s.to_string(), value.span())),
            DeValue::String(_) => self.none(value.span(), format!("`{key}` is empty")),
            _ => self.none(value.span(), format!("`{key}` must be a string")),
        }
    }

    /// The key's value, which must be there.
    fn required(&mut self, key: &str, why: &str) -> Option<(String, Range<usize>)> {
        if !self.table.contains_key(key) {
            self.problem(self.span.clone(), format!("`{key}` is missing{why}"));
        }
        self.text(key)
    }

    fn sid(&mut self, key: &str) -> Option<AccountSid> {
        let (text, span) = self.text(key)?;
        (text.parse())
            .map_err(|e| self.problem(span, format!("`{key}`: {e}")))
            .ok()
    }

    fn target(
        &mut self,
        run_min: Option<Decimal>,
        configure: &impl Fn(ClientBuilder) -> ClientBuilder,
        clients: &mut HashMap<String, Client>,
        config: &mut Accounts,
    ) -> Option<Target> {
        for (key, _) in self.table.iter() {
            let why = match key.get_ref().as_ref() {
                known if KEYS.contains(&known) => continue,
                inline @ ("auth_token" | "api_secret") => format!(
                    "`{inline}` would put a secret in this file: name where it is kept with \
                     `{inline}_env` (an environment variable) or `{inline}_file`"
                ),
                other => format!("unknown key `{other}`"),
            };
            self.problem(key.span(), why);
        }
        let name = self.required("name", " (a label for the outputs)");
        if let Some((name, span)) = &name
            && name.chars().any(char::is_control)
        {
            self.problem(
                span.clone(),
                "`name` holds a control character (a tab, a newline, …)",
            );
        }
        if !self.table.contains_key("account_sid") {
            self.problem(self.span.clone(), "`account_sid` is missing");
        }
        let account = self.sid("account_sid");
        let parent = self.sid("parent_account_sid");
        // Whose credentials these are: the parent's when reading a subaccount with them.
        let owner = parent.or(account.clone());
        let credentials = self.credentials(owner, config);
        let min = self.min().or(run_min);
        let region = self.text("region").map(|(r, _)| r);
        let edge = self.text("edge").map(|(e, _)| e);
        let (Some((name, _)), Some(account), Some((credentials, secret_from)), true) =
            (name, account, credentials, self.problems.is_empty())
        else {
            return None;
        };
        // Accounts read with the same credentials at the same host share one client: one 429
        // pause for the one rate limit they share.
        let key = format!(
            "{}:{}:{secret_from}:{region:?}:{edge:?}",
            credentials.account_sid(),
            credentials.username()
        );
        let client = match clients.get(&key) {
            Some(client) => client.clone(),
            None => {
                let mut builder = configure(Client::builder().credentials(credentials));
                // Every account shares one connection pool and TLS setup; each client adds
                // only what its requests carry (and its own 429 pause).
                if let Some(transport) = clients.values().next() {
                    builder = builder.transport_of(transport);
                }
                if let Some(region) = region {
                    builder = builder.region(region);
                }
                if let Some(edge) = edge {
                    builder = builder.edge(edge);
                }
                let client = builder
                    .build()
                    .map_err(|e| self.problem(self.span.clone(), crate::one_line(&e)))
                    .ok()?;
                clients.entry(key).or_insert(client).clone()
            }
        };
        Some(Target {
            name: Some(name),
            account,
            min,
            client,
        })
    }

    /// An exact decimal: a string, or an integer; a float is refused, since TOML floats are
    /// binary and `0.1` is not what it says.
    fn min(&mut self) -> Option<Decimal> {
        let value = self.table.get("min")?;
        let text = match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Integer(i) if i.radix() == 10 => i.as_str().replace('_', ""),
            DeValue::Float(f) => {
                let why = format!(
                    "`min` must be exact: write it as a string, min = \"{}\"",
                    f.as_str()
                );
                return self.none(value.span(), why);
            }
            _ => {
                return self.none(
                    value.span(),
                    "`min` must be a decimal string such as \"20\"",
                );
            }
        };
        let why = "`min` is not a plain decimal (digits, an optional - and .)";
        Balance::parse_amount(&text)
            .map_err(|_| self.problem(value.span(), why))
            .ok()
    }

    /// An Auth Token, or an API Key and its secret, each secret named by reference only; and
    /// where the secret came from. A secret file is recorded in `config`.
    fn credentials(
        &mut self,
        owner: Option<AccountSid>,
        config: &mut Accounts,
    ) -> Option<(Credentials, String)> {
        let api_key = self.text("api_key");
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
                self.problem(self.span_of(&key), why);
            }
        }
        let (env_key, file_key) = (format!("{kind}_env"), format!("{kind}_file"));
        let (secret, from) = match (self.text(&env_key), self.text(&file_key)) {
            (Some((var, span)), None) => match std::env::var(&var) {
                Ok(value) if !value.is_empty() => (Some(value), format!("env:{var}")),
                unusable => {
                    let var = shown(&var, format!("named by `{env_key}`"));
                    let state = match unusable {
                        Ok(_) => "set but empty",
                        Err(_) => "not set (or not UTF-8)",
                    };
                    let why = format!("the variable {var} is {state}");
                    (self.none(span, why), String::new())
                }
            },
            (None, Some((file, span))) => {
                config.inputs.push(PathBuf::from(&file));
                let file_shown = shown(&file, format!("the file named by `{file_key}`"));
                let read = input::read_secret(Path::new(&file), &file_shown);
                (
                    read.map_err(|why| self.problem(span, why)).ok(),
                    format!("file:{file}"),
                )
            }
            (Some(_), Some(_)) => {
                let why = format!("give `{env_key}` or `{file_key}`, not both");
                (self.none(self.span_of(&file_key), why), String::new())
            }
            (None, None) => {
                if !self.table.contains_key(&*env_key) && !self.table.contains_key(&*file_key) {
                    let why = format!("no secret: give `{env_key}` or `{file_key}`");
                    self.problem(self.span.clone(), why);
                }
                (None, String::new())
            }
        };
        let (owner, secret) = (owner?, secret?);
        // A refused secret is reported where it is named (the secret itself is never shown).
        let (made, at) = match &api_key {
            Some((key, _)) => (Credentials::api_key(owner, key, secret), "api_key"),
            None => (Credentials::auth_token(owner, secret), env_key.as_str()),
        };
        let span = self.span_of(at);
        let credentials = made.map_err(|e| self.problem(span, e.to_string())).ok()?;
        Some((credentials, from))
    }
}
