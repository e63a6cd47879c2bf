//! `regen` end to end on temporary copies of `openapi/`: the real upstream copy, the download
//! path against a loopback server, `--check`, and failures that must leave the files untouched.

use httpmock::prelude::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use xtask::files::OpenapiDir;
use xtask::regen::{Options, Outcome, run};
use xtask::source::{Limits, Source};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The upstream copy provided beside the project. Its absence fails the test loudly: a green
/// run must mean the committed fragment was compared with the real document.
fn upstream() -> PathBuf {
    let path = std::env::var_os("TWILIO_OAI_SPEC").map_or_else(
        || workspace().join("../shared/twilio-oai/twilio_api_v2010.json"),
        PathBuf::from,
    );
    assert!(
        path.is_file(),
        "UPSTREAM SPEC NOT FOUND at {}: set TWILIO_OAI_SPEC to a copy of twilio_api_v2010.json",
        path.display()
    );
    path
}

/// A scratch `openapi/` holding copies of the committed files.
fn scratch() -> (tempfile::TempDir, OpenapiDir) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = OpenapiDir(tmp.path().to_path_buf());
    let committed = OpenapiDir(workspace().join("openapi"));
    std::fs::copy(committed.fragment(), dir.fragment()).expect("copy fragment");
    std::fs::copy(committed.provenance(), dir.provenance()).expect("copy provenance");
    (tmp, dir)
}

fn snapshot(dir: &OpenapiDir) -> (Vec<u8>, Vec<u8>) {
    let read = |p: PathBuf| std::fs::read(p).expect("read");
    (read(dir.fragment()), read(dir.provenance()))
}

fn opts(source: Source, dir: &OpenapiDir, check: bool) -> Options {
    Options {
        source,
        source_url: xtask::UPSTREAM_URL.to_owned(),
        dir: dir.clone(),
        limits: Limits {
            timeout: Duration::from_secs(10),
            max_bytes: 16 << 20,
        },
        check,
        build: false,
    }
}

fn upstream_json() -> Value {
    serde_json::from_slice(&std::fs::read(upstream()).expect("read upstream"))
        .expect("parse upstream")
}

fn write_json(dir: &Path, v: &Value) -> PathBuf {
    let path = dir.join("source.json");
    std::fs::write(&path, serde_json::to_vec(v).expect("serialize")).expect("write source");
    path
}

#[test]
fn the_committed_fragment_is_what_the_upstream_copy_yields() {
    let doc = upstream_json();
    let frag = xtask::extract::fragment(&doc, xtask::BALANCE_PATH).expect("extracts");
    let committed = std::fs::read(workspace().join("openapi/balance.json")).expect("committed");
    assert!(
        xtask::extract::to_bytes(&frag) == committed,
        "openapi/balance.json drifted from upstream"
    );

    let record: Value = serde_json::from_slice(
        &std::fs::read(workspace().join("openapi/provenance.json")).expect("provenance"),
    )
    .expect("provenance is JSON");
    let sha = {
        use sha2::Digest;
        xtask::source::hex(&sha2::Sha256::digest(
            std::fs::read(upstream()).expect("read"),
        ))
    };
    assert_eq!(record["sha256"], Value::String(sha));
    assert_eq!(record["source_url"], xtask::UPSTREAM_URL);
}

#[test]
fn check_passes_on_the_committed_fragment_and_writes_nothing() {
    let (_tmp, dir) = scratch();
    let before = snapshot(&dir);
    let outcome = run(&opts(Source::File(upstream()), &dir, true)).expect("runs");
    assert_eq!(outcome, Outcome::UpToDate);
    assert!(snapshot(&dir) == before);
}

#[test]
fn check_fails_naming_a_changed_field_and_writes_nothing() {
    let (tmp, dir) = scratch();
    let before = snapshot(&dir);
    let mut doc = upstream_json();
    doc["components"]["schemas"]["api.v2010.account.balance"]["properties"]["balance"]["type"] =
        "number".into();
    let source = write_json(tmp.path(), &doc);

    let outcome = run(&opts(Source::File(source), &dir, true)).expect("runs");
    let Outcome::Changed(lines) = outcome else {
        panic!("expected a change")
    };
    assert_eq!(
        lines,
        [
            "constraint schema field api.v2010.account.balance.balance type: \"string\" -> \"number\""
        ]
    );
    assert!(snapshot(&dir) == before, "--check must not write");
}

#[test]
fn regen_writes_changes_then_is_idempotent_provenance_included() {
    let (tmp, dir) = scratch();
    let mut doc = upstream_json();
    let path = &mut doc["paths"][xtask::BALANCE_PATH]["get"];
    path["parameters"][0]["schema"]["pattern"] = "^AC[0-9a-f]{32}$".into();
    doc["components"]["schemas"]["api.v2010.account.balance"]["properties"]["unit"] =
        serde_json::json!({"type": "string", "nullable": true});
    doc["paths"]["/2010-04-01/Unrelated.json"] = serde_json::json!({"get": {}});
    let source = write_json(tmp.path(), &doc);

    let Outcome::Changed(lines) =
        run(&opts(Source::File(source.clone()), &dir, false)).expect("runs")
    else {
        panic!("expected a change")
    };
    assert!(lines.contains(&"constraint parameter AccountSid (path) of GET /2010-04-01/Accounts/{AccountSid}/Balance.json schema.pattern: \"^AC[0-9a-fA-F]{32}$\" -> \"^AC[0-9a-f]{32}$\"".to_owned()), "{lines:#?}");
    assert!(lines.contains(&"schema field api.v2010.account.balance.unit: added: {\"type\":\"string\",\"nullable\":true}".to_owned()), "{lines:#?}");
    assert_eq!(
        lines.len(),
        2,
        "the unrelated path is not part of the fragment: {lines:#?}"
    );

    let written = snapshot(&dir);
    let frag: Value = serde_json::from_slice(&written.0).expect("fragment is JSON");
    assert_eq!(
        frag["paths"][xtask::BALANCE_PATH],
        doc["paths"][xtask::BALANCE_PATH]
    );
    let record: Value = serde_json::from_slice(&written.1).expect("provenance is JSON");
    assert_eq!(record["retrieved_via"], "local copy");
    assert_ne!(
        record["sha256"],
        serde_json::from_slice::<Value>(&scratch_provenance()).expect("json")["sha256"]
    );

    // Same input again: nothing is rewritten, not even the provenance timestamp.
    std::thread::sleep(Duration::from_millis(1100));
    let again = run(&opts(Source::File(source), &dir, false)).expect("runs");
    assert_eq!(again, Outcome::UpToDate);
    assert!(snapshot(&dir) == written);
}

fn scratch_provenance() -> Vec<u8> {
    std::fs::read(workspace().join("openapi/provenance.json")).expect("committed provenance")
}

#[test]
fn the_download_path_reads_the_spec_from_a_server() {
    let server = MockServer::start();
    let body = std::fs::read(upstream()).expect("read upstream");
    let mock = server.mock(|when, then| {
        when.method(GET).path("/spec.json");
        then.status(200)
            .header("content-type", "text/plain")
            .body(body);
    });
    let (_tmp, dir) = scratch();
    let outcome = run(&opts(Source::Url(server.url("/spec.json")), &dir, true)).expect("runs");
    assert_eq!(outcome, Outcome::UpToDate);
    assert_eq!(mock.calls(), 1);
}

/// Runs a non-check regen against `source` and returns its one-line error, asserting that the
/// checked-in files are byte-identical afterwards.
fn fails_untouched(source: Source, limits: Option<Limits>) -> String {
    let (_tmp, dir) = scratch();
    let before = snapshot(&dir);
    let mut o = opts(source, &dir, false);
    if let Some(l) = limits {
        o.limits = l;
    }
    let err = format!("{:#}", run(&o).expect_err("must fail"));
    assert!(snapshot(&dir) == before, "files changed after: {err}");
    assert!(!err.contains('\n'), "one line: {err}");
    err
}

fn serve(status: u16, body: &[u8]) -> (MockServer, String) {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/spec.json");
        then.status(status).body(body);
    });
    let url = server.url("/spec.json");
    (server, url)
}

#[test]
fn http_error_statuses_are_clear_errors() {
    for status in [404, 500] {
        let (_server, url) = serve(status, b"nope");
        let err = fails_untouched(Source::Url(url.clone()), None);
        assert!(
            err.starts_with(&format!("downloading {url}: HTTP {status}")),
            "{err}"
        );
    }
}

#[test]
fn a_slow_server_times_out_within_the_limit() {
    let server = MockServer::start();
    server.mock(|when, then| {
        when.method(GET).path("/spec.json");
        then.status(200).body("{}").delay(Duration::from_secs(5));
    });
    let started = Instant::now();
    let limits = Limits {
        timeout: Duration::from_millis(300),
        max_bytes: 1 << 20,
    };
    let err = fails_untouched(Source::Url(server.url("/spec.json")), Some(limits));
    assert!(err.ends_with("timed out"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_non_json_body_is_a_clear_error() {
    let (_server, url) = serve(200, b"<html>rate limited</html>");
    let err = fails_untouched(Source::Url(url.clone()), None);
    assert!(err.starts_with(&format!("{url} is not JSON: ")), "{err}");
}

#[test]
fn an_openapi_3_1_document_is_refused() {
    let mut doc = upstream_json();
    doc["openapi"] = "3.1.0".into();
    let (_server, url) = serve(200, &serde_json::to_vec(&doc).expect("serialize"));
    let err = fails_untouched(Source::Url(url), None);
    assert_eq!(
        err,
        "the document is OpenAPI 3.1.0; progenitor reads OpenAPI 3.0.x only"
    );
}

#[test]
fn a_missing_balance_path_or_dangling_ref_is_refused() {
    let mut doc = upstream_json();
    doc["components"]["schemas"]
        .as_object_mut()
        .expect("schemas")
        .remove("api.v2010.account.balance");
    let (_server, url) = serve(200, &serde_json::to_vec(&doc).expect("serialize"));
    let err = fails_untouched(Source::Url(url), None);
    assert_eq!(
        err,
        "dangling $ref #/components/schemas/api.v2010.account.balance: no such component"
    );

    doc["paths"]
        .as_object_mut()
        .expect("paths")
        .remove(xtask::BALANCE_PATH);
    let (_server, url) = serve(200, &serde_json::to_vec(&doc).expect("serialize"));
    let err = fails_untouched(Source::Url(url), None);
    assert_eq!(
        err,
        format!("the document has no path {}", xtask::BALANCE_PATH)
    );
}

#[test]
fn an_oversized_download_is_capped() {
    let (_server, url) = serve(200, &vec![b' '; 2 << 20]);
    let limits = Limits {
        timeout: Duration::from_secs(10),
        max_bytes: 1 << 20,
    };
    let err = fails_untouched(Source::Url(url), Some(limits));
    assert!(
        err.contains("over the 1048576 byte cap") || err.contains("exceeds the 1048576 byte cap"),
        "{err}"
    );
}

#[test]
fn a_missing_local_file_is_a_clear_error() {
    let err = fails_untouched(Source::File("/nonexistent/spec.json".into()), None);
    assert!(err.starts_with("reading /nonexistent/spec.json: "), "{err}");
}
