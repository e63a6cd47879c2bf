//! Upstream churn `regen` must survive. The code tracks the spec's contract (the operation, the
//! `AccountSid` parameter, the 200 response schema and its field names), never its prose, so
//! every fixture here changes Twilio's document the way upstream has or plausibly will (the
//! example dropped or changed, descriptions rewritten or gone, field schemas moved into shared
//! `$ref` components, properties reordered), takes it through the real regen path (extraction
//! from a fixture upstream document into a scratch `openapi/`), and then `balance-api` must
//! still build against the regenerated client with every feature.
//!
//! The fixtures share one scratch workspace under `target/churn` (so a run rebuilds only what
//! the changed fragment touches) and take turns in it; each still takes a while, so they are
//! ignored by default and `.ci/run` runs them with `--ignored`. Each prints its time on stderr.

// Each test crate uses its own part of the shared support module.
#[allow(dead_code)]
mod support;

use serde_json::{Value, json};
use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Instant;
use xtask::files::OpenapiDir;
use xtask::regen::{Options, Outcome};
use xtask::source::{Limits, Source};

/// The scratch workspace is one directory; the fixtures use it one at a time.
static SCRATCH: Mutex<()> = Mutex::new(());

/// The body build.rs makes from the committed response schema when the example is gone: the
/// shortest SID the pattern allows, and null for the nullable fields without one.
const SCHEMA_MADE: &str =
    r#"{"account_sid":"AC00000000000000000000000000000000","balance":null,"currency":null}"#;

#[test]
#[ignore = "builds balance-api against a changed fragment (minutes); .ci/run runs it"]
fn example_removed() {
    let mut doc = support::fixture_json();
    let removed = media(&mut doc)
        .as_object_mut()
        .and_then(|m| m.remove("examples"));
    assert!(removed.is_some(), "the fixture documents an example");

    // balance-api-gen's own tests check that the schema-made body decodes and its SID parses.
    let built = regen_and_build("example_removed", &doc, true);
    built.has_constant("DOCUMENTED_EXAMPLE: Option<&str> = None");
    built.has_constant(&format!("DEMO_RESPONSE: &str = {SCHEMA_MADE:?}"));
    built.has_constant("DEMO_RESPONSE_SOURCE: &str = \"a value made from the response schema");
    assert!(!built.page.contains("Example"), "{}", built.page);
}

#[test]
#[ignore = "builds balance-api against a changed fragment (minutes); .ci/run runs it"]
fn example_changed() {
    let mut doc = support::fixture_json();
    let example = json!({
        "account_sid": "AC0123456789abcdef0123456789ABCDEF",
        "balance": "12.34",
        "currency": "EUR"
    });
    // The singular form OpenAPI also allows, in place of the `examples` map.
    let media = media(&mut doc).as_object_mut().expect("the media type");
    media.remove("examples");
    media.insert("example".to_owned(), example.clone());

    let built = regen_and_build("example_changed", &doc, false);
    let text = example.to_string();
    built.has_constant(&format!(
        "DOCUMENTED_EXAMPLE: Option<&str> = Some({text:?})"
    ));
    built.has_constant(&format!("DEMO_RESPONSE: &str = {text:?}"));
    // The endpoint's Markdown page shows the new example, pretty-printed.
    assert!(
        built
            .page
            .contains(r#""account_sid": "AC0123456789abcdef0123456789ABCDEF""#),
        "{}",
        built.page
    );
}

#[test]
#[ignore = "builds balance-api against a changed fragment (minutes); .ci/run runs it"]
fn descriptions_and_summaries_removed() {
    let mut doc = support::fixture_json();
    // Even the responses' descriptions, which OpenAPI 3.0 requires.
    rewrite_prose(&mut doc, None);
    let built = regen_and_build("descriptions_and_summaries_removed", &doc, false);
    let fragment = built.fragment.to_string();
    assert!(!fragment.contains("\"description\""), "{fragment}");
    assert!(!fragment.contains("\"summary\""), "{fragment}");
}

#[test]
#[ignore = "builds balance-api against a changed fragment (minutes); .ci/run runs it"]
fn descriptions_and_summaries_rewritten() {
    let mut doc = support::fixture_json();
    // Markdown, HTML, a bare URL and comment-closing characters, as generated doc comments see.
    let prose = "Rewritten upstream: `code`, <b>bold</b>, [a link], \"quoted\", */ and \
                 https://www.twilio.com/docs/usage/api";
    rewrite_prose(&mut doc, Some(prose));
    let built = regen_and_build("descriptions_and_summaries_rewritten", &doc, false);
    assert!(built.generated.contains("Rewritten upstream"));
    // The Markdown page says it too, its table cells intact.
    assert!(built.page.contains("Rewritten upstream"), "{}", built.page);
    assert!(!built.page.contains("Fetch the balance"), "{}", built.page);
}

/// Twilio has moved field schemas into shared components before, and progenitor then generates
/// newtypes (and other type names) where `String`s and `FetchBalanceAccountSid` were.
#[test]
#[ignore = "builds balance-api against a changed fragment (minutes); .ci/run runs it"]
fn fields_moved_into_shared_components() {
    let mut doc = support::fixture_json();
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas");
    let balance = schemas
        .get_mut(support::BALANCE_SCHEMA)
        .and_then(|s| s["properties"].as_object_mut())
        .expect("the balance schema");
    let mut moved = Vec::new();
    for (name, schema) in balance.iter_mut() {
        let component = format!("shared_{name}");
        moved.push((component.clone(), schema.take()));
        *schema = json!({"$ref": format!("#/components/schemas/{component}")});
    }
    for (component, schema) in moved {
        schemas.insert(component, schema);
    }
    let operation = &mut doc["paths"][xtask::BALANCE_PATH]["get"];
    let param = operation["parameters"][0]["schema"].take();
    operation["parameters"][0]["schema"] =
        json!({"$ref": "#/components/schemas/AccountSidParameter"});
    doc["components"]["schemas"]["AccountSidParameter"] = param;

    let built = regen_and_build("fields_moved_into_shared_components", &doc, false);
    // The churn was real: the generated names changed under the stable aliases.
    let generated = &built.generated;
    assert!(
        generated.contains("pub type AccountSid = types :: AccountSidParameter"),
        "{generated}"
    );
    assert!(!generated.contains("pub balance: ::std::option::Option<::std::string::String>"));
}

/// The 200 response's schema under another name: the wrapper reaches it only through the
/// operation's stable alias, `fetch_balance::Response`.
#[test]
#[ignore = "builds balance-api against a changed fragment (minutes); .ci/run runs it"]
fn response_schema_renamed() {
    let mut doc = support::fixture_json();
    let renamed = "api.v2010.account.balance_v2";
    let schemas = doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas");
    let schema = schemas
        .remove(support::BALANCE_SCHEMA)
        .expect("the balance schema");
    schemas.insert(renamed.to_owned(), schema);
    let reference = &mut media(&mut doc)["schema"]["$ref"];
    assert_eq!(
        reference.as_str(),
        Some(format!("#/components/schemas/{}", support::BALANCE_SCHEMA).as_str())
    );
    *reference = json!(format!("#/components/schemas/{renamed}"));

    let built = regen_and_build("response_schema_renamed", &doc, false);
    let generated = &built.generated;
    assert!(
        generated.contains("pub type Response = types :: ApiV2010AccountBalanceV2;"),
        "{generated}"
    );
}

#[test]
#[ignore = "builds balance-api against a changed fragment (minutes); .ci/run runs it"]
fn response_properties_reordered() {
    let mut doc = support::fixture_json();
    let properties = &mut doc["components"]["schemas"][support::BALANCE_SCHEMA]["properties"];
    let reversed: serde_json::Map<String, Value> = properties
        .as_object()
        .expect("properties")
        .iter()
        .rev()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    *properties = Value::Object(reversed);

    let built = regen_and_build("response_properties_reordered", &doc, false);
    let order: Vec<&String> =
        built.fragment["components"]["schemas"][support::BALANCE_SCHEMA]["properties"]
            .as_object()
            .expect("properties")
            .keys()
            .collect();
    assert_eq!(order, ["currency", "balance", "account_sid"]);
}

/// The 200 response's `application/json` media type in an upstream document.
fn media(doc: &mut Value) -> &mut Value {
    &mut doc["paths"][xtask::BALANCE_PATH]["get"]["responses"]["200"]["content"]["application/json"]
}

/// Replaces every `description` and `summary` in `doc` with `prose`, or removes it (`None`);
/// keys of a `properties` map are field names, never prose, and are left alone.
fn rewrite_prose(value: &mut Value, prose: Option<&str>) {
    match value {
        Value::Object(map) => {
            for key in ["description", "summary"] {
                if map.get(key).is_some_and(Value::is_string) {
                    match prose {
                        Some(text) => {
                            map.insert(key.to_owned(), Value::String(text.to_owned()));
                        }
                        None => {
                            map.remove(key);
                        }
                    }
                }
            }
            for (key, child) in map.iter_mut() {
                match (key.as_str(), child) {
                    ("properties", Value::Object(fields)) => fields
                        .values_mut()
                        .for_each(|field| rewrite_prose(field, prose)),
                    (_, child) => rewrite_prose(child, prose),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_prose(v, prose)),
        _ => {}
    }
}

/// What a fixture's regen and build left behind.
struct Built {
    /// The fragment regen wrote.
    fragment: Value,
    /// balance-api-gen's generated `codegen.rs`.
    generated: String,
    /// balance-api-gen's generated Markdown page (`ENDPOINT_MARKDOWN`).
    page: String,
}

impl Built {
    /// Asserts the generated code declares `pub const {decl}` (a prefix of the declaration).
    fn has_constant(&self, decl: &str) {
        assert!(
            self.generated.contains(&format!("pub const {decl}")),
            "no `pub const {decl}` in the generated code:\n{}",
            self.generated
        );
    }
}

/// The one setup every fixture shares: brings the scratch workspace (`balance-api`,
/// `balance-api-gen`, `balance-cli`, the committed `openapi/`, a manifest listing just those
/// three) up to date with this one, regenerates its fragment from `upstream` through
/// `xtask::regen::run`, and checks the library (every feature) and the programs, all targets; with `test_gen`, also runs
/// `balance-api-gen`'s tests there. Panics naming the fixture on any failure.
fn regen_and_build(fixture: &str, upstream: &Value, test_gen: bool) -> Built {
    let _turn = SCRATCH
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let started = Instant::now();
    let workspace = support::workspace();
    let target = workspace.join("target/churn");
    let root = target.join("workspace");
    for dir in ["balance-api", "balance-api-gen", "balance-cli", "openapi"] {
        sync_tree(&workspace.join(dir), &root.join(dir));
    }
    let manifest = std::fs::read_to_string(workspace.join("Cargo.toml")).expect("manifest");
    let manifest = manifest
        .replace(
            r#"members = ["balance-api", "balance-api-gen", "balance-cli", "xtask", "tests"]"#,
            r#"members = ["balance-api", "balance-api-gen", "balance-cli"]"#,
        )
        .replace(
            r#"default-members = ["balance-api", "balance-api-gen", "balance-cli", "tests"]"#,
            r#"default-members = ["balance-api", "balance-api-gen", "balance-cli"]"#,
        );
    write_if_changed(&root.join("Cargo.toml"), manifest.as_bytes());
    let lock = std::fs::read(workspace.join("Cargo.lock")).expect("lock");
    write_if_changed(&root.join("Cargo.lock"), &lock);

    let source = tempfile::tempdir().expect("temp dir");
    let options = Options {
        source: Source::File(support::write_json(source.path(), upstream)),
        source_url: xtask::UPSTREAM_URL.to_owned(),
        dir: OpenapiDir(root.join("openapi")),
        limits: Limits::default(),
        check: false,
        // Built below, with the output captured for the failure message.
        build: None,
    };
    let outcome =
        xtask::regen::run(&options).unwrap_or_else(|e| panic!("{fixture}: regen failed: {e:#}"));
    let Outcome::Changed(changes) = outcome else {
        panic!("{fixture}: regen left the fragment as committed: {outcome:?}");
    };
    let fragment: Value =
        serde_json::from_slice(&std::fs::read(options.dir.fragment()).expect("the fragment"))
            .expect("the fragment is JSON");

    cargo(
        fixture,
        &root,
        &target,
        &[
            "check",
            "-p",
            "balance-api",
            "-p",
            "balance-cli",
            "--all-targets",
            "--all-features",
        ],
    );
    let generated = newest_generated(&target, "codegen.rs");
    let page = newest_generated(&target, "endpoint.md");
    if test_gen {
        cargo(fixture, &root, &target, &["test", "-p", "balance-api-gen"]);
    }
    let _ = writeln!(
        std::io::stderr().lock(),
        "churn fixture {fixture}: regenerated and built in {:.1?} ({} change(s): {})",
        started.elapsed(),
        changes.len(),
        joined(&changes)
    );
    Built {
        fragment,
        generated,
        page,
    }
}

/// The changes as one line, the way `regen` prints them, separated by semicolons.
fn joined(changes: &[xtask::changes::Change]) -> String {
    let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
    lines.join("; ")
}

/// Runs `cargo {args} --offline` in the scratch workspace; failure panics with cargo's output.
fn cargo(fixture: &str, root: &Path, target: &Path, args: &[&str]) {
    let output = Command::new(env!("CARGO"))
        .args(args)
        .arg("--offline")
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "{fixture}: `cargo {}` failed against the regenerated client:\n{}\n{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The file `name` the last build generated: build-script output directories accumulate in
/// the shared target directory, and the newest is this fixture's.
fn newest_generated(target: &Path, name: &str) -> String {
    let newest: Option<(std::time::SystemTime, PathBuf)> =
        std::fs::read_dir(target.join("debug/build"))
            .expect("build dir")
            .filter_map(|e| {
                let path = e.ok()?.path().join("out").join(name);
                Some((path.metadata().ok()?.modified().ok()?, path))
            })
            .max();
    let (_, path) = newest.unwrap_or_else(|| panic!("balance-api-gen generated no {name}"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Makes `to` a copy of `from`, writing only what differs (so cargo sees untouched files as
/// untouched and rebuilds only what the fixture changes) and removing what `from` lacks.
fn sync_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    let mut names = HashSet::new();
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        names.insert(entry.file_name());
        let kind = entry.file_type().expect("type");
        if kind.is_symlink() {
            // Relative symlinks (balance-api-gen/balance.json) keep pointing inside the copy.
            let link = std::fs::read_link(&src).expect("link");
            if std::fs::read_link(&dst).ok().as_ref() != Some(&link) {
                let _ = std::fs::remove_file(&dst);
                std::os::unix::fs::symlink(link, &dst).expect("symlink");
            }
        } else if kind.is_dir() {
            sync_tree(&src, &dst);
        } else {
            write_if_changed(&dst, &std::fs::read(&src).expect("read"));
        }
    }
    for entry in std::fs::read_dir(to).expect("read_dir") {
        let entry = entry.expect("entry");
        if !names.contains(&entry.file_name()) {
            let path = entry.path();
            let removed = if entry.file_type().expect("type").is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
            removed.expect("remove a file the workspace no longer has");
        }
    }
}

fn write_if_changed(path: &Path, bytes: &[u8]) {
    if std::fs::read(path).ok().as_deref() != Some(bytes) {
        std::fs::write(path, bytes).expect("write");
    }
}
