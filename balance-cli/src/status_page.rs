//! `balance serve`'s page at `/`: every account's state at a glance, for a person with a browser
//! or a phone. Rendered here with no script; everything from the config or from Twilio is
//! HTML-escaped.

use crate::escape;
use crate::fetch::{Outcome, Problem, Target};
use crate::json::{BILLED_TO_PARENT, is_below};
use std::fmt::Write as _;
use std::time::SystemTime;

/// One account on the page.
pub struct Row<'a> {
    /// The account and its minimum.
    pub target: &'a Target,
    /// What the last round found.
    pub outcome: &'a Outcome,
    /// When its fetches started failing, if they are failing.
    pub failing_since: Option<SystemTime>,
}

/// The page's head, per request: the style, the demo note, when the last round ended (and
/// whether one is running now), and the table's header. [`rows`] and [`TAIL`] follow it.
pub fn head(demo: bool, last_round: Option<SystemTime>, running: bool) -> String {
    let mut page = String::from(concat!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>Twilio balances</title><style>",
        "body{font-family:system-ui,sans-serif;margin:1em;color:#222}",
        "table{border-collapse:collapse;width:100%}",
        "th,td{text-align:left;padding:.45em .6em;border-bottom:1px solid #ddd;vertical-align:top}",
        "td.sid{font-family:monospace;word-break:break-all}",
        ".ok{color:#176117}.below,.down{color:#a40000;font-weight:600}.other{color:#555}",
        // A phone gets one card per account, each value under its label.
        "@media(max-width:640px){table,tbody,tr,td{display:block}tr:first-child{display:none}",
        "tr{border-bottom:1px solid #bbb;padding:.4em 0}td{border:0;padding:.15em 0}",
        "td::before{content:attr(data-label) \": \";color:#777;font-weight:400}}",
        "</style></head><body><h1>Twilio balances</h1>\n",
    ));
    if demo {
        let note = escape::html(&crate::json::DEMO_NOTE);
        let _ = writeln!(page, "<p class=\"below\">{note}</p>");
    }
    let when = last_round.map_or("none yet".to_owned(), |at| {
        humantime::format_rfc3339_seconds(at).to_string()
    });
    let running = if running {
        " (a round is in progress)"
    } else {
        ""
    };
    let _ = writeln!(
        page,
        "<p>Last round: {when}{running}. <a href=\"/metrics\">Metrics</a></p>\n\
         <table><tr><th>Name</th><th>State</th><th>Balance</th><th>Minimum</th>\
         <th>Account SID</th></tr>"
    );
    page
}

/// What closes the page after [`rows`].
pub const TAIL: &str = "</table></body></html>\n";

/// A row per account: rendered once per round and shared by every request that shows it.
pub fn rows<'a>(rows: impl Iterator<Item = Row<'a>>, demo: bool) -> String {
    let mut page = String::new();
    for row in rows {
        let target = row.target;
        let name = escape::html(&escape::terminal(target.name.as_deref().unwrap_or("")));
        let balance = match row.outcome {
            Ok(b) => escape::html(&b.to_string()),
            Err(_) => String::new(),
        };
        let min = target.min.map(|m| m.to_string()).unwrap_or_default();
        let (class, state) = state(&row, demo);
        let _ = writeln!(
            page,
            "<tr><td data-label=\"Name\">{name}</td><td data-label=\"State\" class=\"{class}\">{state}</td>\
             <td data-label=\"Balance\">{balance}</td><td data-label=\"Minimum\">{min}</td>\
             <td data-label=\"Account SID\" class=\"sid\">{}</td></tr>",
            target.account
        );
    }
    page
}

/// The state cell: its class, and its escaped text.
fn state(row: &Row, demo: bool) -> (&'static str, String) {
    match row.outcome {
        Ok(_) if demo => ("other", "demo".into()),
        Ok(b) if b.amount().is_none() => ("other", format!("subaccount: {BILLED_TO_PARENT}")),
        Ok(b) if is_below(b, row.target.min) => ("below", "below minimum".into()),
        Ok(_) => ("ok", "ok".into()),
        Err(Problem::NotYet) => ("other", "not fetched yet".into()),
        Err(problem) => {
            let since = row.failing_since.map_or(String::new(), |at| {
                format!(" since {}", humantime::format_rfc3339_seconds(at))
            });
            ("down", format!("down{since}: {}", failure(problem)))
        }
    }
}

/// Why an account is down, in the program's words only: the page is unauthenticated, and a
/// server's text (which an echoing proxy can fill with the credentials, transformed past any
/// scrubbing) never reaches it. The HTTP status, Twilio's error code, and a link to Twilio's
/// page for that code, built here from the number.
fn failure(problem: &Problem) -> String {
    let Problem::Fetch(e) = problem else {
        return escape::html(&problem.to_string()); // the program's own report
    };
    let mut words = match e.status() {
        _ if e.is_timeout() => "timed out".to_owned(),
        _ if e.is_connect() => "could not connect".to_owned(),
        _ if e.is_decode() => "the answer was not the documented balance".to_owned(),
        Some(status) => format!("HTTP {status}"),
        None => "the request failed".to_owned(),
    };
    if let Some(code) = e.code() {
        let link = format!("https://www.twilio.com/docs/errors/{code}");
        let _ = write!(words, ", Twilio error <a href=\"{link}\">{code}</a>");
    }
    if let Some(id) = e
        .request_id()
        .filter(|id| id.bytes().all(|b| b.is_ascii_alphanumeric()))
    {
        let _ = write!(words, " (request {id})");
    }
    words
}
