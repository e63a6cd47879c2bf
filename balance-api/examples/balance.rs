//! Prints a Twilio account balance, or checks it against a minimum for monitoring.
//!
//! With `TWILIO_ACCOUNT_SID` and `TWILIO_AUTH_TOKEN` (or `TWILIO_API_KEY` + `TWILIO_API_SECRET`)
//! set, it asks Twilio. Without them it starts an in-process demo server that answers with the
//! example documented in the spec, so the whole path (request, auth header, decode) runs with no
//! account at all.
//!
//! ```sh
//! cargo run -p balance-api --example balance
//! cargo run -p balance-api --example balance -- --json --min 1.00
//! ```

use balance_api::{
    AccountSid, Balance, Client, ClientBuilder, Credentials, Decimal, Error, RetryPolicy,
};
use clap::Parser;
use std::process::ExitCode;
use std::time::Duration;

const EXIT_HELP: &str = "\
Exit status:
  0  the balance was fetched (and is at or above --min, if given)
  1  any error: bad arguments, missing or invalid settings, network, Twilio error
  2  the balance is below --min

Environment:
  TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN    account credentials
  TWILIO_API_KEY, TWILIO_API_SECRET        API Key credentials (preferred when set)
  TWILIO_REGION, TWILIO_EDGE               default region and edge
With no credentials set, a built-in demo server answers with the spec's example.

Cron, alerting by mail when the balance drops under 20:
  */30 * * * *  balance --min 20 || echo 'Twilio balance low' | mail -s alert ops@example.com";

/// Fetch a Twilio account balance.
#[derive(Parser)]
#[command(name = "balance", version, after_help = EXIT_HELP)]
struct Args {
    /// Fetch this (sub)account's balance with the parent's credentials.
    #[arg(long, value_name = "SID")]
    account: Option<String>,
    /// Print one JSON object instead of a line of text.
    #[arg(long)]
    json: bool,
    /// Exit 2 when the balance is below AMOUNT (an exact decimal, in the account's currency).
    #[arg(long, value_name = "AMOUNT")]
    min: Option<Decimal>,
    /// Twilio region, e.g. au1 or ie1 (overrides TWILIO_REGION).
    #[arg(long)]
    region: Option<String>,
    /// Twilio edge, e.g. sydney or dublin (overrides TWILIO_EDGE).
    #[arg(long)]
    edge: Option<String>,
    /// Time allowed for the whole fetch, retries included, e.g. 10s or 500ms.
    #[arg(long, value_parser = humantime::parse_duration, value_name = "DURATION")]
    timeout: Option<Duration>,
    /// Send the request to this URL (a proxy, a mock server; needs TWILIO_* credentials);
    /// plain http only to loopback.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    // clap's own usage errors exit 2, which here means "below minimum"; keep 2 for that alone.
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(1);
        }
        Err(e) => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
    };
    match run(args).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, Error> {
    // Parse before anything else: an invalid SID never costs a request.
    let account: Option<AccountSid> = args.account.as_deref().map(str::parse).transpose()?;
    let has_credentials = std::env::var_os("TWILIO_ACCOUNT_SID").is_some_and(|v| !v.is_empty());
    let (mut builder, _demo) = if has_credentials {
        (ClientBuilder::from_env()?, None)
    } else {
        if args.base_url.is_some() {
            return Err(balance_api::ConfigError {
                variable: Some("TWILIO_ACCOUNT_SID"),
                problem: "is not set; --base-url needs real credentials".into(),
            }
            .into());
        }
        let demo = demo::Server::start().await;
        let ignored = if args.region.is_some() || args.edge.is_some() {
            " (--region and --edge apply to Twilio's host, not to it)"
        } else {
            ""
        };
        eprintln!(
            "No Twilio credentials in the environment (TWILIO_ACCOUNT_SID); using the demo server at {}{ignored}",
            demo.base_url()
        );
        (demo.builder()?, Some(demo))
    };
    if let Some(region) = args.region {
        builder = builder.region(region);
    }
    if let Some(edge) = args.edge {
        builder = builder.edge(edge);
    }
    if let Some(timeout) = args.timeout {
        // A user's "--timeout" bounds the command, so it caps the retries as well as each try.
        builder = builder
            .timeout(timeout)
            .retry(RetryPolicy::default().deadline(Some(timeout)));
    }
    if let Some(url) = args.base_url {
        builder = builder.base_url(url);
    }
    let client = builder.user_agent_suffix("balance-example").build()?;
    let account = account.unwrap_or_else(|| client.account_sid().clone());
    let response = client.fetch_balance_with_info(&account).await?;
    let balance = response.value();
    let below = match args.min {
        None => false,
        Some(min) => {
            let amount = balance.amount().ok_or_else(|| no_amount(&account))?;
            amount < min
        }
    };
    print(&account, balance, response.request_id(), args.json, below);
    if below {
        if let Some(min) = args.min {
            eprintln!("below minimum: {balance} < {min}");
        }
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

fn no_amount(account: &AccountSid) -> Error {
    balance_api::ConfigError {
        variable: None,
        problem: format!("{account} has no balance information to compare with --min"),
    }
    .into()
}

fn print(
    account: &AccountSid,
    balance: &Balance,
    request_id: Option<&str>,
    json: bool,
    below: bool,
) {
    if json {
        let out = serde_json::json!({
            "account_sid": account.as_str(),
            // A string, so the amount stays exact for whatever reads it.
            "balance": balance.amount().map(|d| d.to_string()),
            "currency": balance.currency(),
            "below_min": below,
            "request_id": request_id,
        });
        println!("{out}");
    } else {
        println!("{account}: {balance}");
    }
}

/// The embedded demo server: Twilio's documented example, behind the same auth check.
mod demo {
    use super::*;
    use httpmock::prelude::*;

    /// The fragment the client was generated from; the demo serves its documented example.
    const FRAGMENT: &str = include_str!("../../openapi/balance.json");
    const DEMO_TOKEN: &str = "demo-auth-token";

    pub struct Server {
        server: MockServer,
        account: AccountSid,
    }

    impl Server {
        pub async fn start() -> Self {
            let (account, example) = documented_example();
            let server = MockServer::start_async().await;
            let path = format!("/2010-04-01/Accounts/{account}/Balance.json");
            let credentials = Credentials::auth_token(account.clone(), DEMO_TOKEN)
                .expect("the demo credentials are valid");
            let auth = format!("Basic {}", base64_pair(credentials.username(), DEMO_TOKEN));
            server
                .mock_async(|when, then| {
                    when.method(GET).path(path).header("authorization", auth);
                    then.status(200)
                        .header("content-type", "application/json")
                        .header("twilio-request-id", "RQdemo0000000000000000000000000000")
                        .body(example);
                })
                .await;
            server
                .mock_async(|when, then| {
                    when.any_request();
                    then.status(404).header("content-type", "application/json").body(
                        r#"{"code":20404,"message":"The requested resource was not found on the demo server","more_info":"https://www.twilio.com/docs/errors/20404","status":404}"#,
                    );
                })
                .await;
            Self { server, account }
        }

        pub fn base_url(&self) -> String {
            self.server.base_url()
        }

        pub fn builder(&self) -> Result<ClientBuilder, Error> {
            let credentials = Credentials::auth_token(self.account.clone(), DEMO_TOKEN)?;
            Ok(Client::builder()
                .credentials(credentials)
                .base_url(self.base_url()))
        }
    }

    /// The 200 example of the fragment's Balance operation, and the account it names.
    fn documented_example() -> (AccountSid, String) {
        let spec: serde_json::Value = serde_json::from_str(FRAGMENT).expect("the fragment is JSON");
        let example = spec["paths"]["/2010-04-01/Accounts/{AccountSid}/Balance.json"]["get"]
            ["responses"]["200"]["content"]["application/json"]["examples"]["fetch"]["value"]
            .clone();
        let account = example["account_sid"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("the documented example names a valid account");
        (account, example.to_string())
    }

    fn base64_pair(user: &str, secret: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{secret}"))
    }
}
