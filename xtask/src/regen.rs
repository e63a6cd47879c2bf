//! `cargo xtask regen`: source → fragment → files → build, or `--check` without writing.

use crate::files::{OpenapiDir, Provenance, read_optional, write_atomic};
use crate::source::{Limits, Source, load};
use crate::{BALANCE_PATH, changes, extract};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::process::Command;

/// Everything one run needs; the CLI fills it in, tests build it by hand.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the upstream document comes from.
    pub source: Source,
    /// The URL recorded as provenance (for `--from`, the URL the local copy was taken from).
    pub source_url: String,
    /// The directory holding the fragment and provenance record.
    pub dir: OpenapiDir,
    /// Download limits.
    pub limits: Limits,
    /// Compare only; write nothing.
    pub check: bool,
    /// After writing, build `balance-api-gen` to prove the generated client compiles.
    pub build: bool,
}

/// How a run ended, when it did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The checked-in fragment already matches the source.
    UpToDate,
    /// The fragment differs: lines describe how (written, unless `check`).
    Changed(Vec<String>),
}

/// Runs the task. With `check`, a difference is reported as [`Outcome::Changed`] and nothing is
/// written; otherwise the new fragment is written, built, and rolled back if the build fails.
pub fn run(opts: &Options) -> Result<Outcome> {
    let doc = load(&opts.source, opts.limits)?;
    let fragment = extract::fragment(&doc.json, BALANCE_PATH)?;
    let new_bytes = extract::to_bytes(&fragment);

    let fragment_path = opts.dir.fragment();
    let old_bytes = read_optional(&fragment_path)?;
    if old_bytes.as_deref() == Some(new_bytes.as_slice()) {
        return Ok(Outcome::UpToDate);
    }
    let summary = match &old_bytes {
        None => vec![format!(
            "new fragment: {} did not exist",
            fragment_path.display()
        )],
        Some(old) => {
            // An unparsable checked-in file is itself a change worth replacing.
            let old: Value = serde_json::from_slice(old).unwrap_or(Value::Null);
            let lines = changes::summarize(&old, &fragment);
            if lines.is_empty() {
                vec!["formatting only: same content, different bytes".to_owned()]
            } else {
                lines
            }
        }
    };
    if opts.check {
        return Ok(Outcome::Changed(summary));
    }

    let provenance_path = opts.dir.provenance();
    let old_provenance = read_optional(&provenance_path)?;
    let taken_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    let provenance = Provenance {
        source_url: &opts.source_url,
        retrieved_via: match opts.source {
            Source::Url(_) => "download",
            Source::File(_) => "local copy",
        },
        sha256: &doc.sha256,
        taken_at: &taken_at,
    };
    write_atomic(&fragment_path, &new_bytes)?;
    write_atomic(&provenance_path, &provenance.to_bytes())?;

    if opts.build
        && let Err(e) = build_generated()
    {
        restore(&fragment_path, old_bytes.as_deref())?;
        restore(&provenance_path, old_provenance.as_deref())?;
        return Err(e.context("the new fragment was rolled back"));
    }
    Ok(Outcome::Changed(summary))
}

fn restore(path: &std::path::Path, old: Option<&[u8]>) -> Result<()> {
    match old {
        Some(bytes) => write_atomic(path, bytes),
        None => std::fs::remove_file(path).with_context(|| format!("removing {}", path.display())),
    }
}

fn build_generated() -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--package", "balance-api-gen"])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("the generated client does not build ({status})");
    }
    Ok(())
}
