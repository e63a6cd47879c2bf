//! `balance-mcp`: Twilio account balances as Model Context Protocol tools, over stdio, for AI
//! assistants. Credentials come from the `TWILIO_*` variables only, never from arguments (which
//! any user of the machine can read in `ps`).
//!
//! stdout carries JSON-RPC messages and nothing else; errors before the protocol starts are one
//! line on stderr.

#[path = "../common/mod.rs"]
mod common;
mod resources;
mod server;
mod stdio;

use balance_api::Error;
use clap::Parser;
use rmcp::ServiceExt;
use rmcp::service::ServerInitializeError;
use std::process::ExitCode;
use std::time::Duration;

/// Serve Twilio account balances to an MCP client over stdio.
#[derive(Parser, Debug)]
#[command(
    name = "balance-mcp",
    version,
    after_help = "Credentials: TWILIO_ACCOUNT_SID with TWILIO_AUTH_TOKEN (or TWILIO_API_KEY and \
                  TWILIO_API_SECRET); TWILIO_REGION, TWILIO_EDGE. Without them, pass --demo."
)]
struct Args {
    /// Serve the example from Twilio's API documentation instead of real balances (no
    /// credentials needed); every result says so.
    #[arg(long)]
    demo: bool,
    /// Requests to Twilio in flight at once, across all tool calls.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..))]
    concurrency: u16,
    #[command(flatten)]
    settings: common::Settings,
}

/// An assistant waits on each call: one that takes longer has better things to say ("timed out").
const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(30);

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match common::run(serve(args)).and_then(|r| r) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("balance-mcp: {e}");
            ExitCode::from(1)
        }
    }
}

async fn serve(args: Args) -> Result<(), String> {
    let text = |e: Error| e.to_string();
    let (builder, demo) = match (common::credentials_set(), args.demo) {
        (true, false) => (args.settings.builder().map_err(text)?, None),
        (false, false) => return Err(common::NO_CREDENTIALS.into()),
        (_, true) => {
            args.settings.check_demo()?;
            let demo = common::demo::Server::start().await?;
            eprintln!(
                "balance-mcp: --demo: serving {} from {}",
                common::demo::SOURCE,
                demo.base_url()
            );
            (
                args.settings
                    .apply(demo.builder().map_err(text)?)
                    .map_err(text)?,
                Some(demo),
            )
        }
    };
    let client = builder
        .user_agent_suffix("balance-mcp")
        .build()
        .map_err(text)?;
    let limits = server::Limits {
        call_timeout: args.settings.timeout.unwrap_or(DEFAULT_CALL_TIMEOUT),
        in_flight: args.concurrency.into(),
    };
    let server = server::BalanceServer::new(client, demo.is_some(), limits);
    match server.serve(stdio::transport()).await {
        Ok(running) => running.waiting().await.map(drop).map_err(|e| e.to_string()),
        // stdin closed before a client said hello: nothing to serve, and nothing went wrong.
        Err(ServerInitializeError::ConnectionClosed(_)) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}
