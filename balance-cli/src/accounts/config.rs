//! The accounts file (`--config FILE`): TOML `[[account]]` tables, each account with credentials
//! of its own. The file is read and checked whole before any request, and every problem is
//! reported at once, each at its line. A secret is named where it is kept (a variable, a file),
//! never written in the file, and never shown.

use super::Accounts;
use crate::args::ClientArgs;
use crate::fetch::Target;
use crate::input;
use balance_api::{AccountSid, Balance, Client, ClientBuilder, Credentials, Decimal};
use serde::Deserialize;
use serde::de::{IgnoredAny, IntoDeserializer};
use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// One `[[account]]` table as written, each value with where it is.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    name: Option<Spanned<Text>>,
    account_sid: Option<Spanned<Text>>,
    parent_account_sid: Option<Spanned<Text>>,
    auth_token_env: Option<Spanned<Text>>,
    auth_token_file: Option<Spanned<Text>>,
    api_key: Option<Spanned<Text>>,
    api_secret_env: Option<Spanned<Text>>,
    api_secret_file: Option<Spanned<Text>>,
    region: Option<Spanned<Text>>,
    edge: Option<Spanned<Text>>,
    min: Option<Spanned<Amount>>,
}

/// The keys of [`Written`], for a table's unknown keys (each reported, then left out, so that
/// the rest of the table is still checked) and for the report's list.
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

/// A value that must be a string; anything else is kept as a problem, not an abort, so that
/// one wrong value does not hide the file's other problems.
#[derive(Deserialize)]
#[serde(untagged)]
enum Text {
    String(String),
    Other(IgnoredAny),
}

/// `min`: a string, or an integer (read from its text); a float is refused, since TOML floats
/// are binary and `0.1` is not what it says. Which type it has is what counts: the numbers are
/// read from the text as written.
#[derive(Deserialize)]
#[serde(untagged)]
#[allow(dead_code)]
enum Amount {
    String(String),
    Integer(i64),
    Float(f64),
    Other(IgnoredAny),
}

/// Problems found in the file, each at the span it is about.
type Problems = Vec<(Range<usize>, String)>;

/// Reads and checks the whole accounts file before any request: every problem is reported at
/// once, each as `FILE:LINE: problem`. Its accounts come in file order, with the secret files
/// they name as inputs (which an output must never overwrite). Each account's client has the
/// run's own flags (`client`) applied before the file's region and edge, and `program` in its
/// user agent.
pub fn read(
    path: &Path,
    run_min: Option<Decimal>,
    client: &ClientArgs,
    program: &str,
) -> Result<Accounts, String> {
    let raw = input::read_list(path)?;
    // Editors on some systems save a byte-order mark; it is not part of the TOML (nor a line).
    let text = raw.strip_prefix('\u{feff}').unwrap_or(&raw);
    let file = File::new(path, text);
    let doc = DeTable::parse(text).map_err(|e| {
        let place = (e.span().as_ref()).map_or_else(|| path.display().to_string(), |s| file.at(s));
        format!("{place}: not valid TOML: {}", e.message())
    })?;
    let mut check = Check {
        text,
        run_min,
        configure: &|builder| client.apply(builder).user_agent_suffix(program),
        clients: HashMap::new(),
        accounts: Accounts {
            inputs: vec![path.to_owned()],
            ..Accounts::default()
        },
        problems: Problems::new(),
        names: HashMap::new(),
        sids: HashMap::new(),
    };
    let tables = check.tables(doc.into_inner());
    if tables.is_empty() && check.problems.is_empty() {
        return Err(format!("{}: lists no [[account]]", path.display()));
    }
    for table in tables {
        check.account(table, &file);
    }
    match check.problems.is_empty() {
        true => Ok(check.accounts),
        false => Err(file.report(check.problems)),
    }
}

/// The file's name and where its lines start, for `FILE:LINE` places.
struct File<'a> {
    path: &'a Path,
    line_starts: Vec<usize>,
}

impl<'a> File<'a> {
    fn new(path: &'a Path, text: &str) -> Self {
        let line_starts = text.match_indices('\n').map(|(i, _)| i).collect();
        Self { path, line_starts }
    }

    /// `FILE:LINE` of `span`.
    fn at(&self, span: &Range<usize>) -> String {
        let line = self
            .line_starts
            .partition_point(|&start| start < span.start)
            + 1;
        format!("{}:{line}", self.path.display())
    }

    /// The report of `problems`, in file order: the first [`PROBLEMS_SHOWN`], how many more
    /// there are, and the known keys once if any key was unknown.
    fn report(&self, mut problems: Problems) -> String {
        problems.sort_by_key(|(span, _)| span.start);
        let mut lines: Vec<String> = (problems.iter().take(PROBLEMS_SHOWN))
            .map(|(span, why)| format!("{}: {why}", self.at(span)))
            .collect();
        let path = self.path.display();
        if let more @ 1.. = problems.len().saturating_sub(PROBLEMS_SHOWN) {
            lines.push(format!("{path}: and {more} more problems"));
        }
        if (problems.iter()).any(|(_, why)| why.starts_with("unknown key `")) {
            let keys = KEYS.join(", ");
            lines.push(format!("{path}: an [[account]] knows the keys {keys}"));
        }
        lines.join("\n")
    }
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

/// The checking of one file: what it found so far.
struct Check<'t, 'c> {
    text: &'t str,
    run_min: Option<Decimal>,
    configure: &'c dyn Fn(ClientBuilder) -> ClientBuilder,
    /// One client per set of credentials and host.
    clients: HashMap<String, Client>,
    accounts: Accounts,
    problems: Problems,
    /// Where each name is first written, for one written twice.
    names: HashMap<String, Range<usize>>,
    /// Where each SID is first written, for one listed twice.
    sids: HashMap<AccountSid, Range<usize>>,
}

impl Check<'_, '_> {
    fn problem(&mut self, span: Range<usize>, why: impl Into<String>) {
        self.problems.push((span, why.into()));
    }

    /// The `[[account]]` tables of the document; anything else at its top is a problem.
    fn tables<'i>(&mut self, doc: DeTable<'i>) -> Vec<Spanned<DeTable<'i>>> {
        let mut tables = Vec::new();
        for (key, value) in doc {
            let span = value.span();
            match (key.get_ref().as_ref(), value.into_inner()) {
                ("account", DeValue::Array(items)) => {
                    for item in items {
                        let span = item.span();
                        match item.into_inner() {
                            DeValue::Table(table) => tables.push(Spanned::new(span, table)),
                            _ => self.problem(
                                span,
                                "`account` entries must be tables: write [[account]]",
                            ),
                        }
                    }
                }
                ("account", _) => self.problem(
                    span,
                    "`account` must be an array of tables: write [[account]]",
                ),
                (other, _) => self.problem(
                    key.span(),
                    format!("unknown key `{other}` (accounts go in [[account]] tables)"),
                ),
            }
        }
        tables
    }
}

impl Check<'_, '_> {
    /// One `[[account]]`: its target added to the accounts, or its problems recorded.
    fn account(&mut self, table: Spanned<DeTable<'_>>, file: &File) {
        let found = self.problems.len();
        let span = table.span();
        let mut table = table.into_inner();
        let mut unknown = Vec::new();
        for (key, _) in table.iter() {
            let why = match key.get_ref().as_ref() {
                known if KEYS.contains(&known) => continue,
                inline @ ("auth_token" | "api_secret") => format!(
                    "`{inline}` would put a secret in this file: name where it is kept with \
                     `{inline}_env` (an environment variable) or `{inline}_file`"
                ),
                other => format!("unknown key `{other}`"),
            };
            self.problem(key.span(), why);
            unknown.push(key.get_ref().to_string());
        }
        // Left out, so that the rest of the table is still checked.
        for key in unknown {
            table.remove(key.as_str());
        }
        let written = Spanned::new(span.clone(), table).into_deserializer();
        let target = match Written::deserialize(written) {
            Ok(written) => self.target(&written, &span, found),
            Err(e) => {
                self.problem(e.span().unwrap_or(span), e.message().to_owned());
                None
            }
        };
        let Some((target, name_at, sid_at)) = target.filter(|_| self.problems.len() == found)
        else {
            return;
        };
        let name = target.name.clone().unwrap_or_default();
        let sid = &target.account;
        if let Some(first) = self.names.get(&name) {
            let why = format!("name {name:?} is already used at {}", file.at(first));
            self.problem(name_at, why);
        } else if let Some(first) = self.sids.get(sid) {
            let why = format!("{sid} is already listed at {}", file.at(first));
            self.problem(sid_at, why);
        } else {
            self.names.insert(name, name_at);
            self.sids.insert(sid.clone(), sid_at);
            self.accounts.targets.push(target);
        }
    }

    /// The account a table describes, with where its name and SID are written.
    fn target(
        &mut self,
        written: &Written,
        span: &Range<usize>,
        found: usize,
    ) -> Option<(Target, Range<usize>, Range<usize>)> {
        let why = " (a label for the outputs)";
        let name = self.required(&written.name, "name", why, span);
        if let Some((name, at)) = &name
            && name.chars().any(char::is_control)
        {
            let why = "`name` holds a control character (a tab, a newline, …)";
            self.problem(at.clone(), why);
        }
        let account = self.required(&written.account_sid, "account_sid", "", span);
        let account = account.and_then(|text| self.sid(text, "account_sid"));
        let parent = (self.text(&written.parent_account_sid, "parent_account_sid"))
            .and_then(|text| self.sid(text, "parent_account_sid"));
        // Whose credentials these are: the parent's when reading a subaccount with them.
        let owner = parent
            .map(|(sid, _)| sid)
            .or(account.clone().map(|(sid, _)| sid));
        let credentials = self.credentials(written, owner, span);
        let min = self.min(&written.min).or(self.run_min);
        let region = self.text(&written.region, "region").map(|(r, _)| r);
        let edge = self.text(&written.edge, "edge").map(|(e, _)| e);
        let (Some((name, name_at)), Some((account, sid_at)), Some((credentials, from))) =
            (name, account, credentials)
        else {
            return None;
        };
        if self.problems.len() > found {
            return None;
        }
        let client = self.client(credentials, &from, region, edge, span)?;
        let target = Target {
            name: Some(name),
            account,
            min,
            client,
        };
        Some((target, name_at, sid_at))
    }

    /// The value of `field` (the key `key`): a non-empty string, and where it is written.
    fn text(&mut self, field: &Option<Spanned<Text>>, key: &str) -> Option<(String, Range<usize>)> {
        let field = field.as_ref()?;
        let why = match field.get_ref() {
            Text::String(s) if !s.is_empty() => return Some((s.clone(), field.span())),
            Text::String(_) => format!("`{key}` is empty"),
            Text::Other(_) => format!("`{key}` must be a string"),
        };
        self.problem(field.span(), why);
        None
    }

    /// [`Self::text`] of a key that must be there (`why` it must, for the message).
    fn required(
        &mut self,
        field: &Option<Spanned<Text>>,
        key: &str,
        why: &str,
        span: &Range<usize>,
    ) -> Option<(String, Range<usize>)> {
        if field.is_none() {
            self.problem(span.clone(), format!("`{key}` is missing{why}"));
        }
        self.text(field, key)
    }

    fn sid(
        &mut self,
        (text, at): (String, Range<usize>),
        key: &str,
    ) -> Option<(AccountSid, Range<usize>)> {
        match text.parse() {
            Ok(sid) => Some((sid, at)),
            Err(e) => {
                self.problem(at, format!("`{key}`: {e}"));
                None
            }
        }
    }

    /// An exact decimal, from a string or an integer as written.
    fn min(&mut self, field: &Option<Spanned<Amount>>) -> Option<Decimal> {
        let field = field.as_ref()?;
        let span = field.span();
        let written = self.text.get(span.clone()).unwrap_or_default();
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || b"_+-".contains(&b));
        let why = match field.get_ref() {
            Amount::String(s) => return self.amount(s, span),
            Amount::Integer(_) if digits(written) => {
                return self.amount(&written.replace('_', ""), span);
            }
            Amount::Float(_) => {
                format!("`min` must be exact: write it as a string, min = \"{written}\"")
            }
            _ => "`min` must be a decimal string such as \"20\"".to_owned(),
        };
        self.problem(span, why);
        None
    }

    fn amount(&mut self, text: &str, span: Range<usize>) -> Option<Decimal> {
        let why = "`min` is not a plain decimal (digits, an optional - and .)";
        Balance::parse_amount(text)
            .map_err(|_| self.problem(span, why))
            .ok()
    }

    /// An Auth Token, or an API Key and its secret, and where the secret came from.
    fn credentials(
        &mut self,
        written: &Written,
        owner: Option<AccountSid>,
        span: &Range<usize>,
    ) -> Option<(Credentials, String)> {
        let api_key = self.text(&written.api_key, "api_key");
        let auth_token = [
            ("auth_token_env", &written.auth_token_env),
            ("auth_token_file", &written.auth_token_file),
        ];
        let api_secret = [
            ("api_secret_env", &written.api_secret_env),
            ("api_secret_file", &written.api_secret_file),
        ];
        let (right, wrong) = match api_key {
            Some(_) => (api_secret, auth_token),
            None => (auth_token, api_secret),
        };
        for (key, field) in wrong {
            let Some(field) = field else { continue };
            let why = match api_key {
                Some(_) => format!(
                    "`{key}` does not go with `api_key` (use `api_secret_env` or `api_secret_file`)"
                ),
                None => format!("`{key}` needs `api_key`"),
            };
            self.problem(field.span(), why);
        }
        let (secret, from, at) = self.secret(right, span)?;
        // A refused secret is reported where it is named (the secret itself is never shown).
        let made = match api_key {
            Some((key, key_at)) => (Credentials::api_key(owner?, &key, secret), key_at),
            None => (Credentials::auth_token(owner?, secret), at),
        };
        match made {
            (Ok(credentials), _) => Some((credentials, from)),
            (Err(e), at) => {
                self.problem(at, e.to_string());
                None
            }
        }
    }

    /// The secret named by one of `[env, file]` (keys with their values): its value, where it
    /// came from, and where it is named.
    fn secret(
        &mut self,
        [(env_key, env), (file_key, file)]: [(&str, &Option<Spanned<Text>>); 2],
        span: &Range<usize>,
    ) -> Option<(String, String, Range<usize>)> {
        match (self.text(env, env_key), self.text(file, file_key)) {
            (Some((var, at)), None) => {
                let state = match std::env::var(&var) {
                    Ok(value) if !value.is_empty() => {
                        return Some((value, format!("env:{var}"), at));
                    }
                    Ok(_) => "set but empty",
                    Err(_) => "not set (or not UTF-8)",
                };
                let var = shown(&var, format!("named by `{env_key}`"));
                self.problem(at, format!("the variable {var} is {state}"));
                None
            }
            (None, Some((path, at))) => {
                self.accounts.inputs.push(PathBuf::from(&path));
                let path_shown = shown(&path, format!("the file named by `{file_key}`"));
                match input::read_secret(Path::new(&path), &path_shown) {
                    Ok(secret) => Some((secret, format!("file:{path}"), at)),
                    Err(why) => {
                        self.problem(at, why);
                        None
                    }
                }
            }
            (Some(_), Some((_, at))) => {
                self.problem(at, format!("give `{env_key}` or `{file_key}`, not both"));
                None
            }
            (None, None) => {
                if env.is_none() && file.is_none() {
                    let why = format!("no secret: give `{env_key}` or `{file_key}`");
                    self.problem(span.clone(), why);
                }
                None
            }
        }
    }

    /// The client for these credentials at this host: one per set, so that the accounts read
    /// with them share one 429 pause for the one rate limit they share; every client shares
    /// one connection pool and TLS setup.
    fn client(
        &mut self,
        credentials: Credentials,
        from: &str,
        region: Option<String>,
        edge: Option<String>,
        span: &Range<usize>,
    ) -> Option<Client> {
        let (account, user) = (credentials.account_sid(), credentials.username());
        let key = format!("{account}:{user}:{from}:{region:?}:{edge:?}");
        if let Some(client) = self.clients.get(&key) {
            return Some(client.clone());
        }
        let mut builder = (self.configure)(Client::builder().credentials(credentials));
        if let Some(transport) = self.clients.values().next() {
            builder = builder.transport_of(transport);
        }
        if let Some(region) = region {
            builder = builder.region(region);
        }
        if let Some(edge) = edge {
            builder = builder.edge(edge);
        }
        match builder.build() {
            Ok(client) => Some(self.clients.entry(key).or_insert(client).clone()),
            Err(e) => {
                self.problem(span.clone(), crate::one_line(&e));
                None
            }
        }
    }
}
