//! `cargo xtask regen --report FILE`: what a run found, as Markdown for a maintainer: the semver
//! class of the change, one line per change naming its class, and a CHANGELOG entry to paste.
//!
//! Every line comes from [`crate::changes`]; this module only lays them out.

use crate::changes::{Change, Class, Kind};
use crate::regen::Outcome;

/// The crate a change to the fragment is released in.
const CRATE: &str = "balance-api";

/// The report for `outcome`. Its first line is `semver: major`, `semver: minor` or
/// `semver: patch`: the release the change requires (`patch` when nothing changed).
pub fn render(outcome: &Outcome) -> String {
    let Outcome::Changed(changes) = outcome else {
        return format!("semver: patch\n\n{}\n", unchanged(outcome));
    };
    let class = changes.iter().map(|c| c.class).max().unwrap_or(Class::Docs);
    let mut out = format!("semver: {}\n\n", class.semver());
    out.push_str("Changes between the checked-in fragment and what the source yields:\n\n");
    for change in changes {
        out.push_str(&format!("- {}: {}\n", change.class, change.line));
    }
    out.push_str("\nDrafted CHANGELOG entry:\n\n```markdown\n");
    out.push_str(&changelog(changes));
    out.push_str("```\n");
    out
}

/// The sentence for a run that found the fragment as checked in.
fn unchanged(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::UpToDate => {
            "Nothing changed: the source yields the checked-in fragment byte for byte. \
             No CHANGELOG entry needed."
        }
        _ => {
            "Nothing changed in the Balance endpoint: the source yields the checked-in fragment \
             byte for byte (the upstream document changed elsewhere; only its sha256 differs). \
             No CHANGELOG entry needed."
        }
    }
}

/// Keep a Changelog sections, in that format's order, with the changes each one lists.
fn changelog(changes: &[Change]) -> String {
    let mut out = String::from("## [Unreleased]\n");
    for heading in ["Added", "Changed", "Removed"] {
        let lines: Vec<String> = changes
            .iter()
            .filter(|c| section(c) == heading)
            .map(entry)
            .collect();
        if !lines.is_empty() {
            out.push_str(&format!("\n### {heading}\n{}", lines.concat()));
        }
    }
    out
}

/// Added: something new; Removed: something gone; Changed: everything else, widenings and
/// prose included.
fn section(change: &Change) -> &'static str {
    match (change.kind, change.class) {
        (Kind::Added, Class::Additive) => "Added",
        (Kind::Removed, Class::Breaking) => "Removed",
        _ => "Changed",
    }
}

fn entry(change: &Change) -> String {
    let note = match change.class {
        Class::Breaking => " (**breaking**)",
        Class::Additive => "",
        Class::Docs => " (docs only)",
    };
    format!(
        "- `{CRATE}`{note}: from the upstream spec, {}\n",
        change.line
    )
}
