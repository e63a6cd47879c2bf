//! `balance-mcp`'s server: the MCP tools `get_balance` and `get_balances` (read-only, over a
//! `balance_api::Client`), and the endpoint's documentation as resources (see `resources.rs`),
//! over stdio (`stdio.rs`) or Streamable HTTP (`http.rs`).

mod fleet;
pub mod http;
mod resources;
pub mod stdio;

use crate::fetch::{self, Outcome, Problem, Target};
use crate::json::{BalanceJson, Failure};
use crate::rounds::{Round, Rounds};
use balance_api::{AccountSid, Balance};
use fleet::{BatchEntry, Counts, Cursor, DEFAULT_LIMIT, Listing, MAX_ARGUMENT_CHARS, MAX_LIMIT};
use rmcp::handler::server::{router::tool::ToolRouter, wrapper::Parameters};
use rmcp::model::{
    Implementation, ListResourcesResult, PaginatedRequestParams, ReadResourceRequestParams,
    ReadResourceResponse, ServerCapabilities, ServerConfig, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, Json, RoleServer, ServerHandler, schemars, tool, tool_handler, tool_router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Arguments of `get_balance`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetBalanceArgs {
    /// The Account SID (AC followed by 32 hex digits) of the account or subaccount to read, or
    /// the name of a configured account. Omit it for the account the server's credentials
    /// belong to (with a config file: its first account).
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "AccountSid", transform = drop_default)]
    pub account_sid: Option<String>,
}

/// Absent is `None`; present must be a value: `null` is no SID, not "the parent account".
fn present<'de, D: serde::Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// Arguments of `get_balances`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetBalancesArgs {
    /// The Account SIDs (or configured names) to read now, 1 to 100 of them, e.g. every
    /// subaccount of the parent. Omit it for every configured account.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Vec<AccountSid>", length(min = 1, max = 100), transform = drop_default)]
    pub account_sids: Option<Vec<String>>,
    /// Only the accounts in this state: attention is below_min or unreadable, ok is at or
    /// above the minimum, no_balance a subaccount billed to its parent. Default: all (attention
    /// for over 20 configured accounts and no account_sids).
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "Listing", transform = drop_default)]
    pub state: Option<Listing>,
    /// Which of them, and which page.
    #[serde(flatten)]
    pub page: PageArgs,
}

/// Arguments of `list_accounts`, and the paging of `get_balances`.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageArgs {
    /// Only the accounts whose configured name starts with this.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "String", length(max = 256), transform = drop_default)]
    pub name_prefix: Option<String>,
    /// At most this many entries (1 to 100, default 50); a page also ends before 16 KB.
    #[serde(default, deserialize_with = "present")]
    #[schemars(schema_with = "limit", transform = drop_default)]
    pub limit: Option<usize>,
    /// The previous answer's next_cursor, to go on; pass the same other arguments with it.
    #[serde(default, deserialize_with = "present")]
    #[schemars(with = "String", length(max = 256), transform = drop_default)]
    pub cursor: Option<String>,
}

/// `#[serde(default)]` makes schemars write `"default": null`, which is not a valid SID.
fn drop_default(schema: &mut schemars::Schema) {
    schema.remove("default");
}

// Bounds in the standard vocabulary: schemars's `"format": "uint"` is no JSON Schema format.
fn limit(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({ "type": "integer", "minimum": 1, "maximum": MAX_LIMIT })
}

/// Balances of many accounts, a page at a time.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Balances {
    /// This page's accounts, in the order of the config (or of account_sids).
    pub balances: Vec<BatchEntry>,
    /// Which states this answer lists.
    pub listing: Listing,
    /// How many accounts the listing holds, over all pages.
    #[schemars(schema_with = "fleet::count")]
    pub matched: usize,
    /// How many of the accounts asked about (within name_prefix) are in each state.
    pub counts: Counts,
    /// Call again with this and the same other arguments for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// When these balances were read (RFC 3339, UTC).
    pub fetched_at: String,
    /// Their age in seconds when this answer was made.
    #[schemars(schema_with = "fleet::count")]
    pub age_seconds: u64,
    /// Whether a newer round of reads was running (its results are not in this answer).
    pub refreshing: bool,
}

/// Configured accounts, a page at a time.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct AccountList {
    /// This page's accounts, in the config's order.
    pub accounts: Vec<Listed>,
    /// How many accounts match, over all pages.
    #[schemars(schema_with = "fleet::count")]
    pub matched: usize,
    /// Call again with this and the same name_prefix for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// A configured account.
#[derive(Debug, Serialize, schemars::JsonSchema)]
pub struct Listed {
    /// Its name in the config file.
    pub name: String,
    /// Its Account SID.
    pub account_sid: AccountSid,
    /// The minimum its balance is checked against, as an exact decimal string.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<String>,
}

/// What a call asks of a listing: which states, which names, from where, how many.
struct Ask {
    listing: Listing,
    prefix: Option<String>,
    cursor: Cursor,
    limit: usize,
}

impl Ask {
    /// The listing `arguments` (all but the cursor and limit) ask for; a bad argument is
    /// refused with its name.
    fn new(
        arguments: &impl std::hash::Hash,
        listing: Listing,
        page: &PageArgs,
    ) -> Result<Self, String> {
        let PageArgs {
            name_prefix: prefix,
            limit,
            cursor,
        } = page;
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(format!("limit must be 1 to {MAX_LIMIT}"));
        }
        for (field, text) in [("name_prefix", prefix), ("cursor", cursor)] {
            if text
                .as_ref()
                .is_some_and(|t| t.chars().count() > MAX_ARGUMENT_CHARS)
            {
                return Err(format!("{field}: at most {MAX_ARGUMENT_CHARS} characters"));
            }
        }
        let start = Cursor::start(arguments);
        Ok(Self {
            listing,
            prefix: prefix.clone(),
            cursor: match cursor {
                Some(text) => start.resume(text)?,
                None => start,
            },
            limit,
        })
    }
}

/// The server: the accounts it reads (a config file's, or the credentials' own), its limits,
/// and whether it talks to the demo server.
#[derive(Clone)]
pub struct BalanceServer {
    /// The first reads any SID not configured, unless a config file named them all.
    accounts: Arc<[Target]>,
    /// A config file's accounts, read in rounds shared by the calls about all of them.
    fleet: Option<Arc<Rounds<Round>>>,
    demo: bool,
    /// Time for one tool call as a whole; a batch answers with what finished by then.
    call_timeout: Duration,
    tool_router: ToolRouter<Self>,
}

/// How many configured names the server lists at most, anywhere (the tools' schemas, its
/// instructions, an error): with thousands of accounts, the list would be the whole answer.
const NAMES_LISTED: usize = 20;

/// The most bytes the listed names may take together in a schema.
const NAMES_BYTES: usize = 400;

/// Whether the configured names go in the schemas and instructions, or are found with
/// `list_accounts`.
fn names_fit(names: &[&str]) -> bool {
    names.len() <= NAMES_LISTED && names.iter().map(|n| n.len() + 3).sum::<usize>() <= NAMES_BYTES
}

#[tool_router]
impl BalanceServer {
    /// Serves the balance of the credentials' own account (the first of `accounts`), whose
    /// client also reads any other SID asked for; `demo` marks every result as demo data.
    pub fn new(accounts: Vec<Target>, demo: bool, call_timeout: Duration) -> Self {
        let mut tool_router = tools();
        tool_router.remove_route("list_accounts");
        Self {
            accounts: accounts.into(),
            fleet: None,
            demo,
            call_timeout,
            tool_router,
        }
    }

    /// Serves a config file's `accounts`. Calls about all of them are answered from rounds of
    /// reads shared by calls close together: a round is served for `cache`, and cut off after
    /// `limit`.
    pub fn configured(
        accounts: Vec<Target>,
        call_timeout: Duration,
        limit: Option<Duration>,
        cache: Duration,
    ) -> Self {
        let mut tool_router = tools();
        name_accounts(&mut tool_router, &names(&accounts));
        // One list for the lookups and the rounds: a config may hold 10,000 accounts.
        let accounts: Arc<[Target]> = accounts.into();
        let make = |_: &[Target], _: Option<&Round>, round: Round| round;
        let fleet = Rounds::new(accounts.clone(), limit, cache, make);
        Self {
            accounts,
            fleet: Some(fleet),
            demo: false,
            call_timeout,
            tool_router,
        }
    }

    /// The account `text` names (a configured name or a SID), with its client. A SID is only
    /// ever a SID: a name spelt like another account's SID must not answer for it, nor one not
    /// configured pass for a configured one.
    fn target(&self, text: &str) -> Result<Target, String> {
        let found = |matches: &dyn Fn(&Target) -> bool| self.accounts.iter().find(|t| matches(t));
        let configured = self.fleet.is_some();
        match text.parse::<AccountSid>() {
            Ok(account) => match found(&|t| t.account == account) {
                Some(target) => Ok(target.clone()),
                None if configured => Err(format!(
                    "{account} is not an account of this server's config file"
                )),
                None => Ok(Target {
                    name: None,
                    account,
                    min: None,
                    client: self.accounts[0].client.clone(),
                }),
            },
            Err(e) => match found(&|t| t.name.as_deref() == Some(text)) {
                Some(target) => Ok(target.clone()),
                None if configured => Err(unknown_name(text, &e, &names(&self.accounts))),
                None => Err(e.to_string()),
            },
        }
    }

    /// The outcome of each account, in order, within the call's time limit.
    async fn fetch(&self, targets: &[Target]) -> Vec<fetch::Outcome> {
        fetch::within(targets, Some(self.call_timeout)).await
    }

    #[tool(
        description = "Read the current balance of a Twilio account, now: the credentials' own \
            account (omit account_sid), or one of its subaccounts (pass its Account SID). The \
            amount is an exact decimal string with its currency. A subaccount usually has no \
            balance of its own (its parent pays), and Twilio notes that balance changes may \
            take a while to show."
    )]
    async fn get_balance(
        &self,
        Parameters(args): Parameters<GetBalanceArgs>,
    ) -> Result<Json<BalanceJson>, String> {
        let target = match &args.account_sid {
            Some(text) => self.target(text).map_err(|e| format!("account_sid: {e}"))?,
            None => self.accounts[0].clone(),
        };
        let outcome = self.fetch(std::slice::from_ref(&target)).await.pop();
        match outcome.unwrap_or(Err(Problem::NotYet)) {
            Ok(balance) => Ok(Json(self.result(&target, &balance))),
            Err(problem) => Err(self.message(&problem)),
        }
    }

    #[tool(
        description = "Balances of many Twilio accounts, e.g. to find the low ones: up to 100 \
            in account_sids (read now; e.g. every subaccount of a parent), or every configured \
            account (read in rounds shared by calls close together; fetched_at and age_seconds \
            say when). Filters by state and name prefix, counts by state, pages with a cursor. \
            Each account has its balance or its own error."
    )]
    async fn get_balances(
        &self,
        Parameters(args): Parameters<GetBalancesArgs>,
    ) -> Result<Json<Balances>, String> {
        let many = self.accounts.len() > NAMES_LISTED;
        let listing = match (args.state, &args.account_sids, &self.fleet) {
            (Some(listing), _, _) => listing,
            (None, None, Some(_)) if many => Listing::Attention,
            (None, _, _) => Listing::All,
        };
        let arguments = (&args.account_sids, listing, &args.page.name_prefix);
        let ask = Ask::new(&arguments, listing, &args.page)?;
        match (&args.account_sids, &self.fleet) {
            (Some(texts), _) => self.read_now(texts, &ask).await.map(Json),
            (None, Some(fleet)) => self.read_in_rounds(fleet, &ask).await.map(Json),
            (None, None) => Err("account_sids: name 1 to 100 Account SIDs".into()),
        }
    }

    #[tool(
        description = "List the configured accounts (name, Account SID, minimum), a page at a \
            time, optionally only those whose name starts with name_prefix. Reads nothing from \
            Twilio; get_balances gives their balances."
    )]
    async fn list_accounts(
        &self,
        Parameters(args): Parameters<PageArgs>,
    ) -> Result<Json<AccountList>, String> {
        let ask = Ask::new(&args.name_prefix, Listing::All, &args)?;
        let prefix = ask.prefix.as_deref().unwrap_or("");
        let items = (self.accounts.iter().enumerate()).map(|(at, target)| {
            let name = target.name.as_deref().unwrap_or("");
            (at, name.starts_with(prefix).then_some((name, target)))
        });
        let page = fleet::page(items, &ask.cursor, ask.limit, |(name, target)| Listed {
            name: name.to_owned(),
            account_sid: target.account.clone(),
            min: target.min.map(|m| m.to_string()),
        });
        Ok(Json(AccountList {
            accounts: page.entries,
            matched: page.matched,
            next_cursor: page.next_cursor,
        }))
    }
}

impl BalanceServer {
    /// `texts` read now (each account once, however often named), listed as `ask` says.
    async fn read_now(&self, texts: &[String], ask: &Ask) -> Result<Balances, String> {
        if !(1..=100).contains(&texts.len()) {
            return Err("account_sids must hold 1 to 100 Account SIDs".into());
        }
        // Every account is checked before the first request.
        let targets = (texts.iter().enumerate())
            .map(|(i, text)| (self.target(text)).map_err(|e| format!("account_sids[{i}]: {e}")))
            .collect::<Result<Vec<Target>, String>>()?;
        let mut unique: Vec<Target> = Vec::new();
        let slots: Vec<usize> = (targets.iter())
            .map(
                |t| match unique.iter().position(|u| u.account == t.account) {
                    Some(slot) => slot,
                    None => {
                        unique.push(t.clone());
                        unique.len() - 1
                    }
                },
            )
            .collect();
        let read_at = SystemTime::now();
        let outcomes = self.fetch(&unique).await;
        let rows = targets
            .iter()
            .zip(slots.iter().map(|&slot| &outcomes[slot]));
        Ok(self.answer(rows, ask, read_at, false))
    }

    /// Every configured account, from the latest round (or the one this call starts or joins,
    /// if it ends within the call's time), listed as `ask` says.
    async fn read_in_rounds(
        &self,
        fleet: &Arc<Rounds<Round>>,
        ask: &Ask,
    ) -> Result<Balances, String> {
        let round = fleet.current(self.call_timeout).await;
        let Some((_, read_at)) = round.finished else {
            return Err(format!(
                "not read yet: the first round of reads ({} accounts) is still running after \
                 {}; it goes on, so ask again shortly",
                fleet.targets().len(),
                humantime::format_duration(self.call_timeout)
            ));
        };
        let rows = fleet.targets().iter().zip(&round.outcomes);
        Ok(self.answer(rows, ask, read_at, fleet.running()))
    }

    /// The page `ask` asks for of `rows`, read at `read_at`.
    fn answer<'a>(
        &self,
        rows: impl Iterator<Item = (&'a Target, &'a Outcome)>,
        ask: &Ask,
        read_at: SystemTime,
        refreshing: bool,
    ) -> Balances {
        let mut counts = Counts::default();
        let items = fleet::states(rows, ask.prefix.as_deref(), ask.listing, &mut counts);
        let page = fleet::page(items, &ask.cursor, ask.limit, |(target, outcome)| {
            self.entry(target, outcome).bounded()
        });
        Balances {
            balances: page.entries,
            listing: ask.listing,
            matched: page.matched,
            counts,
            next_cursor: page.next_cursor,
            fetched_at: humantime::format_rfc3339_seconds(read_at).to_string(),
            age_seconds: read_at.elapsed().map_or(0, |age| age.as_secs()),
            refreshing,
        }
    }

    fn entry(&self, target: &Target, outcome: &Outcome) -> BatchEntry {
        match outcome {
            Ok(balance) => BatchEntry {
                result: Some(self.result(target, balance)),
                account_sid: target.account.clone(),
                error: None,
            },
            Err(problem) => BatchEntry {
                account_sid: target.account.clone(),
                result: None,
                error: Some(Failure::of(problem, self.message(problem))),
            },
        }
    }

    /// The problem as the tool's text: one line, with the request id when there is one, and
    /// marked in demo mode (a "not found" there says nothing about a real account).
    fn message(&self, problem: &Problem) -> String {
        let demo = if self.demo {
            "DEMO MODE (only the demo account exists): "
        } else {
            ""
        };
        let request_id = match problem {
            Problem::Fetch(e) => e.request_id(),
            _ => None,
        };
        match request_id {
            Some(id) => format!("{demo}{problem} (request id {id:?})"),
            None => format!("{demo}{problem}"),
        }
    }

    fn result(&self, target: &Target, balance: &Balance) -> BalanceJson {
        let name = target.name.as_deref();
        BalanceJson::new(&target.account, name, balance, target.min, self.demo)
    }
}

/// The tools, their hints set in one place, and their schemas cut to what a client needs, since
/// an assistant reads them all on every turn: an output schema keeps its shape (types, bounds,
/// required fields) and leaves the meaning to the tool's description; no schema names its
/// dialect (2020-12 is MCP's default).
fn tools() -> ToolRouter<BalanceServer> {
    fn strip(value: &mut serde_json::Value, key: &str) {
        match value {
            serde_json::Value::Object(map) => {
                map.remove(key);
                map.values_mut().for_each(|v| strip(v, key));
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(|v| strip(v, key)),
            _ => {}
        }
    }
    let mut router = BalanceServer::tool_router();
    for route in router.map.values_mut() {
        // Every tool only reads; all but list_accounts read from Twilio, the open world.
        let open_world = route.attr.name != "list_accounts";
        let hints =
            ToolAnnotations::from_raw(None, Some(true), Some(false), Some(true), Some(open_world));
        route.attr.annotations = Some(hints);
        let mut input = (*route.attr.input_schema).clone();
        input.remove("$schema");
        route.attr.input_schema = Arc::new(input);
        if let Some(output) = &route.attr.output_schema {
            let mut output = serde_json::Value::Object((**output).clone());
            strip(&mut output, "description");
            strip(&mut output, "$schema");
            if let serde_json::Value::Object(output) = output {
                route.attr.output_schema = Some(Arc::new(output));
            }
        }
    }
    router
}

/// Why `text` names no configured account: a case-insensitive match as a suggestion, else the
/// first [`NAMES_LISTED`] names and how many more there are.
fn unknown_name(text: &str, not_sid: &balance_api::InvalidSid, names: &[&str]) -> String {
    if let Some(close) = names.iter().find(|n| n.eq_ignore_ascii_case(text)) {
        return format!(
            "no account is named {text:?}; did you mean {close:?}? (names match exactly)"
        );
    }
    let shown = names[..names.len().min(NAMES_LISTED)].join(", ");
    match names.len().saturating_sub(NAMES_LISTED) {
        0 => format!("{not_sid}; the configured names are {shown}"),
        more => format!("{not_sid}; the configured names include {shown}, and {more} more"),
    }
}

/// The configured accounts' names, in file order.
fn names(accounts: &[Target]) -> Vec<&str> {
    accounts.iter().filter_map(|t| t.name.as_deref()).collect()
}

/// A config file's names in the tools' input schemas, beside the SID form, so that an
/// assistant knows what it may ask for; when they do not fit, any name, found with
/// `list_accounts`.
fn name_accounts(router: &mut ToolRouter<BalanceServer>, names: &[&str]) {
    let name = match names_fit(names) {
        true => serde_json::json!({"type": "string", "enum": names}),
        false => serde_json::json!({"type": "string", "minLength": 1,
            "description": "A configured account's name (list_accounts finds them)"}),
    };
    let either = |sid: &serde_json::Value| serde_json::json!({"anyOf": [sid, name]});
    for (tool, field, nested) in [
        ("get_balance", "account_sid", false),
        ("get_balances", "account_sids", true),
    ] {
        let Some(route) = router.map.get_mut(tool) else {
            continue;
        };
        let mut schema = (*route.attr.input_schema).clone();
        let property = schema.get_mut("properties").and_then(|p| p.get_mut(field));
        let slot = match (property, nested) {
            (Some(p), true) => p.get_mut("items"),
            (p, _) => p,
        };
        if let Some(slot) = slot {
            *slot = either(slot);
        }
        route.attr.input_schema = Arc::new(schema);
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for BalanceServer {
    fn get_info(&self) -> ServerConfig {
        let mut instructions = String::from(
            "Reads Twilio account balances (read-only). get_balance for one account (the \
             credentials' own when account_sid is omitted), get_balances for many. The \
             endpoint's documentation (its OpenAPI description, where that came from, and a \
             Markdown reference) is available as resources.",
        );
        if self.fleet.is_some() {
            let names = names(&self.accounts);
            let named = match names_fit(&names) {
                true => format!("Configured accounts: {}.", names.join(", ")),
                false => format!(
                    "{} configured accounts: list_accounts finds them by name.",
                    names.len()
                ),
            };
            instructions.push_str(&format!(
                " {named} Each is billed on its own or through its parent. get_balances with \
                 no arguments answers about all of them: counts by state, and the accounts \
                 (on a large config, those that need attention), a page at a time."
            ));
        }
        if self.demo {
            instructions.push_str(&format!(
                " DEMO MODE: every figure is {}.",
                balance_api_gen::DEMO_RESPONSE_SOURCE
            ));
        }
        let capabilities = ServerCapabilities::builder()
            .enable_tools()
            .enable_resources()
            .build();
        ServerConfig::new(capabilities)
            .with_server_info(Implementation::new(
                "balance-mcp",
                env!("CARGO_PKG_VERSION"),
            ))
            .with_instructions(instructions)
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(resources::list()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        resources::read(&request.uri).map(Into::into)
    }
}

/// In-process: the server and an rmcp client over a duplex pipe (the pattern of rmcp's own
/// tests), the server's client aimed at httpmock.
#[cfg(test)]
mod tests {
    use super::*;
    use balance_api::Decimal;
    use httpmock::prelude::*;
    use rmcp::model::{CallToolRequestParams, CallToolResult};
    use rmcp::service::{RoleClient, RunningService};
    use rmcp::{RoleServer, ServiceExt};
    use serde_json::{Value, json};

    const SID: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const SUB: &str = "AC0123456789abcdef0123456789abcdef";
    const TOKEN: &str = "mcp-test-token-0123456789abcdef0";

    struct Session {
        client: RunningService<RoleClient, ()>,
        _server: tokio::task::JoinHandle<Option<RunningService<RoleServer, BalanceServer>>>,
    }

    /// A client of SID's credentials aimed at `base_url`, without retries.
    fn client(base_url: &str) -> balance_api::Client {
        let creds =
            balance_api::Credentials::auth_token(SID.parse().expect("sid"), TOKEN).expect("creds");
        balance_api::Client::builder()
            .credentials(creds)
            .base_url(base_url)
            .retry(balance_api::RetryPolicy::none())
            .build()
            .expect("client")
    }

    async fn connect(twilio: &MockServer) -> Session {
        let own = crate::accounts::with_client(&client(&twilio.base_url()), Vec::new(), None);
        let (server_io, client_io) = tokio::io::duplex(4096);
        let server = tokio::spawn(async move {
            BalanceServer::new(own, false, Duration::from_secs(30))
                .serve(server_io)
                .await
                .ok()
        });
        let client = ().serve(client_io).await.expect("initialized");
        Session {
            client,
            _server: server,
        }
    }

    async fn call(session: &Session, tool: &'static str, args: Value) -> CallToolResult {
        let args = args.as_object().cloned().expect("an object");
        let params = CallToolRequestParams::new(tool).with_arguments(args);
        session
            .client
            .call_tool(params)
            .await
            .expect("a tool result")
    }

    fn text(result: &CallToolResult) -> String {
        serde_json::to_value(&result.content)
            .expect("content")
            .to_string()
    }

    async fn twilio_with<'a>(
        server: &'a MockServer,
        sid: &str,
        status: u16,
        body: String,
    ) -> httpmock::Mock<'a> {
        server
            .mock_async(|when, then| {
                when.method(GET)
                    .path(format!("/2010-04-01/Accounts/{sid}/Balance.json"));
                then.status(status)
                    .header("content-type", "application/json")
                    .header("twilio-request-id", "RQ0123456789abcdef0123456789abcdef")
                    .body(body);
            })
            .await
    }

    fn balance_body(sid: &str) -> String {
        format!(r#"{{"account_sid":"{sid}","balance":"12.3400","currency":"EUR"}}"#)
    }

    /// A configured server of `names`, the i-th with the SID `AC{i:032x}`, read from `base_url`
    /// with a 1.00 minimum.
    fn named(names: Vec<String>, base_url: &str) -> BalanceServer {
        let client = client(base_url);
        let accounts = (names.into_iter().enumerate())
            .map(|(i, name)| Target {
                name: Some(name),
                account: format!("AC{i:032x}").parse().expect("sid"),
                min: Some(Decimal::ONE),
                client: client.clone(),
            })
            .collect();
        BalanceServer::configured(
            accounts,
            Duration::from_secs(30),
            None,
            Duration::from_secs(60),
        )
    }

    /// A configured server of `count` accounts named `acct-N`, plus one whose name is spelt
    /// like another SID.
    fn configured(count: u32) -> BalanceServer {
        let mut names: Vec<String> = (0..count).map(|i| format!("acct-{i}")).collect();
        names.push(SUB.to_owned());
        named(names, "https://api.twilio.com")
    }

    /// What `server` answers to `tools/list`, as JSON text.
    fn tools_list(server: &BalanceServer) -> String {
        let tools = server.tool_router.list_all();
        serde_json::to_string(&rmcp::model::ListToolsResult::with_all_items(tools)).expect("JSON")
    }

    #[test]
    fn names_stay_in_the_schemas_while_they_fit() {
        // 20 names of 17 bytes: at the limit of both the count and the bytes.
        let twenty: Vec<String> = (0..20).map(|i| format!("customer-acct-{i:03}")).collect();
        let listed = tools_list(&named(twenty.clone(), "https://api.twilio.com"));
        assert!(listed.contains("\"customer-acct-019\""), "{listed}");
        assert!(listed.len() <= 8 * 1024, "{} bytes", listed.len());
        let mut more = twenty.clone();
        more.push("customer-acct-020".into());
        let long = vec!["n".repeat(401)];
        for names in [more, long] {
            let listed = tools_list(&named(names, "https://api.twilio.com"));
            assert!(
                !listed.contains("customer-acct-0") && !listed.contains("nnnn"),
                "{listed}"
            );
            assert!(listed.contains("list_accounts finds them"), "{listed}");
        }
    }

    /// Every answer fits [`fleet::ANSWER_BYTES`], however long what Twilio or the config says.
    #[tokio::test]
    async fn every_answer_fits_its_bound_whatever_the_texts() {
        let twilio = MockServer::start_async().await;
        let body = json!({"account_sid": null, "balance": "0.50", "currency": "€".repeat(5_000)});
        twilio
            .mock_async(|when, then| {
                when.any_request();
                then.status(200)
                    .header("twilio-request-id", "RQ0123456789abcdef0123456789abcdef")
                    .body(body.to_string());
            })
            .await;
        let names: Vec<String> = (0..100)
            .map(|i| format!("{i}-\"{}\"", "q".repeat(3_000)))
            .collect();
        let server = named(names, &twilio.base_url());
        let (server_io, client_io) = tokio::io::duplex(1 << 20);
        let _server = tokio::spawn(async move { server.serve(server_io).await.ok() });
        let client = ().serve(client_io).await.expect("initialized");
        let mut cursor = Value::Null;
        let mut seen = 0;
        for args in [json!({}), json!({"state": "below_min", "limit": 100})] {
            loop {
                let mut args = args.clone();
                if cursor.is_string() {
                    args["cursor"] = cursor.clone();
                }
                let params = CallToolRequestParams::new("get_balances")
                    .with_arguments(args.as_object().cloned().expect("object"));
                let result = client.call_tool(params).await.expect("answer");
                let bytes = serde_json::to_string(&result).expect("JSON").len();
                assert!(bytes + 100 <= fleet::ANSWER_BYTES, "{bytes} bytes");
                let structured = result.structured_content.expect("structured");
                seen += structured["balances"].as_array().map_or(0, Vec::len);
                cursor = structured["next_cursor"].clone();
                if cursor.is_null() {
                    break;
                }
            }
        }
        assert_eq!(seen, 200, "every account, in both listings");
    }

    #[test]
    fn a_sid_answers_only_for_that_sid_and_name_errors_are_bounded() {
        let server = configured(10_000);
        // SUB is not configured; the account *named* SUB is another one, and must not answer.
        let err = server.target(SUB).expect_err("not configured");
        assert!(
            err.contains("is not an account of this server's config file"),
            "{err}"
        );
        let third = format!("AC{:032x}", 3);
        assert_eq!(
            server.target(&third).expect("configured").account.as_str(),
            third
        );
        assert_eq!(
            server.target("acct-7").expect("a name").account.as_str(),
            format!("AC{:032x}", 7)
        );
        let err = server.target("ACCT-7").expect_err("names match exactly");
        assert!(err.contains("did you mean \"acct-7\""), "{err}");
        let err = server.target("nope").expect_err("unknown");
        assert!(err.len() < 1_000, "{} bytes", err.len());
        assert!(err.ends_with("acct-19, and 9981 more"), "{err}");
    }

    #[tokio::test]
    async fn the_tools_and_their_schemas() {
        let twilio = MockServer::start_async().await;
        let session = connect(&twilio).await;
        let tools = session.client.list_all_tools().await.expect("tools");
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        assert_eq!(names, ["get_balance", "get_balances"]);
        let spec: Value =
            serde_json::from_str(balance_api_gen::ACCOUNT_SID_SCHEMA).expect("schema");
        for tool in &tools {
            let input = Value::Object((*tool.input_schema).clone());
            assert_eq!(input["additionalProperties"], false, "{input}");
            let sid = match tool.name.as_ref() {
                "get_balance" => input["properties"]["account_sid"].clone(),
                _ => input["properties"]["account_sids"]["items"].clone(),
            };
            for key in ["pattern", "minLength", "maxLength"] {
                assert_eq!(sid[key], spec[key], "{key} from the spec: {input}");
            }
            assert!(tool.output_schema.is_some(), "{}", tool.name);
            let hints = tool.annotations.as_ref().expect("annotations");
            assert_eq!(
                (
                    hints.read_only_hint,
                    hints.idempotent_hint,
                    hints.destructive_hint,
                    hints.open_world_hint
                ),
                (Some(true), Some(true), Some(false), Some(true))
            );
            assert!(
                tool.description
                    .as_deref()
                    .is_some_and(|d| d.contains("subaccount"))
            );
        }
        let input = Value::Object((*tools[0].input_schema).clone());
        assert!(
            input.get("required").is_none(),
            "account_sid is optional: {input}"
        );
        let batch = Value::Object((*tools[1].input_schema).clone());
        assert_eq!(
            (
                batch["properties"]["account_sids"]["minItems"].clone(),
                batch["properties"]["account_sids"]["maxItems"].clone()
            ),
            (json!(1), json!(100))
        );
    }

    /// A validator that refuses what the MCP Inspector's warns about: formats JSON Schema does
    /// not define.
    fn strict(schema: &Value) -> jsonschema::Validator {
        jsonschema::options()
            .should_validate_formats(true)
            .should_ignore_unknown_formats(false)
            .build(schema)
            .unwrap_or_else(|e| panic!("not standard JSON Schema: {e}: {schema}"))
    }

    #[tokio::test]
    async fn schemas_are_standard_and_every_output_matches_its_own() {
        let twilio = MockServer::start_async().await;
        twilio_with(&twilio, SID, 200, balance_body(SID)).await;
        let child = format!(r#"{{"account_sid":"{SUB}","balance":null,"currency":null}}"#);
        twilio_with(&twilio, SUB, 200, child).await;
        let missing = "AC99999999999999999999999999999999";
        let gone = r#"{"code":20404,"message":"not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#;
        twilio_with(&twilio, missing, 404, gone.to_owned()).await;
        // A status HTTP allows but RFC 9110 does not define: the schema must still hold.
        let odd = "AC88888888888888888888888888888888";
        twilio_with(&twilio, odd, 999, "?".to_owned()).await;
        let session = connect(&twilio).await;
        let tools = session.client.list_all_tools().await.expect("tools");
        for tool in &tools {
            strict(&Value::Object((*tool.input_schema).clone()));
        }
        let output = |name: &str| {
            let tool = tools.iter().find(|t| t.name == name).expect("tool");
            strict(&Value::Object(
                (**tool.output_schema.as_ref().expect("output schema")).clone(),
            ))
        };
        for (tool, args) in [
            ("get_balance", json!({})),
            ("get_balance", json!({"account_sid": SUB})),
            (
                "get_balances",
                json!({"account_sids": [SID, SUB, missing, odd]}),
            ),
        ] {
            let result = call(&session, tool, args.clone()).await;
            let structured = result.structured_content.expect("structured");
            let errors: Vec<String> = output(tool)
                .iter_errors(&structured)
                .map(|e| e.to_string())
                .collect();
            assert!(
                errors.is_empty(),
                "{tool} {args}: {errors:?} in {structured}"
            );
        }
    }

    #[tokio::test]
    async fn own_account_and_a_subaccount_hit_their_paths() {
        let own_server = MockServer::start_async().await;
        let own = twilio_with(&own_server, SID, 200, balance_body(SID)).await;
        let session = connect(&own_server).await;
        let result = call(&session, "get_balance", json!({})).await;
        assert_eq!(result.is_error, Some(false), "{}", text(&result));
        let structured = result.structured_content.clone().expect("structured");
        assert_eq!(
            structured,
            json!({"account_sid": SID, "balance": "12.3400", "below_min": false, "currency": "EUR", "request_id": "RQ0123456789abcdef0123456789abcdef"})
        );
        assert!(
            text(&result).contains(&structured.to_string().replace('"', "\\\"")),
            "same JSON as text"
        );
        assert_eq!(own.calls_async().await, 1);

        let sub_server = MockServer::start_async().await;
        let sub = twilio_with(&sub_server, SUB, 200, balance_body(SUB)).await;
        let session = connect(&sub_server).await;
        let result = call(&session, "get_balance", json!({"account_sid": SUB})).await;
        assert_eq!(
            result.structured_content.expect("structured")["account_sid"],
            SUB
        );
        assert_eq!(sub.calls_async().await, 1);
    }

    #[tokio::test]
    async fn an_account_named_twice_in_a_batch_is_fetched_once() {
        let server = MockServer::start_async().await;
        let sub = twilio_with(&server, SUB, 200, balance_body(SUB)).await;
        let session = connect(&server).await;
        let result = call(
            &session,
            "get_balances",
            json!({"account_sids": [SUB, SUB, SUB]}),
        )
        .await;
        let entries = result.structured_content.expect("structured")["balances"].clone();
        assert_eq!(entries.as_array().map(Vec::len), Some(3), "{entries}");
        assert!(
            entries
                .as_array()
                .into_iter()
                .flatten()
                .all(|e| e["result"]["balance"] == "12.3400")
        );
        assert_eq!(sub.calls_async().await, 1);
    }

    #[tokio::test]
    async fn a_child_account_without_balance_says_so() {
        let twilio = MockServer::start_async().await;
        twilio_with(
            &twilio,
            SUB,
            200,
            format!(r#"{{"account_sid":"{SUB}","balance":null,"currency":null}}"#),
        )
        .await;
        let session = connect(&twilio).await;
        let result = call(&session, "get_balance", json!({"account_sid": SUB})).await;
        let structured = result.structured_content.expect("structured");
        assert_eq!(structured["balance"], Value::Null);
        assert!(
            structured["note"]
                .as_str()
                .is_some_and(|n| n.contains("no balance")),
            "{structured}"
        );
    }

    #[tokio::test]
    async fn an_invalid_sid_or_a_misspelt_argument_is_a_tool_error_and_sends_nothing() {
        let twilio = MockServer::start_async().await;
        let any = twilio
            .mock_async(|when, then| {
                when.any_request();
                then.status(200).body(balance_body(SID));
            })
            .await;
        let session = connect(&twilio).await;
        for (tool, args, says) in [
            (
                "get_balance",
                json!({"account_sid": "AC123"}),
                "invalid Account SID",
            ),
            ("get_balance", json!({"acount_sid": SUB}), "unknown field"),
            (
                "get_balances",
                json!({"account_sids": [SUB], "nme_prefix": "a"}),
                "unknown field",
            ),
            (
                "get_balances",
                json!({"account_sids": [SUB, "ACzz"]}),
                "account_sids[1]",
            ),
            ("get_balances", json!({"account_sids": []}), "1 to 100"),
        ] {
            let result = call(&session, tool, args).await;
            assert_eq!(result.is_error, Some(true), "{tool}");
            assert!(text(&result).contains(says), "{tool}: {}", text(&result));
        }
        assert_eq!(any.calls_async().await, 0, "no request for a refused call");
        let unknown = session
            .client
            .call_tool(CallToolRequestParams::new("nope"))
            .await;
        assert!(unknown.is_err(), "an unknown tool is a protocol error");
    }

    #[tokio::test]
    async fn twilio_errors_are_tool_errors_with_code_link_and_request_id_but_no_token() {
        for (status, code) in [(401, 20003), (404, 20404)] {
            let body = format!(
                r#"{{"code":{code},"message":"failed with {TOKEN}","more_info":"https://www.twilio.com/docs/errors/{code}","status":{status}}}"#
            );
            let twilio = MockServer::start_async().await;
            twilio_with(&twilio, SID, status, body).await;
            let session = connect(&twilio).await;
            let result = call(&session, "get_balance", json!({})).await;
            assert_eq!(result.is_error, Some(true));
            let shown = text(&result);
            for part in [
                format!("Twilio error {code}"),
                format!("https://www.twilio.com/docs/errors/{code}"),
                "RQ0123456789abcdef0123456789abcdef".to_owned(),
            ] {
                assert!(shown.contains(&part), "{part}: {shown}");
            }
            assert!(!shown.contains(TOKEN), "{shown}");
        }
    }

    fn checked_in(name: &str) -> Vec<u8> {
        let path = format!("{}/../openapi/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    #[tokio::test]
    async fn the_endpoint_documentation_is_served_as_resources() {
        use rmcp::model::{ReadResourceRequestParams, ResourceContents};
        let twilio = MockServer::start_async().await;
        let any = twilio
            .mock_async(|when, then| {
                when.any_request();
                then.status(200).body(balance_body(SID));
            })
            .await;
        let session = connect(&twilio).await;
        let listed = session.client.list_all_resources().await.expect("list");
        let uris: Vec<&str> = listed.iter().map(|r| r.uri.as_str()).collect();
        assert_eq!(
            uris,
            [
                "balance-mcp://openapi/balance.json",
                "balance-mcp://openapi/provenance.json",
                "balance-mcp://docs/balance-endpoint.md"
            ]
        );
        let provenance: Value =
            serde_json::from_slice(&checked_in("provenance.json")).expect("JSON");
        let source = provenance["source_url"].as_str().expect("a source");
        assert!(
            listed[0]
                .description
                .as_deref()
                .is_some_and(|d| d.contains(source)),
            "the fragment names its source: {:?}",
            listed[0].description
        );
        let expected = [
            checked_in("balance.json"),
            checked_in("provenance.json"),
            balance_api_gen::ENDPOINT_MARKDOWN.as_bytes().to_vec(),
        ];
        for (resource, expected) in listed.iter().zip(expected) {
            let read = session
                .client
                .read_resource(ReadResourceRequestParams::new(resource.uri.clone()))
                .await
                .expect("read");
            let [
                ResourceContents::TextResourceContents {
                    uri,
                    mime_type,
                    text,
                    ..
                },
            ] = read.contents.as_slice()
            else {
                panic!("one text content: {read:?}");
            };
            assert_eq!(uri, &resource.uri);
            assert_eq!(mime_type, &resource.mime_type);
            assert_eq!(text.as_bytes(), expected, "{uri} byte for byte");
            assert_eq!(resource.size, Some(expected.len() as u64), "{uri}");
        }
        assert_eq!(listed[0].mime_type.as_deref(), Some("application/json"));
        assert_eq!(listed[2].mime_type.as_deref(), Some("text/markdown"));

        let missing = session
            .client
            .read_resource(ReadResourceRequestParams::new(
                "balance-mcp://openapi/nope.json",
            ))
            .await;
        match missing {
            Err(rmcp::ServiceError::McpError(error)) => {
                assert_eq!(error.code, rmcp::model::ErrorCode::RESOURCE_NOT_FOUND);
                assert!(error.message.contains("nope.json"), "{}", error.message);
            }
            other => panic!("an unknown URI is a JSON-RPC error: {other:?}"),
        }
        assert_eq!(
            any.calls_async().await,
            0,
            "documentation reads nothing from Twilio"
        );
    }

    #[tokio::test]
    async fn a_batch_keeps_order_with_one_failing_account() {
        let twilio = MockServer::start_async().await;
        let sids: Vec<String> = (1..=4).map(|i| format!("AC{i:032x}")).collect();
        for (i, sid) in sids.iter().enumerate() {
            let (status, body) = if i == 2 {
                (404, r#"{"code":20404,"message":"not found","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#.to_owned())
            } else {
                (200, balance_body(sid))
            };
            twilio
                .mock_async(|when, then| {
                    when.path(format!("/2010-04-01/Accounts/{sid}/Balance.json"));
                    then.status(status).body(body);
                })
                .await;
        }
        let session = connect(&twilio).await;
        let result = call(&session, "get_balances", json!({"account_sids": sids})).await;
        assert_eq!(result.is_error, Some(false));
        let entries = result.structured_content.expect("structured")["balances"]
            .as_array()
            .cloned()
            .expect("array");
        let order: Vec<&str> = entries
            .iter()
            .map(|e| e["account_sid"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(order, sids.iter().map(String::as_str).collect::<Vec<_>>());
        assert_eq!(entries[2]["error"]["code"], 20404);
        assert_eq!(entries[2]["error"]["status"], 404);
        assert!(
            entries
                .iter()
                .enumerate()
                .all(|(i, e)| (i == 2) == e["result"].is_null())
        );
    }
}
