//! Shared by the integration tests: the committed files, a small fixture standing in for the
//! upstream document, scratch copies of `openapi/`, and the real upstream copy when there is one.
//!
//! The fixture is built from the committed fragment (itself a verbatim extraction) plus decoy
//! paths, tags and components laid out the way upstream lays out its document, so the tests of
//! the task's mechanics need nothing outside this repository. Only the tests that compare with
//! the real document go through [`real_upstream`].

use serde_json::{Map, Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use tempfile::TempDir;
use xtask::files::OpenapiDir;

/// Names a copy of the real upstream document; when set, that copy must exist.
pub const SPEC_VAR: &str = "TWILIO_OAI_SPEC";

/// Where a maintainer's checkout keeps the upstream copy, relative to the workspace root.
const BESIDE_WORKSPACE: &str = "../shared/twilio-oai/twilio_api_v2010.json";

/// A decoy path item in the fixture, wired to decoy components and to the Balance schema.
pub const CALLS_PATH: &str = "/2010-04-01/Accounts/{AccountSid}/Calls.json";

/// The schema the Balance path reaches; the Calls decoy shares it.
pub const BALANCE_SCHEMA: &str = "api.v2010.account.balance";

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

/// The checked-in `openapi/`.
pub fn committed() -> OpenapiDir {
    OpenapiDir(workspace().join("openapi"))
}

pub fn committed_fragment() -> Value {
    serde_json::from_slice(&std::fs::read(committed().fragment()).expect("read the fragment"))
        .expect("the committed fragment is JSON")
}

/// The fixture "upstream" document. Top-level keys come in upstream's order (components first,
/// which extraction must reorder), and every list or map the fragment draws from also holds
/// entries it must leave out: tags, paths, schemas, a security scheme, a component kind the
/// fragment has none of, and a top-level extension.
pub fn fixture_json() -> Value {
    let frag = committed_fragment();
    let part = |key: &str| frag.get(key).cloned();

    let mut components = Map::new();
    let frag_components = part("components").expect("the fragment has components");
    for (kind, entries) in frag_components
        .as_object()
        .expect("components is an object")
    {
        let mut all = Map::new();
        all.extend(decoys_before(kind));
        all.extend(entries.as_object().expect("a component kind").clone());
        all.extend(decoys_after(kind));
        components.insert(kind.clone(), Value::Object(all));
    }
    for (kind, entries) in decoy_kinds() {
        assert!(!components.contains_key(&kind), "{kind} is in the fragment");
        components.insert(kind, entries);
    }

    let mut tags = vec![json!({"name": "Api20100401Account"})];
    tags.extend(
        part("tags")
            .and_then(|t| t.as_array().cloned())
            .unwrap_or_default(),
    );
    tags.push(json!({"name": "Api20100401Call"}));

    let mut paths = Map::new();
    paths.insert("/2010-04-01/Accounts.json".to_owned(), accounts_path());
    for (path, item) in part("paths")
        .expect("the fragment has paths")
        .as_object()
        .expect("paths")
    {
        paths.insert(path.clone(), item.clone());
    }
    paths.insert(CALLS_PATH.to_owned(), calls_path());

    let mut doc = Map::new();
    doc.insert("components".to_owned(), Value::Object(components));
    for key in ["info", "openapi"] {
        doc.extend(part(key).map(|v| (key.to_owned(), v)));
    }
    doc.insert("paths".to_owned(), Value::Object(paths));
    doc.extend(part("servers").map(|v| ("servers".to_owned(), v)));
    doc.insert("tags".to_owned(), Value::Array(tags));
    doc.extend(part("security").map(|v| ("security".to_owned(), v)));
    doc.insert(
        "x-maturity".to_owned(),
        json!([{"name": "GA", "description": "This product is Generally Available."}]),
    );
    Value::Object(doc)
}

fn decoys_before(kind: &str) -> Map<String, Value> {
    let decoys = match kind {
        "schemas" => json!({
            "api.v2010.account": {"type": "object", "properties": {
                "sid": {"type": "string", "pattern": "^AC[0-9a-fA-F]{32}$", "nullable": true},
                "status": {"$ref": "#/components/schemas/account_enum_status"}}},
            "account_enum_status": {"type": "string", "enum": ["active", "suspended", "closed"]}
        }),
        _ => json!({}),
    };
    decoys.as_object().cloned().unwrap_or_default()
}

fn decoys_after(kind: &str) -> Map<String, Value> {
    let decoys = match kind {
        "securitySchemes" => json!({"decoy_bearer": {"scheme": "bearer", "type": "http"}}),
        "schemas" => json!({
            "api.v2010.account.call": {"type": "object", "properties": {
                "sid": {"type": "string", "pattern": "^CA[0-9a-fA-F]{32}$", "nullable": true},
                "status": {"$ref": "#/components/schemas/call_enum_status"},
                "price_unit": {"type": "string", "format": "currency", "nullable": true},
                "account_balance": {"$ref": "#/components/schemas/api.v2010.account.balance"}}},
            "call_enum_status": {"type": "string", "enum": ["queued", "ringing", "completed"]}
        }),
        _ => json!({}),
    };
    decoys.as_object().cloned().unwrap_or_default()
}

/// A component kind the fragment has none of.
fn decoy_kinds() -> Map<String, Value> {
    let kinds = json!({"parameters": {"PageSize": {
        "name": "PageSize", "in": "query",
        "schema": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 1000}}}});
    kinds.as_object().cloned().unwrap_or_default()
}

fn accounts_path() -> Value {
    json!({"get": {
        "tags": ["Api20100401Account"],
        "parameters": [{"$ref": "#/components/parameters/PageSize"}],
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/api.v2010.account"}}}}}
    }})
}

fn calls_path() -> Value {
    json!({"get": {
        "tags": ["Api20100401Call"],
        "security": [{"decoy_bearer": []}],
        "parameters": [
            {"name": "AccountSid", "in": "path", "required": true,
             "schema": {"type": "string", "pattern": "^AC[0-9a-fA-F]{32}$"}},
            {"$ref": "#/components/parameters/PageSize"}
        ],
        "responses": {"200": {"description": "OK", "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/api.v2010.account.call"}}}}}
    }})
}

/// The fixture's bytes on disk: pretty JSON, as upstream publishes its document.
pub fn fixture_bytes() -> Vec<u8> {
    xtask::extract::to_bytes(&fixture_json())
}

pub fn fixture_sha() -> String {
    sha256_hex(&fixture_bytes())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    xtask::source::hex(&sha2::Sha256::digest(bytes))
}

pub fn sha256_of(path: &Path) -> String {
    sha256_hex(&std::fs::read(path).expect("read"))
}

/// Writes the fixture into `dir` and returns its path.
pub fn write_fixture(dir: &Path) -> PathBuf {
    let path = dir.join("upstream.json");
    std::fs::write(&path, fixture_bytes()).expect("write the fixture");
    path
}

/// Writes `v` into `dir` as a source document and returns its path.
pub fn write_json(dir: &Path, v: &Value) -> PathBuf {
    let path = dir.join("source.json");
    std::fs::write(&path, serde_json::to_vec(v).expect("serialize")).expect("write source");
    path
}

/// A scratch `openapi/` as a regen from the fixture would leave it: the committed fragment, and
/// the committed provenance record naming the fixture's sha256 instead of upstream's.
pub fn scratch() -> (TempDir, OpenapiDir) {
    let mut record: Value = serde_json::from_slice(
        &std::fs::read(committed().provenance()).expect("read the committed provenance"),
    )
    .expect("the committed provenance is JSON");
    record["sha256"] = fixture_sha().into();
    scratch_with(&xtask::extract::to_bytes(&record))
}

/// A scratch `openapi/` holding byte copies of both committed files.
pub fn scratch_committed() -> (TempDir, OpenapiDir) {
    scratch_with(&std::fs::read(committed().provenance()).expect("read the committed provenance"))
}

fn scratch_with(provenance: &[u8]) -> (TempDir, OpenapiDir) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = OpenapiDir(tmp.path().to_path_buf());
    std::fs::copy(committed().fragment(), dir.fragment()).expect("copy fragment");
    std::fs::write(dir.provenance(), provenance).expect("write provenance");
    (tmp, dir)
}

pub fn snapshot(dir: &OpenapiDir) -> (Vec<u8>, Vec<u8>) {
    let read = |p: PathBuf| std::fs::read(p).expect("read");
    (read(dir.fragment()), read(dir.provenance()))
}

pub fn recorded_sha(provenance: &[u8]) -> String {
    let record: Value = serde_json::from_slice(provenance).expect("provenance is JSON");
    record["sha256"].as_str().expect("a sha256").to_owned()
}

/// The real upstream document, for the tests that compare the committed files with it; every
/// such test starts here.
///
/// With `TWILIO_OAI_SPEC` set, that file must exist (CI sets it, and a green run there must mean
/// the comparison ran), so its absence panics. Otherwise the copy beside the workspace is used
/// if present; if not, the test says on stderr that it was skipped and the caller returns early.
pub fn real_upstream(test: &str) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os(SPEC_VAR) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "UPSTREAM SPEC NOT FOUND: {SPEC_VAR}={} is not a file, so {test} cannot compare \
             the committed fragment with the real document; point {SPEC_VAR} at a copy of \
             twilio_api_v2010.json, or unset it to skip this test",
            path.display()
        );
        return Some(path);
    }
    let beside = workspace().join(BESIDE_WORKSPACE);
    if beside.is_file() {
        return Some(beside);
    }
    // libtest captures `eprintln!` from passing tests, which would hide the skip in a plain
    // `cargo test`; the stderr handle itself is not captured, so this line shows either way.
    let _ = writeln!(
        std::io::stderr().lock(),
        "SKIPPED {test}: no upstream copy of twilio_api_v2010.json ({} is absent and {SPEC_VAR} \
         is unset); the committed files were NOT compared with the real document. Set \
         {SPEC_VAR} to a copy to run it.",
        beside.display()
    );
    None
}
