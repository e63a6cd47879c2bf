//! The checked-in files under `openapi/`: atomic writes and the provenance record.

use anyhow::{Context, Result};
use serde_json::json;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

/// File name of the fragment inside the openapi directory.
pub const FRAGMENT: &str = "balance.json";
/// File name of the provenance record inside the openapi directory.
pub const PROVENANCE: &str = "provenance.json";

/// Where the two checked-in files live.
#[derive(Debug, Clone)]
pub struct OpenapiDir(pub PathBuf);

impl OpenapiDir {
    /// Path of the fragment.
    pub fn fragment(&self) -> PathBuf {
        self.0.join(FRAGMENT)
    }

    /// Path of the provenance record.
    pub fn provenance(&self) -> PathBuf {
        self.0.join(PROVENANCE)
    }
}

/// What the provenance record says about the fragment beside it.
pub struct Provenance<'a> {
    /// Where the upstream document was published.
    pub source_url: &'a str,
    /// Whether it was downloaded now or read from a local copy of that URL.
    pub retrieved_via: &'a str,
    /// sha256 of the full upstream document the fragment was cut from.
    pub sha256: &'a str,
    /// When the fragment was taken (RFC 3339, UTC).
    pub taken_at: &'a str,
}

impl Provenance<'_> {
    /// The record as written to disk.
    pub fn to_bytes(&self) -> Vec<u8> {
        let record = json!({
            "source_url": self.source_url,
            "retrieved_via": self.retrieved_via,
            "sha256": self.sha256,
            "taken_at": self.taken_at,
        });
        crate::extract::to_bytes(&record)
    }
}

/// Reads a file, treating "absent" as `None` and any other failure as an error.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Replaces `path` with `bytes` so readers see the old file or the new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .context("the target has no parent directory")?;
    let name = path.file_name().context("the target has no file name")?;
    let tmp = dir.join(format!(".{}.tmp", name.to_string_lossy()));
    let written = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written.with_context(|| format!("writing {}", path.display()))
}
