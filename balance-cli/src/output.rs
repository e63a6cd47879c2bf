//! The three output forms and the exit status.

use crate::escape;
use crate::fetch::{Outcome, Target};
use crate::json::{BILLED_TO_PARENT, BalanceJson, Failure, State, is_below};
use serde_json::json;
use std::fmt::Write as _;

/// How results are printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `AC…: 0.05 USD`, or `AC…: error: …`, one line per account.
    Text,
    /// JSON Lines: one object per account.
    Json,
    /// Prometheus text exposition format, for node_exporter's textfile collector.
    Prometheus,
}

/// Every account's outcome, in input order, judged against its minimum.
pub struct Report<'a> {
    rows: Vec<(&'a Target, &'a Outcome)>,
    /// Whether the figures come from the demo server: every output then says so.
    demo: bool,
}

impl<'a> Report<'a> {
    /// Each account with its outcome.
    pub fn new(rows: impl IntoIterator<Item = (&'a Target, &'a Outcome)>, demo: bool) -> Self {
        Self {
            rows: rows.into_iter().collect(),
            demo,
        }
    }

    /// 1 if any account failed, else 2 if any is below its minimum, else 0. An account with
    /// no balance of its own (a subaccount) is neither.
    pub fn exit_status(&self) -> u8 {
        let any = |state| (self.rows.iter()).any(|(t, r)| State::of(r, t.min) == state);
        match (any(State::Unreadable), any(State::BelowMin)) {
            (true, _) => 1,
            (false, true) => 2,
            (false, false) => 0,
        }
    }

    /// For stderr in text mode: which balances are below their minimum.
    pub fn below_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.rows
            .iter()
            .filter_map(|(target, result)| match result {
                Ok(b) if is_below(b, target.min) => Some(format!(
                    "{}: below minimum: {b} < {}",
                    display_name(target),
                    target.min.unwrap_or_default()
                )),
                _ => None,
            })
    }

    /// Every account's outcome in `format`.
    pub fn render(&self, format: Format) -> String {
        let mut out = String::new();
        match format {
            Format::Text => self.text(&mut out),
            Format::Json => self.json(&mut out),
            Format::Prometheus => self.prometheus(&mut out),
        }
        out
    }

    fn text(&self, out: &mut String) {
        let demo = match self.demo {
            true => format!(" ({})", crate::json::DEMO_NOTE.as_str()),
            false => String::new(),
        };
        for (target, result) in &self.rows {
            let name = display_name(target);
            let _ = match result {
                Ok(b) if b.amount().is_none() => writeln!(out, "{name}: {BILLED_TO_PARENT}{demo}"),
                Ok(balance) => writeln!(out, "{name}: {balance}{demo}"),
                Err(e) => writeln!(out, "{name}: error: {e}{demo}"),
            };
        }
    }

    fn json(&self, out: &mut String) {
        for (target, result) in &self.rows {
            let (account, name) = (&target.account, target.name.as_deref());
            let line = match result {
                Ok(b) => json!(BalanceJson::new(account, name, b, target.min, self.demo)),
                Err(e) => {
                    let mut line =
                        json!({ "account_sid": account, "error": Failure::of(e, e.to_string()) });
                    if let Some(name) = name {
                        line["name"] = json!(name);
                    }
                    if self.demo {
                        line["demo"] = json!(true);
                        line["note"] = json!(crate::json::DEMO_NOTE.as_str());
                    }
                    line
                }
            };
            out.push_str(&escape::json_ascii(&line.to_string()));
            out.push('\n');
        }
    }

    /// The label set of an account's series: `account_sid`, `name` when configured,
    /// `currency` for the balance itself, and `demo="true"` on demo figures.
    pub fn labels(&self, target: &Target, currency: Option<&str>) -> String {
        let mut set = format!("account_sid=\"{}\"", target.account);
        if let Some(name) = &target.name {
            let _ = write!(set, ",name=\"{}\"", escape::prometheus_label(name));
        }
        if let Some(currency) = currency {
            let _ = write!(set, ",currency=\"{}\"", escape::prometheus_label(currency));
        }
        if self.demo {
            set.push(',');
            set.push_str(DEMO_LABEL);
        }
        set
    }

    /// The label set of a series about the run rather than an account: `demo="true"` on demo
    /// figures, else none.
    pub fn run_labels(&self) -> String {
        match self.demo {
            true => DEMO_LABEL.to_owned(),
            false => String::new(),
        }
    }

    /// The Prometheus text exposition of every account's outcome.
    pub fn prometheus(&self, out: &mut String) {
        let rows = || self.rows.iter();
        gauge(
            out,
            "twilio_balance",
            "Account balance reported by Twilio, in the labelled currency (none for subaccounts, which their parent's balance pays for).",
            rows().filter_map(|(target, result)| {
                let balance = result.as_ref().ok()?;
                let currency = balance.currency().unwrap_or_default();
                Some((self.labels(target, Some(currency)), balance.amount()?))
            }),
        );
        gauge(
            out,
            "twilio_balance_up",
            "Whether the balance could be fetched (1) or not (0).",
            rows().map(|(target, result)| (self.labels(target, None), u8::from(result.is_ok()))),
        );
        if rows().any(|(target, _)| target.min.is_some()) {
            gauge(
                out,
                "twilio_balance_minimum",
                "The minimum each account's balance is checked against.",
                rows().filter_map(|(target, _)| Some((self.labels(target, None), target.min?))),
            );
            gauge(
                out,
                "twilio_balance_below_minimum",
                "Whether the balance is below its minimum (1) or not (0).",
                rows().filter_map(|(target, result)| {
                    let balance = result.as_ref().ok().filter(|b| b.amount().is_some())?;
                    target.min?;
                    let below = u8::from(is_below(balance, target.min));
                    Some((self.labels(target, None), below))
                }),
            );
        }
    }
}

/// Demo figures carry their own label, so no alert or panel takes them for real.
const DEMO_LABEL: &str = "demo=\"true\"";

/// A gauge family: its `HELP` and `TYPE` lines, then a sample for each `(label set, value)`.
pub fn gauge<V: std::fmt::Display>(
    out: &mut String,
    name: &str,
    help: &str,
    samples: impl IntoIterator<Item = (String, V)>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    for (labels, value) in samples {
        let _ = match labels.is_empty() {
            true => writeln!(out, "{name} {value}"),
            false => writeln!(out, "{name}{{{labels}}} {value}"),
        };
    }
}

/// `name (AC…)`, or the SID alone.
fn display_name(target: &Target) -> String {
    match &target.name {
        Some(name) => format!("{} ({})", escape::terminal(name), target.account),
        None => target.account.to_string(),
    }
}
