//! `balance-mcp`: Twilio account balances as Model Context Protocol tools, for AI assistants:
//! over stdio (the default), or over Streamable HTTP with `--listen` (see `mcp/http.rs`).
//! Credentials come from the `TWILIO_*` variables only, and the HTTP bearer token from
//! `BALANCE_MCP_TOKEN` or a file, never from arguments (which any user of the machine can read
//! in `ps`).
//!
//! Over stdio, stdout carries JSON-RPC messages and nothing else; errors before the protocol
//! starts are one line on stderr.

use balance_cli::accounts;
use balance_cli::args::ClientArgs;
use balance_cli::mcp::{BalanceServer, http, stdio};
use clap::Parser;
use rmcp::ServiceExt;
use rmcp::service::ServerInitializeError;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// Serve Twilio account balances to an MCP client over stdio, or over HTTP with --listen.
#[derive(Parser, Debug)]
#[command(
    name = "balance-mcp",
    version,
    after_help = "Credentials: TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and \
                  TWILIO_API_SECRET); TWILIO_REGION, TWILIO_EDGE. Without them, pass --demo.\n\
                  With --listen, clients send `Authorization: Bearer <token>`, the token read \
                  from BALANCE_MCP_TOKEN or --token-file."
)]
struct Args {
    /// Serve the example from Twilio's API documentation instead of real balances (no
    /// credentials needed); every result says so.
    #[arg(long)]
    demo: bool,
    /// Several accounts, each with its own credentials: the same TOML file `balance --config`
    /// reads, with the same checks. `get_balances` with no arguments reads them all.
    #[arg(long, value_name = "FILE", conflicts_with = "demo")]
    config: Option<PathBuf>,
    /// With --config: how long one round of reads of every account answers the calls about all
    /// of them, before a call starts a new round: seconds or with a unit (90s, 5m); default 60.
    #[arg(
        long,
        value_name = "DURATION",
        value_parser = balance_cli::args::parse_duration,
        requires = "config",
        conflicts_with = "demo"
    )]
    cache: Option<Duration>,
    #[command(flatten)]
    client: ClientArgs,
    /// Serve MCP's Streamable HTTP transport at http://ADDR/mcp instead of stdio, e.g.
    /// 127.0.0.1:8808 (port 0 picks a free one; the address is printed on stderr). A loopback
    /// address unless --allow-remote.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// With --listen: read the bearer token from FILE (which only its owner may read) instead of
    /// BALANCE_MCP_TOKEN.
    #[arg(long, value_name = "FILE", requires = "listen")]
    token_file: Option<PathBuf>,
    /// With --listen: also accept requests from web pages of this origin (repeatable), e.g.
    /// `https://app.example.com`; the server's own loopback origins are always accepted, requests
    /// without an Origin too, any other gets 403.
    #[arg(long = "allow-origin", value_name = "URL", requires = "listen")]
    allow_origins: Vec<String>,
    /// With --listen: allow an address other machines can reach (plain HTTP: put a TLS proxy in
    /// front), and any Host header.
    #[arg(long, requires = "listen")]
    allow_remote: bool,
    /// With --listen: MCP sessions open at once; past it, a new one gets HTTP 503. An idle
    /// session closes after 5 minutes.
    #[arg(
        long,
        default_value_t = 32,
        value_parser = clap::value_parser!(u16).range(1..),
        requires = "listen"
    )]
    max_sessions: u16,
}

/// How long a round of reads of a config's accounts answers calls, unless --cache says.
const DEFAULT_CACHE: Duration = Duration::from_secs(60);

/// An assistant waits on each call: one that takes longer has better things to say ("timed out").
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    let args = match balance_cli::command_line::<Args>(2) {
        Ok(args) => args,
        Err(code) => return code,
    };
    match balance_cli::run(serve(args)).and_then(|r| r) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("balance-mcp: {e}");
            ExitCode::from(1)
        }
    }
}

async fn serve(args: Args) -> Result<(), String> {
    // The HTTP flags and the token first: a server that would refuse every client must not start.
    let listen = match args.listen {
        Some(addr) => Some(http::Options::new(
            addr,
            args.allow_remote,
            args.token_file.as_deref(),
            &args.allow_origins,
            args.max_sessions.into(),
        )?),
        None => None,
    };
    let call_timeout = args.client.timeout.unwrap_or(DEFAULT_CALL_TIMEOUT);
    if let Some(path) = &args.config {
        if path.as_os_str() == "-" && listen.is_none() {
            return Err("--config -: stdin carries the MCP messages here; name a file".into());
        }
        let accounts = accounts::config::read(path, None, &args.client, "balance-mcp")?.targets;
        let server = BalanceServer::configured(
            accounts,
            call_timeout,
            args.client.timeout,
            args.cache.unwrap_or(DEFAULT_CACHE),
        );
        return serve_on(server, listen).await;
    }
    let (client, demo) = accounts::own_client(&args.client, args.demo, "balance-mcp").await?;
    if let Some(demo) = &demo {
        eprintln!(
            "balance-mcp: --demo: serving {} from {}",
            balance_api_gen::DEMO_RESPONSE_SOURCE,
            demo.base_url()
        );
    }
    let own = accounts::with_client(&client, Vec::new(), None);
    let server = BalanceServer::new(own, demo.is_some(), call_timeout);
    // The demo server runs on until the runtime ends.
    serve_on(server, listen).await
}

/// Serves `server` over HTTP with `listen`, else over stdio.
async fn serve_on(server: BalanceServer, listen: Option<http::Options>) -> Result<(), String> {
    if let Some(options) = listen {
        return http::serve(server, options).await;
    }
    let (transport, stdout_written) = stdio::transport();
    let served = match server.serve(transport).await {
        Ok(running) => running.waiting().await.map(drop).map_err(|e| e.to_string()),
        // stdin closed before a client said hello: nothing to serve, and nothing went wrong.
        Err(ServerInitializeError::ConnectionClosed(_)) => Ok(()),
        Err(e) => Err(e.to_string()),
    };
    // rmcp has closed its side: what it wrote reaches stdout before the process ends.
    let _ = stdout_written.await;
    served
}
