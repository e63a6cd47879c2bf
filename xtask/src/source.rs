//! Getting the upstream document: a bounded download or a local file.

use anyhow::{Context, Result, bail};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

/// Where the upstream document comes from.
#[derive(Debug, Clone)]
pub enum Source {
    /// Download over HTTP(S).
    Url(String),
    /// Read a local copy (offline work, CI).
    File(PathBuf),
}

/// Limits on a download, so a broken mirror cannot hang or exhaust a maintainer's machine.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Total time for the request and the body.
    pub timeout: Duration,
    /// Largest body accepted; upstream is about 1.9 MB today.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(60),
            max_bytes: 64 << 20,
        }
    }
}

/// The raw upstream bytes and their parse.
pub struct Document {
    /// The parsed JSON document.
    pub json: Value,
    /// Hex sha256 of the exact bytes read, recorded as provenance.
    pub sha256: String,
}

/// Reads and parses the document; every failure is one line naming the source.
pub fn load(source: &Source, limits: Limits) -> Result<Document> {
    let bytes = match source {
        Source::Url(url) => download(url, limits).with_context(|| format!("downloading {url}"))?,
        Source::File(path) => {
            read_file(path, limits).with_context(|| format!("reading {}", path.display()))?
        }
    };
    let json: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not JSON", describe(source)))?;
    let sha256 = hex(&Sha256::digest(&bytes));
    Ok(Document { json, sha256 })
}

fn describe(source: &Source) -> String {
    match source {
        Source::Url(url) => url.clone(),
        Source::File(path) => path.display().to_string(),
    }
}

fn download(url: &str, limits: Limits) -> Result<Vec<u8>> {
    let client = reqwest::blocking::Client::builder()
        .timeout(limits.timeout)
        .connect_timeout(limits.timeout)
        .build()
        .context("building the HTTP client")?;
    let response = client.get(url).send().map_err(describe_transport)?;
    let status = response.status();
    if !status.is_success() {
        bail!("HTTP {status}");
    }
    if let Some(len) = response
        .content_length()
        .filter(|&len| len > limits.max_bytes)
    {
        bail!(
            "the server announces {len} bytes, over the {} byte cap",
            limits.max_bytes
        );
    }
    read_capped(response, limits.max_bytes)
}

fn describe_transport(e: reqwest::Error) -> anyhow::Error {
    if e.is_timeout() {
        anyhow::anyhow!("timed out")
    } else {
        anyhow::Error::new(e)
    }
}

fn read_file(path: &PathBuf, limits: Limits) -> Result<Vec<u8>> {
    read_capped(std::fs::File::open(path)?, limits.max_bytes)
}

/// Reads at most `max` bytes; one byte more means the input is over the cap.
fn read_capped(reader: impl Read, max: u64) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    // Saturating: `--max-bytes` accepts u64::MAX, and no input can be longer than that anyway.
    let limit = max.saturating_add(1);
    reader.take(limit).read_to_end(&mut bytes).map_err(|e| {
        // reqwest's blocking body reports timeouts as an io::Error wrapping its own error.
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<reqwest::Error>())
        {
            Some(inner) if inner.is_timeout() => anyhow::anyhow!("timed out reading the body"),
            _ => anyhow::Error::new(e),
        }
    })?;
    if bytes.len() as u64 > max {
        bail!("the body exceeds the {max} byte cap");
    }
    Ok(bytes)
}

/// Lower-case hex, as `sha256sum` prints it.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
