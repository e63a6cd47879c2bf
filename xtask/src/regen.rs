//! `cargo xtask regen`: source → fragment → files → build, or `--check` without writing.

use crate::changes::{self, Change, Class, Kind};
use crate::files::{OpenapiDir, Provenance, read_optional, write_atomic};
use crate::source::{Document, Limits, Source, load};
use crate::{BALANCE_PATH, extract};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
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
    /// After writing a changed fragment, run this program (then its arguments) to prove the
    /// generated client compiles; if it fails, both files are rolled back. `None` skips it.
    ///
    /// A command rather than a flag because only the caller knows whether a build would read
    /// `dir` at all: building this workspace proves nothing about a fragment written elsewhere.
    pub build: Option<Vec<OsString>>,
}

/// How a run ended, when it did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The checked-in fragment already matches the source, and the provenance record names it.
    UpToDate,
    /// `check` only: the fragment matches, but the provenance record names another upstream
    /// document (or none); the source changed outside the Balance endpoint. Not a failure.
    UpToDateUpstreamMoved {
        /// The sha256 the provenance record holds, if it could be read.
        recorded_sha: Option<String>,
        /// The sha256 of the source read now.
        source_sha: String,
    },
    /// The fragment matched, but the provenance record named another upstream document (or
    /// none); only the provenance record was rewritten.
    ProvenanceUpdated {
        /// The sha256 the provenance record held, if it could be read.
        old_sha: Option<String>,
        /// The sha256 it holds now.
        new_sha: String,
    },
    /// The fragment differs: one change per difference (written, unless `check`).
    Changed(Vec<Change>),
}

/// Runs the task. With `check`, nothing is written and a difference is reported as
/// [`Outcome::Changed`]; otherwise the new fragment and its provenance are written together,
/// built, and both rolled back if either the second write or the build fails.
pub fn run(opts: &Options) -> Result<Outcome> {
    let doc = load(&opts.source, opts.limits)?;
    let fragment = extract::fragment(&doc.json, BALANCE_PATH)?;
    let new_bytes = extract::to_bytes(&fragment);

    let fragment_path = opts.dir.fragment();
    let old_bytes = read_optional(&fragment_path)?;
    if old_bytes.as_deref() == Some(new_bytes.as_slice()) {
        return fragment_unchanged(opts, &doc);
    }
    let summary = summarize(&fragment_path, old_bytes.as_deref(), &fragment);
    if opts.check {
        return Ok(Outcome::Changed(summary));
    }
    write_changed(opts, &doc, &new_bytes, old_bytes.as_deref())?;
    Ok(Outcome::Changed(summary))
}

/// The fragment is current; the provenance record may still name an older upstream document,
/// since upstream changes elsewhere in the file leave the fragment alone. Without this the
/// record would stay stale for as long as the Balance endpoint does not change.
fn fragment_unchanged(opts: &Options, doc: &Document) -> Result<Outcome> {
    let provenance_path = opts.dir.provenance();
    let recorded = recorded_sha(&provenance_path)?;
    if recorded.as_deref() == Some(doc.sha256.as_str()) {
        // Nothing to do, and nothing is rewritten: not even the timestamp.
        return Ok(Outcome::UpToDate);
    }
    if opts.check {
        return Ok(Outcome::UpToDateUpstreamMoved {
            recorded_sha: recorded,
            source_sha: doc.sha256.clone(),
        });
    }
    // One atomic write: on failure the old record stays, and the fragment was never touched.
    write_atomic(&provenance_path, &provenance_bytes(opts, doc))?;
    Ok(Outcome::ProvenanceUpdated {
        old_sha: recorded,
        new_sha: doc.sha256.clone(),
    })
}

/// The sha256 in the provenance record. A missing record, or one that is not JSON or has no
/// `sha256` string, yields `None` so it gets rewritten; failing to read an existing file is an
/// error, as everywhere else.
fn recorded_sha(path: &Path) -> Result<Option<String>> {
    let Some(bytes) = read_optional(path)? else {
        return Ok(None);
    };
    let record: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Ok(record
        .get("sha256")
        .and_then(Value::as_str)
        .map(str::to_owned))
}

fn summarize(fragment_path: &Path, old_bytes: Option<&[u8]>, fragment: &Value) -> Vec<Change> {
    let Some(old) = old_bytes else {
        // Nothing to compare with: compatibility cannot be shown, so it counts as breaking.
        return vec![Change {
            class: Class::Breaking,
            kind: Kind::Added,
            line: format!("new fragment: {} did not exist", fragment_path.display()),
        }];
    };
    // An unparsable checked-in file is itself a change worth replacing.
    let old: Value = serde_json::from_slice(old).unwrap_or(Value::Null);
    let changes = changes::summarize(&old, fragment);
    if changes.is_empty() {
        vec![Change {
            class: Class::Docs,
            kind: Kind::Changed,
            line: "formatting only: same content, different bytes".to_owned(),
        }]
    } else {
        changes
    }
}

fn provenance_bytes(opts: &Options, doc: &Document) -> Vec<u8> {
    let taken_at = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
    Provenance {
        source_url: &opts.source_url,
        retrieved_via: match opts.source {
            Source::Url(_) => "download",
            Source::File(_) => "local copy",
        },
        sha256: &doc.sha256,
        taken_at: &taken_at,
    }
    .to_bytes()
}

/// Writes the fragment and its provenance record as a pair, then builds. Each file is replaced
/// atomically on its own; the pair is kept consistent by putting the fragment back whenever a
/// later step fails, so a failed run leaves both files as they were.
fn write_changed(
    opts: &Options,
    doc: &Document,
    new_bytes: &[u8],
    old_fragment: Option<&[u8]>,
) -> Result<()> {
    let fragment_path = opts.dir.fragment();
    let provenance_path = opts.dir.provenance();
    let old_provenance = read_optional(&provenance_path)?;
    write_atomic(&fragment_path, new_bytes)?;

    if let Err(e) = write_atomic(&provenance_path, &provenance_bytes(opts, doc)) {
        // A failed atomic write leaves the old record in place: only the fragment needs undoing.
        return Err(rolled_back(e, &[(fragment_path, old_fragment)]));
    }
    if let Some(command) = &opts.build
        && let Err(e) = build(command)
    {
        let files = [
            (fragment_path, old_fragment),
            (provenance_path, old_provenance.as_deref()),
        ];
        return Err(rolled_back(e, &files));
    }
    Ok(())
}

/// Restores every file in `files` to its old bytes (or removes it if it had none), trying all of
/// them even when one fails, and returns `cause` saying whether the rollback worked. Failures
/// are joined into the same single line, since a half-restored pair needs a maintainer's hands.
fn rolled_back(cause: anyhow::Error, files: &[(PathBuf, Option<&[u8]>)]) -> anyhow::Error {
    let failures: Vec<String> = files
        .iter()
        .filter_map(|(path, old)| restore(path, *old).err())
        .map(|e| format!("{e:#}"))
        .collect();
    if failures.is_empty() {
        cause.context("the new fragment was rolled back")
    } else {
        cause.context(format!(
            "rolling the new fragment back failed ({}); restore openapi/ from version control",
            failures.join("; ")
        ))
    }
}

fn restore(path: &Path, old: Option<&[u8]>) -> Result<()> {
    match old {
        Some(bytes) => write_atomic(path, bytes),
        None => std::fs::remove_file(path).with_context(|| format!("removing {}", path.display())),
    }
}

/// Runs the build command; any exit but success is a failure.
fn build(command: &[OsString]) -> Result<()> {
    let shown = command
        .iter()
        .map(|a| a.to_string_lossy())
        .collect::<Vec<_>>()
        .join(" ");
    let Some((program, args)) = command.split_first() else {
        bail!("the build command is empty");
    };
    let status = Command::new(program)
        .args(args)
        .status()
        .with_context(|| format!("running `{shown}`"))?;
    if !status.success() {
        bail!("the generated client does not build: `{shown}` failed ({status})");
    }
    Ok(())
}
