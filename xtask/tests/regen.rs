//! `regen` end to end on temporary copies of `openapi/`: a small fixture standing in for the
//! upstream document, the download path against a loopback server, `--check`, and failures that
//! must leave the files untouched. The real upstream copy is compared with the committed files
//! whenever one is available (see `support::real_upstream`).

mod support;

use httpmock::prelude::*;
use serde_json::{Value, json};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use support::{
    BALANCE_SCHEMA, CALLS_PATH, committed, fixture_bytes, fixture_json, fixture_sha, real_upstream,
    recorded_sha, scratch, scratch_committed, sha256_of, snapshot, write_fixture, write_json,
};
use xtask::files::OpenapiDir;
use xtask::regen::{Options, Outcome, run};
use xtask::source::{Limits, Source};

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
        build: None,
    }
}

/// The changes as `regen` prints them.
fn lines(changes: &[xtask::changes::Change]) -> Vec<String> {
    changes.iter().map(ToString::to_string).collect()
}

// The real upstream document: these run whenever a copy is available, and say so when skipped.

#[test]
fn the_committed_fragment_is_what_the_upstream_copy_yields() {
    let Some(upstream) = real_upstream("the_committed_fragment_is_what_the_upstream_copy_yields")
    else {
        return;
    };
    let bytes = std::fs::read(&upstream).expect("read upstream");
    let doc: Value = serde_json::from_slice(&bytes).expect("parse upstream");
    let frag = xtask::extract::fragment(&doc, xtask::BALANCE_PATH).expect("extracts");
    let committed_bytes = std::fs::read(committed().fragment()).expect("committed");
    assert!(
        xtask::extract::to_bytes(&frag) == committed_bytes,
        "openapi/balance.json drifted from upstream"
    );

    let record: Value =
        serde_json::from_slice(&std::fs::read(committed().provenance()).expect("provenance"))
            .expect("provenance is JSON");
    assert_eq!(record["sha256"], Value::String(support::sha256_hex(&bytes)));
    assert_eq!(record["source_url"], xtask::UPSTREAM_URL);
}

#[test]
fn check_passes_on_the_real_upstream_copy_and_writes_nothing() {
    let Some(upstream) = real_upstream("check_passes_on_the_real_upstream_copy_and_writes_nothing")
    else {
        return;
    };
    let (_tmp, dir) = scratch_committed();
    let before = snapshot(&dir);
    let outcome = run(&opts(Source::File(upstream), &dir, true)).expect("runs");
    assert_eq!(outcome, Outcome::UpToDate);
    assert!(snapshot(&dir) == before);
}

// The fixture every other test runs on.

#[test]
fn the_fixture_yields_the_committed_fragment_and_more() {
    let doc = fixture_json();
    let frag = xtask::extract::fragment(&doc, xtask::BALANCE_PATH).expect("extracts");
    let committed_bytes = std::fs::read(committed().fragment()).expect("committed");
    assert!(
        xtask::extract::to_bytes(&frag) == committed_bytes,
        "the fixture does not yield openapi/balance.json byte for byte"
    );

    // The decoys are there for extraction to leave out...
    let count = |v: &Value, kind: &str| {
        v["components"][kind]
            .as_object()
            .map_or(0, serde_json::Map::len)
    };
    assert_eq!(doc["paths"].as_object().map(serde_json::Map::len), Some(3));
    assert!(count(&doc, "schemas") > count(&frag, "schemas"));
    assert!(count(&doc, "securitySchemes") > count(&frag, "securitySchemes"));
    assert!(doc["components"]["parameters"].is_object());
    assert!(doc["tags"].as_array().map(Vec::len) > frag["tags"].as_array().map(Vec::len));
    assert!(doc["x-maturity"].is_array() && frag.get("x-maturity").is_none());

    // ...and well-formed: the decoy path extracts too, sharing the Balance schema.
    let calls = xtask::extract::fragment(&doc, CALLS_PATH).expect("the decoy path extracts");
    let schemas = calls["components"]["schemas"].as_object().expect("schemas");
    assert!(
        schemas.contains_key("api.v2010.account.call"),
        "{schemas:?}"
    );
    assert!(schemas.contains_key(BALANCE_SCHEMA), "{schemas:?}");
    assert!(!schemas.contains_key("api.v2010.account"), "{schemas:?}");

    // The scratch copies record the fixture, as a regen from it would.
    let (_tmp, dir) = scratch();
    assert_eq!(recorded_sha(&snapshot(&dir).1), fixture_sha());
}

#[test]
fn check_passes_on_the_committed_fragment_and_writes_nothing() {
    let (tmp, dir) = scratch();
    let before = snapshot(&dir);
    let source = write_fixture(tmp.path());
    let outcome = run(&opts(Source::File(source), &dir, true)).expect("runs");
    assert_eq!(outcome, Outcome::UpToDate);
    assert!(snapshot(&dir) == before);
}

#[test]
fn check_fails_naming_a_changed_field_and_writes_nothing() {
    let (tmp, dir) = scratch();
    let before = snapshot(&dir);
    let mut doc = fixture_json();
    doc["components"]["schemas"]["api.v2010.account.balance"]["properties"]["balance"]["type"] =
        "number".into();
    let source = write_json(tmp.path(), &doc);

    let outcome = run(&opts(Source::File(source), &dir, true)).expect("runs");
    let Outcome::Changed(changes) = outcome else {
        panic!("expected a change")
    };
    assert_eq!(
        lines(&changes),
        [
            "constraint schema field api.v2010.account.balance.balance type: \"string\" -> \"number\""
        ]
    );
    assert!(snapshot(&dir) == before, "--check must not write");
}

#[test]
fn regen_writes_changes_then_is_idempotent_provenance_included() {
    let (tmp, dir) = scratch();
    let before = snapshot(&dir);
    let mut doc = fixture_json();
    let path = &mut doc["paths"][xtask::BALANCE_PATH]["get"];
    path["parameters"][0]["schema"]["pattern"] = "^AC[0-9a-f]{32}$".into();
    doc["components"]["schemas"]["api.v2010.account.balance"]["properties"]["unit"] =
        serde_json::json!({"type": "string", "nullable": true});
    doc["paths"]["/2010-04-01/Unrelated.json"] = serde_json::json!({"get": {}});
    let source = write_json(tmp.path(), &doc);

    let Outcome::Changed(changes) =
        run(&opts(Source::File(source.clone()), &dir, false)).expect("runs")
    else {
        panic!("expected a change")
    };
    let lines = lines(&changes);
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
    assert_eq!(record["sha256"], Value::String(sha256_of(&source)));
    assert_ne!(record["sha256"], Value::String(recorded_sha(&before.1)));

    // Same input again: nothing is rewritten, not even the provenance timestamp.
    std::thread::sleep(Duration::from_millis(1100));
    let again = run(&opts(Source::File(source), &dir, false)).expect("runs");
    assert_eq!(again, Outcome::UpToDate);
    assert!(snapshot(&dir) == written);
}

#[test]
fn the_download_path_reads_the_spec_from_a_server() {
    let server = MockServer::start();
    let body = fixture_bytes();
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
    let mut doc = fixture_json();
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
    let mut doc = fixture_json();
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
    // httpmock always sends Content-Length, so this is the up-front check; the streaming cap
    // has its own test below.
    assert!(err.contains("over the 1048576 byte cap"), "{err}");
}

/// A one-shot HTTP server on loopback that streams `len` bytes with chunked encoding and no
/// Content-Length, so only the cap applied while reading the body can stop it. The receiver
/// says whether the whole body went out before the client hung up.
fn serve_chunked(len: usize) -> (String, mpsc::Receiver<bool>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    let (sent_all, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let Ok((mut conn, _)) = listener.accept() else {
            return;
        };
        // A client that stops reading at the cap hangs up, and the next write fails.
        let done = read_request_head(&mut conn).is_ok() && stream_chunked(&mut conn, len).is_ok();
        let _ = sent_all.send(done);
    });
    (format!("http://{addr}/spec.json"), rx)
}

fn read_request_head(conn: &mut TcpStream) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut buf = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(())
}

fn stream_chunked(conn: &mut TcpStream, len: usize) -> std::io::Result<()> {
    conn.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
          Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    )?;
    let chunk = vec![b' '; 64 << 10];
    let mut sent = 0;
    while sent < len {
        let n = chunk.len().min(len - sent);
        write!(conn, "{n:x}\r\n")?;
        conn.write_all(&chunk[..n])?;
        conn.write_all(b"\r\n")?;
        sent += n;
    }
    conn.write_all(b"0\r\n\r\n")
}

#[test]
fn a_chunked_download_over_the_cap_is_stopped_while_streaming() {
    // 64 MiB, far beyond what loopback socket buffers absorb, so a client that read everything
    // before checking the size would let the server finish; one that stops at the cap cannot.
    let (url, sent_all) = serve_chunked(64 << 20);
    let limits = Limits {
        timeout: Duration::from_secs(10),
        max_bytes: 1 << 20,
    };
    let err = fails_untouched(Source::Url(url), Some(limits));
    assert!(err.contains("exceeds the 1048576 byte cap"), "{err}");
    let sent_all = sent_all
        .recv_timeout(Duration::from_secs(10))
        .expect("the server notices the hang-up");
    assert!(
        !sent_all,
        "the client read the whole body before checking the cap"
    );
}

#[test]
fn the_largest_cap_does_not_overflow() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let path = write_json(tmp.path(), &json!({"openapi": "3.0.1"}));
    let limits = Limits {
        timeout: Duration::from_secs(10),
        max_bytes: u64::MAX,
    };
    let doc = xtask::source::load(&Source::File(path), limits).expect("reads under any cap");
    assert_eq!(doc.json["openapi"], "3.0.1");
}

#[test]
fn a_missing_local_file_is_a_clear_error() {
    let err = fails_untouched(Source::File("/nonexistent/spec.json".into()), None);
    assert!(err.starts_with("reading /nonexistent/spec.json: "), "{err}");
}

/// The fixture with a path added that the Balance fragment does not reach.
fn moved_elsewhere(dir: &Path) -> PathBuf {
    let mut doc = fixture_json();
    doc["paths"]["/2010-04-01/Unrelated.json"] = json!({"get": {}});
    write_json(dir, &doc)
}

#[test]
fn an_upstream_change_outside_the_balance_path_updates_only_the_provenance() {
    let (tmp, dir) = scratch();
    let before = snapshot(&dir);
    let source = moved_elsewhere(tmp.path());
    let old_sha = recorded_sha(&before.1);
    let new_sha = sha256_of(&source);
    assert_ne!(old_sha, new_sha);

    // --check succeeds and writes nothing, but says the recorded sha256 is behind.
    let checked = run(&opts(Source::File(source.clone()), &dir, true)).expect("runs");
    assert_eq!(
        checked,
        Outcome::UpToDateUpstreamMoved {
            recorded_sha: Some(old_sha.clone()),
            source_sha: new_sha.clone(),
        }
    );
    assert!(snapshot(&dir) == before, "--check must not write");

    let outcome = run(&opts(Source::File(source.clone()), &dir, false)).expect("runs");
    assert_eq!(
        outcome,
        Outcome::ProvenanceUpdated {
            old_sha: Some(old_sha),
            new_sha: new_sha.clone(),
        }
    );
    let after = snapshot(&dir);
    assert!(after.0 == before.0, "the fragment is byte-identical");
    assert_eq!(recorded_sha(&after.1), new_sha);

    // Recorded now: a second run is plainly up to date and writes nothing.
    std::thread::sleep(Duration::from_millis(1100));
    let again = run(&opts(Source::File(source), &dir, false)).expect("runs");
    assert_eq!(again, Outcome::UpToDate);
    assert!(snapshot(&dir) == after);
}

#[test]
fn a_missing_provenance_record_is_written_even_when_the_fragment_is_current() {
    let (tmp, dir) = scratch();
    std::fs::remove_file(dir.provenance()).expect("remove provenance");
    let source = write_fixture(tmp.path());
    let outcome = run(&opts(Source::File(source), &dir, false)).expect("runs");
    let new_sha = fixture_sha();
    assert_eq!(
        outcome,
        Outcome::ProvenanceUpdated {
            old_sha: None,
            new_sha: new_sha.clone(),
        }
    );
    let record = std::fs::read(dir.provenance()).expect("provenance written");
    assert_eq!(recorded_sha(&record), new_sha);
}

fn xtask_regen(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("regen")
        .args(args)
        .output()
        .expect("run the xtask binary")
}

#[test]
fn the_cli_check_passes_when_only_the_upstream_sha_moved() {
    let (tmp, dir) = scratch();
    let before = snapshot(&dir);
    let source = moved_elsewhere(tmp.path());
    let from = source.as_os_str();
    let at = dir.0.as_os_str();

    let out = xtask_regen(&[
        "--check".as_ref(),
        "--from".as_ref(),
        from,
        "--dir".as_ref(),
        at,
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout,
        "up to date (upstream document changed outside the Balance endpoint; \
         run regen to record its sha256)\n"
    );
    assert!(snapshot(&dir) == before, "--check must not write");

    let out = xtask_regen(&["--from".as_ref(), from, "--dir".as_ref(), at]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.starts_with(
            "fragment up to date; provenance updated \
             (upstream changed outside the Balance endpoint)\n"
        ),
        "{stdout}"
    );
    assert!(snapshot(&dir).0 == before.0);
}

/// The fixture with one field of the Balance schema changed.
fn changed_source(dir: &Path) -> PathBuf {
    let mut doc = fixture_json();
    doc["components"]["schemas"]["api.v2010.account.balance"]["properties"]["balance"]["type"] =
        "number".into();
    write_json(dir, &doc)
}

#[test]
fn the_cli_skips_the_build_for_another_dir_and_says_so() {
    let (tmp, dir) = scratch();
    let source = changed_source(tmp.path());
    let out = xtask_regen(&[
        "--from".as_ref(),
        source.as_os_str(),
        "--dir".as_ref(),
        dir.0.as_os_str(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout.contains("note: build skipped: balance-api-gen builds from "),
        "{stdout}"
    );
}

fn with_build(mut o: Options, command: &[&str]) -> Options {
    o.build = Some(command.iter().map(OsString::from).collect());
    o
}

#[test]
fn a_failing_build_rolls_back_both_files() {
    let (tmp, dir) = scratch();
    let before = snapshot(&dir);
    let source = changed_source(tmp.path());
    let o = with_build(opts(Source::File(source), &dir, false), &["false"]);
    let err = format!("{:#}", run(&o).expect_err("the build fails"));
    assert!(
        err.starts_with("the new fragment was rolled back: ") && err.contains("`false` failed"),
        "{err}"
    );
    assert!(snapshot(&dir) == before, "both files restored: {err}");
}

#[test]
fn a_passing_build_keeps_the_new_fragment() {
    let (tmp, dir) = scratch();
    let before = snapshot(&dir);
    let source = changed_source(tmp.path());
    let o = with_build(opts(Source::File(source.clone()), &dir, false), &["true"]);
    let outcome = run(&o).expect("runs");
    assert!(matches!(outcome, Outcome::Changed(_)), "{outcome:?}");
    let after = snapshot(&dir);
    assert!(after.0 != before.0, "the new fragment stays");
    let frag: Value = serde_json::from_slice(&after.0).expect("fragment is JSON");
    assert_eq!(
        frag["components"]["schemas"]["api.v2010.account.balance"]["properties"]["balance"]["type"],
        "number"
    );
    assert_eq!(recorded_sha(&after.1), sha256_of(&source));
}

#[test]
fn a_failed_provenance_write_rolls_the_fragment_back() {
    let (tmp, dir) = scratch();
    let before = snapshot(&dir);
    // write_atomic stages provenance.json in this temporary name; a directory there makes that
    // write fail after the fragment has already been replaced.
    std::fs::create_dir(dir.0.join(".provenance.json.tmp")).expect("block the staging file");
    let source = changed_source(tmp.path());
    let err = format!(
        "{:#}",
        run(&opts(Source::File(source), &dir, false)).expect_err("the write fails")
    );
    assert!(
        err.starts_with("the new fragment was rolled back: writing "),
        "{err}"
    );
    assert!(snapshot(&dir) == before, "fragment restored: {err}");
}

#[test]
fn a_rollback_restores_every_file_it_can_and_reports_the_rest() {
    let (tmp, dir) = scratch();
    let before = snapshot(&dir);
    let source = changed_source(tmp.path());
    // The "build" fails after turning balance.json into a non-empty directory, so restoring
    // the fragment fails; the provenance record must be restored all the same.
    let fragment = dir.fragment();
    let sabotage = r#"rm "$0" && mkdir -p "$0/x"; exit 1"#;
    let fragment = fragment.to_str().expect("a UTF-8 temp path");
    let o = with_build(
        opts(Source::File(source), &dir, false),
        &["sh", "-c", sabotage, fragment],
    );
    let err = format!("{:#}", run(&o).expect_err("the build fails"));
    assert!(
        err.starts_with("rolling the new fragment back failed (writing ")
            && err.contains("balance.json"),
        "{err}"
    );
    assert!(!err.contains('\n'), "one line: {err}");
    let provenance = std::fs::read(dir.provenance()).expect("read provenance");
    assert!(provenance == before.1, "provenance restored: {err}");
}
