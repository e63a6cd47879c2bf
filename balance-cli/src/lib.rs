//! The programs built on [`balance_api`]: `balance` (one-shot monitoring, and `balance serve`, a
//! Prometheus exporter) and `balance-mcp` (the balance as Model Context Protocol tools).
//!
//! `cargo install --path balance-cli` installs both. This library is what the two programs
//! share; it is public so that they can use it, and makes no promise of stability to anyone
//! else: depend on `balance-api` for a client.

pub mod accounts;
pub mod args;
pub mod demo;
pub mod destination;
pub mod escape;
pub mod fetch;
pub mod input;
pub mod json;
pub mod mcp;
pub mod output;
pub mod rounds;
pub mod serve;
pub mod server;
pub mod status_page;

/// Runs `main` on a runtime that is shut down without waiting for its blocking threads: a DNS
/// lookup stuck in `getaddrinfo` must not keep the process alive past its timeout.
pub fn run<F: std::future::Future>(main: F) -> Result<F::Output, String> {
    // One thread: the work is waiting on the network, and a second costs memory for nothing.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let output = runtime.block_on(main);
    runtime.shutdown_background();
    Ok(output)
}

/// An error in one line for a person: its own text and its innermost cause (the layers between
/// only say "error sending request" and the like).
pub fn one_line(e: &(dyn std::error::Error + 'static)) -> String {
    match std::iter::successors(e.source(), |&c| c.source()).last() {
        Some(cause) => format!("{e}: {cause}"),
        None => e.to_string(),
    }
}

/// The command line as `T`; else the exit code once clap has printed the help, the version or
/// the usage error (`usage` for an error, since each program gives 2 a meaning of its own).
pub fn command_line<T: clap::Parser>(usage: u8) -> Result<T, std::process::ExitCode> {
    T::try_parse().map_err(|e| {
        let _ = e.print();
        std::process::ExitCode::from(if e.use_stderr() { usage } else { 0 })
    })
}
