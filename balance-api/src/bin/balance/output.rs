//! The three output forms, the exit status, and the atomic `--output` write.

use crate::common::Failure;
use balance_api::{AccountSid, Balance, ConfigError, Decimal, Error};
use serde_json::json;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

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

/// Every account's outcome, in input order, judged against the minimum.
pub struct Report {
    rows: Vec<(AccountSid, Result<Balance, Error>)>,
    min: Option<Decimal>,
}

impl Report {
    pub fn new(mut rows: Vec<(AccountSid, Result<Balance, Error>)>, min: Option<Decimal>) -> Self {
        // With a minimum to check, an account without a balance could not be checked: that is
        // a failure to report, never a silent pass.
        if min.is_some() {
            for (account, result) in &mut rows {
                if result.as_ref().is_ok_and(|b| b.amount().is_none()) {
                    let why = format!("{account} has no balance information to compare with --min");
                    *result = Err(ConfigError::new(why).into());
                }
            }
        }
        Self { rows, min }
    }

    fn below(&self, balance: &Balance) -> bool {
        matches!((balance.amount(), self.min), (Some(amount), Some(min)) if amount < min)
    }

    /// 1 if any account failed, else 2 if any is below the minimum, else 0.
    pub fn exit_status(&self) -> u8 {
        let failed = self.rows.iter().any(|(_, r)| r.is_err());
        let below = self
            .rows
            .iter()
            .any(|(_, r)| r.as_ref().is_ok_and(|b| self.below(b)));
        match (failed, below) {
            (true, _) => 1,
            (false, true) => 2,
            (false, false) => 0,
        }
    }

    /// For stderr in text mode: which balances are below the minimum.
    pub fn below_lines(&self) -> impl Iterator<Item = String> + '_ {
        self.rows
            .iter()
            .filter_map(|(account, result)| match (result, self.min) {
                (Ok(b), Some(min)) if self.below(b) => {
                    Some(format!("{account}: below minimum: {b} < {min}"))
                }
                _ => None,
            })
    }

    pub fn render(&self, format: Format) -> String {
        let mut out = String::new();
        match format {
            Format::Text => {
                for (account, result) in &self.rows {
                    let _ = match result {
                        Ok(balance) => writeln!(out, "{account}: {balance}"),
                        Err(e) => writeln!(out, "{account}: error: {e}"),
                    };
                }
            }
            Format::Json => {
                for (account, result) in &self.rows {
                    let line = match result {
                        Ok(balance) => {
                            let mut v = serde_json::to_value(balance).unwrap_or_default();
                            v["account_sid"] = json!(account);
                            v["request_id"] = json!(balance.request_id());
                            v["below_min"] = json!(self.below(balance));
                            v
                        }
                        Err(e) => json!({
                            "account_sid": account,
                            "error": Failure::new(e, e.to_string()),
                        }),
                    };
                    out.push_str(&ascii_json(&line.to_string()));
                    out.push('\n');
                }
            }
            Format::Prometheus => self.prometheus(&mut out),
        }
        out
    }

    fn prometheus(&self, out: &mut String) {
        let mut seen = std::collections::HashSet::new();
        let rows: Vec<_> = self
            .rows
            .iter()
            .filter(|(a, _)| seen.insert(a.clone()))
            .collect();
        let family = |out: &mut String, name: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
        };
        family(
            out,
            "twilio_balance",
            "Account balance reported by Twilio, in the labelled currency.",
        );
        for (account, result) in &rows {
            if let Ok(b) = result
                && let Some(amount) = b.amount()
            {
                let currency = label(b.currency().unwrap_or_default());
                let _ = writeln!(
                    out,
                    "twilio_balance{{account_sid=\"{account}\",currency=\"{currency}\"}} {amount}"
                );
            }
        }
        family(
            out,
            "twilio_balance_up",
            "Whether the balance could be fetched (1) or not (0).",
        );
        for (account, result) in &rows {
            let _ = writeln!(
                out,
                "twilio_balance_up{{account_sid=\"{account}\"}} {}",
                u8::from(result.is_ok())
            );
        }
        if let Some(min) = self.min {
            family(
                out,
                "twilio_balance_minimum",
                "The --min threshold balances are checked against.",
            );
            let _ = writeln!(out, "twilio_balance_minimum {min}");
            family(
                out,
                "twilio_balance_below_minimum",
                "Whether the balance is below --min (1) or not (0).",
            );
            for (account, result) in &rows {
                if let Ok(b) = result {
                    let _ = writeln!(
                        out,
                        "twilio_balance_below_minimum{{account_sid=\"{account}\"}} {}",
                        u8::from(self.below(b))
                    );
                }
            }
        }
    }
}

/// A label value in the exposition format: `\` and `"` escaped; anything but letters, digits,
/// punctuation and spaces (a control character a server sent) replaced by `?`.
fn label(text: &str) -> String {
    text.chars()
        .flat_map(|c| match c {
            '\\' | '"' => vec!['\\', c],
            c if c.is_alphanumeric() || c.is_ascii_graphic() || c == ' ' => vec![c],
            _ => vec!['?'],
        })
        .collect()
}

/// JSON with every non-ASCII character and DEL written as `\u` escapes: the same value, and no
/// byte a terminal could take for a control sequence (serde_json leaves DEL, C1 controls and
/// bidi marks raw; it escapes the other ASCII controls itself).
fn ascii_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() && c != '\u{7f}' {
            out.push(c);
        } else {
            for unit in c.encode_utf16(&mut [0; 2]) {
                let _ = write!(out, "\\u{unit:04x}");
            }
        }
    }
    out
}

/// Writes a temporary file in the same directory, then renames it over `path`: a reader (a
/// metrics collector) sees the old file or the new one, never half of one; on error the
/// temporary file is removed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".balance-")
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Readable by a collector running as another user, as a plainly written file would be.
        file.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    }
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}
