//! `cargo xtask`: maintainer tasks for this workspace. See the README's maintainers' section.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;
use xtask::files::OpenapiDir;
use xtask::regen::{self, Options, Outcome};
use xtask::report;
use xtask::source::{Limits, Source};

#[derive(Parser)]
#[command(about = "Maintainer tasks for the Twilio balance client")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Re-extract openapi/balance.json from Twilio's spec, regenerate, and report what changed.
    Regen(RegenArgs),
}

#[derive(clap::Args)]
struct RegenArgs {
    /// Download the upstream spec from this URL.
    #[arg(long, default_value = xtask::UPSTREAM_URL, conflicts_with = "from")]
    url: String,
    /// Read the upstream spec from a local file instead of downloading it.
    #[arg(long, value_name = "PATH")]
    from: Option<PathBuf>,
    /// With --from: the URL that local file was taken from, recorded as provenance.
    #[arg(long, default_value = xtask::UPSTREAM_URL)]
    source_url: String,
    /// Write nothing; exit 1 if the checked-in fragment differs from what the source yields.
    #[arg(long)]
    check: bool,
    /// Skip building balance-api-gen after writing (always skipped with a --dir other than
    /// this workspace's openapi/, which is the only fragment that build reads).
    #[arg(long)]
    no_build: bool,
    /// Download timeout, e.g. "60s" or "500ms".
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    timeout: Duration,
    /// Largest download accepted, in bytes.
    #[arg(long, default_value_t = Limits::default().max_bytes)]
    max_bytes: u64,
    /// The directory holding the fragment (default: this workspace's openapi/).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Also write a Markdown report here: the semver class the change requires, one line per
    /// change (breaking, additive or docs), and a drafted CHANGELOG entry. Written with --check
    /// too.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
}

fn main() -> ExitCode {
    let Task::Regen(args) = Cli::parse().task;
    match regen_command(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn regen_command(args: RegenArgs) -> Result<ExitCode> {
    // xtask lives one level below the workspace root; print paths relative to it when we can.
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf);
    let own_dir = workspace.join("openapi");
    let dir = args.dir.unwrap_or_else(|| own_dir.clone());
    // balance-api-gen reads this workspace's openapi/ only: building it after writing elsewhere
    // would pass whatever that other fragment says, so it proves nothing there.
    let builds_dir = same_dir(&dir, &own_dir);
    let build_skipped = !args.no_build && !builds_dir;
    let (source, source_url) = match args.from {
        Some(path) => (Source::File(path), args.source_url),
        None => (Source::Url(args.url.clone()), args.url),
    };
    let opts = Options {
        source,
        source_url,
        dir: OpenapiDir(dir),
        limits: Limits {
            timeout: args.timeout,
            max_bytes: args.max_bytes,
        },
        check: args.check,
        build: (!args.no_build && builds_dir).then(cargo_build),
    };
    let outcome = regen::run(&opts)?;
    let code = print_outcome(&outcome, &opts, build_skipped.then_some(own_dir.as_path()));
    if let Some(path) = &args.report {
        std::fs::write(path, report::render(&outcome))
            .with_context(|| format!("writing the report {}", path.display()))?;
    }
    Ok(code)
}

/// Prints what the run did; the exit code is failure only for a difference under `--check`.
/// `skipped_build` names this workspace's openapi/ when a write elsewhere skipped the build.
fn print_outcome(outcome: &Outcome, opts: &Options, skipped_build: Option<&Path>) -> ExitCode {
    match outcome {
        Outcome::UpToDate => {
            println!("up to date");
            ExitCode::SUCCESS
        }
        Outcome::UpToDateUpstreamMoved { .. } => {
            println!(
                "up to date (upstream document changed outside the Balance endpoint; \
                 run regen to record its sha256)"
            );
            ExitCode::SUCCESS
        }
        Outcome::ProvenanceUpdated { old_sha, new_sha } => {
            println!(
                "fragment up to date; provenance updated \
                 (upstream changed outside the Balance endpoint)"
            );
            let old_sha = old_sha.as_deref().unwrap_or("none recorded");
            println!("  sha256: {old_sha} -> {new_sha}");
            ExitCode::SUCCESS
        }
        Outcome::Changed(lines) => {
            let verb = if opts.check {
                "differs from the source"
            } else {
                "updated"
            };
            println!("{}: {verb}", opts.dir.fragment().display());
            lines.iter().for_each(|l| println!("  {l}"));
            if opts.check {
                ExitCode::from(1)
            } else {
                if let Some(own_dir) = skipped_build {
                    println!(
                        "note: build skipped: balance-api-gen builds from {}, not {}",
                        own_dir.display(),
                        opts.dir.0.display()
                    );
                }
                ExitCode::SUCCESS
            }
        }
    }
}

/// `cargo build --package balance-api-gen`, with the cargo that runs this task when known.
fn cargo_build() -> Vec<OsString> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    vec![
        cargo,
        "build".into(),
        "--package".into(),
        "balance-api-gen".into(),
    ]
}

/// Whether two paths name the same directory; paths that cannot be resolved (e.g. a `--dir`
/// that does not exist yet) are compared as given.
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}
