//! `regen --report`: the semver class, the classed change lines and the drafted CHANGELOG entry.
//!
//! The report tests run the real binary (`regen --check --from FIXTURE --dir SCRATCH --report
//! OUT`), so the flag parsing is covered too. Each fixture pair is the committed fragment (in a
//! scratch `openapi/`) against the support module's fixture document mutated the way churn.rs
//! mutates it: one per class, and the unchanged fixture. The classification tests below them
//! drive `changes::summarize` directly on mutated copies of the committed fragment.

// Each test crate uses its own part of the shared support module.
#[allow(dead_code)]
mod support;

use serde_json::{Map, Value, json};
use std::path::Path;
use std::process::{Command, Output};
use support::{BALANCE_SCHEMA, fixture_json, scratch, snapshot, write_json};
use xtask::changes::{Class, summarize};

/// The Balance response schema's properties in a document or fragment.
fn properties(doc: &mut Value) -> &mut Map<String, Value> {
    doc["components"]["schemas"][BALANCE_SCHEMA]["properties"]
        .as_object_mut()
        .expect("the balance schema's properties")
}

/// The `FetchBalance` operation in a document or fragment.
fn operation(doc: &mut Value) -> &mut Value {
    &mut doc["paths"][xtask::BALANCE_PATH]["get"]
}

/// Breaking: the `currency` response field is gone.
fn currency_removed() -> Value {
    let mut doc = fixture_json();
    let removed = properties(&mut doc).remove("currency");
    assert!(removed.is_some(), "the fixture has a currency field");
    doc
}

/// Additive: a new optional (nullable, not required) response field.
fn optional_field_added() -> Value {
    let mut doc = fixture_json();
    properties(&mut doc).insert(
        "balance_updated_at".to_owned(),
        json!({"type": "string", "nullable": true, "description": "When the balance last changed"}),
    );
    doc
}

/// Docs: the operation's summary and a field's description rewritten.
fn prose_rewritten() -> Value {
    let mut doc = fixture_json();
    operation(&mut doc)["summary"] = "Fetch an Account's balance".into();
    properties(&mut doc)["currency"]["description"] = "ISO 4217 currency code".into();
    doc
}

fn xtask(dir: &Path, args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("regen")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run the xtask binary")
}

/// `regen --check --from FROM --dir DIR --report REPORT`, run in `tmp`.
fn check(
    tmp: &std::path::Path,
    from: &std::path::Path,
    dir: &std::path::Path,
    report: &str,
) -> std::process::Output {
    let args = ["--check".as_ref(), "--from".as_ref(), from.as_os_str()];
    let more = [
        "--dir".as_ref(),
        dir.as_os_str(),
        "--report".as_ref(),
        report.as_ref(),
    ];
    xtask(tmp, &[&args[..], &more[..]].concat())
}

/// Runs `regen --check --report` with `source` against a scratch copy of the committed files;
/// asserts the exit code and that nothing but the report was written, and returns the report.
fn check_report(source: &Value, exit_code: i32) -> String {
    let (tmp, dir) = scratch();
    let before = snapshot(&dir);
    // Pretty, as upstream publishes it: the unchanged fixture is then the one scratch() records.
    let from = tmp.path().join("upstream.json");
    std::fs::write(&from, xtask::extract::to_bytes(source)).expect("write the fixture");
    let out = check(tmp.path(), &from, &dir.0, "report.md");
    assert_eq!(out.status.code(), Some(exit_code), "{out:?}");
    assert!(
        snapshot(&dir) == before,
        "--check wrote more than the report"
    );
    std::fs::read_to_string(tmp.path().join("report.md")).expect("the report was written")
}

/// The report's change lines, `- CLASS: …`, before the drafted CHANGELOG entry.
fn change_lines(report: &str) -> Vec<&str> {
    report
        .split("```")
        .next()
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("- "))
        .collect()
}

/// `report` says `semver`, has `count` change lines each starting with `prefix`, and drafts
/// its CHANGELOG entry with `entry`.
fn assert_report(report: &str, semver: &str, count: usize, prefix: &str, entry: &str) {
    assert_eq!(report.lines().next(), Some(semver), "{report}");
    let lines = change_lines(report);
    assert_eq!(lines.len(), count, "{report}");
    assert!(lines.iter().all(|l| l.starts_with(prefix)), "{report}");
    assert!(report.contains(entry), "{report}");
}

#[test]
fn report_breaking_a_removed_response_field_requires_a_major_release() {
    let report = check_report(&currency_removed(), 1);
    assert_report(
        &report,
        "semver: major",
        1,
        "- breaking: schema field api.v2010.account.balance.currency: removed",
        "```markdown\n## [Unreleased]\n\n### Removed\n- `balance-api` (**breaking**): from the \
         upstream spec, schema field",
    );
}

#[test]
fn report_additive_a_new_optional_response_field_requires_a_minor_release() {
    let report = check_report(&optional_field_added(), 1);
    assert_report(
        &report,
        "semver: minor",
        1,
        "- additive: schema field api.v2010.account.balance.balance_updated_at: added: ",
        "## [Unreleased]\n\n### Added\n- `balance-api`: ",
    );
    assert!(
        !report.contains("### Removed") && !report.contains("### Changed"),
        "{report}"
    );
}

#[test]
fn report_docs_rewritten_prose_is_a_patch() {
    let report = check_report(&prose_rewritten(), 1);
    let entry = "### Changed\n- `balance-api` (docs only): ";
    assert_report(&report, "semver: patch", 2, "- docs: ", entry);
    let lines = change_lines(&report);
    assert!(lines[0].contains("summary"), "{report}");
    assert!(lines[1].contains("currency description"), "{report}");
}

#[test]
fn report_unchanged_is_a_patch_with_no_change_lines() {
    let report = check_report(&fixture_json(), 0);
    assert_eq!(
        report,
        "semver: patch\n\nNothing changed: the source yields the checked-in fragment byte for \
         byte. No CHANGELOG entry needed.\n"
    );
}

#[test]
fn report_unchanged_when_upstream_moved_only_outside_the_endpoint() {
    let mut doc = fixture_json();
    doc["paths"]["/2010-04-01/Unrelated.json"] = json!({"get": {}});
    let report = check_report(&doc, 0);
    assert_eq!(report.lines().next(), Some("semver: patch"), "{report}");
    assert!(change_lines(&report).is_empty(), "{report}");
    assert!(
        report.contains("Nothing changed in the Balance endpoint") && report.contains("sha256"),
        "{report}"
    );
}

#[test]
fn report_is_written_beside_a_regen_that_writes() {
    let (tmp, dir) = scratch();
    let from = write_json(tmp.path(), &currency_removed());
    let report = tmp.path().join("report.md");
    let out = xtask(
        tmp.path(),
        &[
            "--from".as_ref(),
            from.as_os_str(),
            "--dir".as_ref(),
            dir.0.as_os_str(),
            "--report".as_ref(),
            report.as_os_str(),
        ],
    );
    assert!(out.status.success(), "{out:?}");
    let mut fragment: Value =
        serde_json::from_slice(&snapshot(&dir).0).expect("the new fragment is JSON");
    assert!(!properties(&mut fragment).contains_key("currency"));
    let report = std::fs::read_to_string(report).expect("the report was written");
    assert!(report.starts_with("semver: major\n"), "{report}");
}

#[test]
fn a_report_that_cannot_be_written_is_a_clear_error() {
    let (tmp, dir) = scratch();
    let from = write_json(tmp.path(), &fixture_json());
    let out = check(tmp.path(), &from, &dir.0, "no/such/dir/report.md");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("error: writing the report no/such/dir/report.md: "),
        "{stderr}"
    );
}

// Classification, on the committed fragment: `base` sets up the old side, `edit` makes the new.

/// The classes of the changes `edit` makes to the committed fragment after `base`.
fn classes(base: impl Fn(&mut Value), edit: impl FnOnce(&mut Value)) -> Vec<Class> {
    let mut old = support::committed_fragment();
    base(&mut old);
    let mut new = old.clone();
    edit(&mut new);
    summarize(&old, &new).iter().map(|c| c.class).collect()
}

/// The classes of the changes `edit` makes to the committed fragment.
fn edited(edit: impl FnOnce(&mut Value)) -> Vec<Class> {
    classes(|_| {}, edit)
}

/// Asserts that `edit` makes one change to the committed fragment, of class `want`.
#[track_caller]
fn one(want: Class, edit: impl FnOnce(&mut Value)) {
    assert_eq!(edited(edit), [want]);
}

fn field<'a>(doc: &'a mut Value, name: &str) -> &'a mut Value {
    &mut properties(doc)[name]
}

fn schema_properties(doc: &mut Value) -> &mut Value {
    &mut doc["components"]["schemas"][BALANCE_SCHEMA]["properties"]
}

fn sid_param(doc: &mut Value) -> &mut Value {
    &mut operation(doc)["parameters"][0]
}

fn sid(doc: &mut Value) -> &mut Value {
    &mut sid_param(doc)["schema"]
}

fn scheme(doc: &mut Value) -> &mut Value {
    &mut doc["components"]["securitySchemes"]["accountSid_authToken"]
}

fn media(doc: &mut Value) -> &mut Value {
    &mut operation(doc)["responses"]["200"]["content"]["application/json"]
}

fn remove(object: &mut Value, key: &str) {
    let removed = object.as_object_mut().and_then(|o| o.remove(key));
    assert!(removed.is_some(), "no {key} to remove");
}

fn add_param(doc: &mut Value, param: Value) {
    let params = operation(doc)["parameters"].as_array_mut();
    params.expect("the operation's parameters").push(param);
}

fn rename(object: &mut Value, from: &str, to: &str) {
    let object = object.as_object_mut().expect("an object");
    let value = object.remove(from).expect("the key to rename");
    object.insert(to.to_owned(), value);
}

fn with_enum(doc: &mut Value) {
    field(doc, "currency")["enum"] = json!(["USD", "EUR"]);
}

#[test]
fn narrowed_types_and_constraints_are_breaking() {
    use Class::Breaking;
    one(Breaking, |d| field(d, "balance")["type"] = "integer".into());
    one(Breaking, |d| {
        field(d, "balance")["format"] = "decimal".into()
    });
    one(Breaking, |d| {
        field(d, "balance")["pattern"] = "^[0-9.]+$".into()
    });
    one(Breaking, |d| sid(d)["pattern"] = "^AC[0-9a-f]{32}$".into());
    one(Breaking, |d| sid(d)["maxLength"] = 30.into());
    one(Breaking, |d| sid(d)["minLength"] = 40.into());
    one(Breaking, |d| remove(field(d, "currency"), "nullable"));
    one(Breaking, |d| {
        field(d, "currency")["nullable"] = false.into()
    });
    one(Breaking, |d| field(d, "currency")["enum"] = json!(["USD"]));
    let shrunk = classes(with_enum, |d| field(d, "currency")["enum"] = json!(["USD"]));
    assert_eq!(shrunk, [Breaking]);
    let schema = |d: &mut Value| {
        d["components"]["schemas"][BALANCE_SCHEMA]["required"] = json!(["currency"])
    };
    one(Breaking, schema);
}

#[test]
fn widened_types_and_new_optional_things_are_additive() {
    use Class::Additive;
    one(Additive, |d| remove(sid(d), "pattern"));
    one(Additive, |d| sid(d)["maxLength"] = 64.into());
    one(Additive, |d| sid(d)["minLength"] = 2.into());
    one(Additive, |d| sid(d)["nullable"] = true.into());
    let grown = classes(with_enum, |d| {
        field(d, "currency")["enum"] = json!(["USD", "EUR", "GBP"])
    });
    assert_eq!(grown, [Additive]);
    let dropped = classes(with_enum, |d| remove(field(d, "currency"), "enum"));
    assert_eq!(dropped, [Additive]);
    let optional = json!({"name": "Unit", "in": "query", "schema": {"type": "string"}});
    one(Additive, |d| add_param(d, optional));
    one(Additive, |d| {
        operation(d)["responses"]["404"] = json!({"description": "Not Found"})
    });
    one(Additive, |d| sid_param(d)["required"] = false.into());
}

#[test]
fn moved_contracts_and_demands_on_callers_are_breaking() {
    use Class::{Additive, Breaking};
    // A rename is a removal (breaking) and an addition.
    let renamed = edited(|d| rename(schema_properties(d), "currency", "currency_code"));
    assert_eq!(renamed, [Breaking, Additive]);
    let moved = edited(|d| {
        rename(
            &mut d["paths"],
            xtask::BALANCE_PATH,
            "/2010-04-01/Accounts/{AccountSid}/Balance",
        );
    });
    assert_eq!(moved, [Breaking, Additive]);
    let to_post = edited(|d| rename(&mut d["paths"][xtask::BALANCE_PATH], "get", "post"));
    assert_eq!(to_post, [Breaking, Additive]);
    let required = json!({"name": "Unit", "in": "query", "required": true, "schema": {}});
    one(Breaking, |d| add_param(d, required));
    one(Breaking, |d| {
        operation(d)["operationId"] = "GetBalance".into()
    });
    one(Breaking, |d| operation(d)["security"] = json!([]));
    one(Breaking, |d| d["security"] = json!([{"bearer": []}]));
    one(Breaking, |d| scheme(d)["scheme"] = "bearer".into());
    one(Breaking, |d| {
        d["servers"] = json!([{"url": "https://api.example.com"}])
    });
    // Prose is prose, even about authentication.
    one(Class::Docs, |d| {
        scheme(d)["description"] = "Basic auth".into()
    });
}

#[test]
fn prose_tags_examples_and_extensions_are_docs_but_fields_named_so_are_not() {
    use Class::Docs;
    one(Docs, |d| operation(d)["description"] = "New.".into());
    one(Docs, |d| field(d, "balance")["description"] = "New.".into());
    one(Docs, |d| operation(d)["tags"] = json!(["Balance"]));
    one(Docs, |d| d["tags"] = json!([{"name": "Balance"}]));
    one(Docs, |d| d["info"]["version"] = "1.1.0".into());
    one(Docs, |d| {
        d["paths"][xtask::BALANCE_PATH]["x-twilio"]["pathType"] = "instance".into()
    });
    one(Docs, |d| field(d, "balance")["x-new"] = true.into());
    one(Docs, |d| {
        media(d)["examples"]["fetch"]["value"]["balance"] = "1".into()
    });

    // A response field called `description` is a field: removing it breaks.
    let with_field = |d: &mut Value| {
        properties(d).insert("description".to_owned(), json!({"type": "string"}));
    };
    let removed = classes(with_field, |d| remove(schema_properties(d), "description"));
    assert_eq!(removed, [Class::Breaking]);
    one(Class::Additive, with_field);
}
