//! Where `--output` writes: checked before any request, replaced atomically.
//!
//! The file is written beside its final place and renamed over it, so a reader (a metrics
//! collector) sees the old file or the new one, never half of one. That rename would turn a
//! device node, a FIFO or a symlink into a regular file, so only a regular file (or a new one)
//! is accepted; a symlink is followed and its target replaced, in the target's directory.

use std::fs::{self, Metadata, Permissions};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A checked `--output` path.
#[derive(Debug)]
pub struct Destination {
    /// The path as given, for messages.
    given: PathBuf,
    /// The final path, symlinks resolved.
    path: PathBuf,
    /// An existing file's permissions, kept; a new file gets 0666 less the umask.
    permissions: Option<Permissions>,
}

impl Destination {
    /// Refuses anything but a regular file or a new file in an existing directory, and any
    /// path that is also one of `inputs` (it would be overwritten with the report).
    pub fn check(given: &Path, inputs: &[PathBuf]) -> Result<Self, String> {
        let shown = given.display();
        let (path, existing) = match fs::metadata(given) {
            Ok(meta) if meta.is_file() => {
                let path = fs::canonicalize(given).map_err(|e| format!("{shown}: {e}"))?;
                (path, Some(meta))
            }
            Ok(meta) if meta.is_dir() => return Err(format!("{shown} is a directory")),
            Ok(_) => {
                return Err(format!(
                    "{shown} is not a regular file (a device, FIFO or socket); name a file"
                ));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if fs::symlink_metadata(given).is_ok() {
                    return Err(format!("{shown} is a symlink to nothing"));
                }
                // `dir/` names a directory, though `file_name` would read it as `dir`.
                let dir_like = given.to_string_lossy().ends_with(std::path::is_separator);
                let name = (given.file_name().filter(|_| !dir_like))
                    .ok_or_else(|| format!("{shown} names no file"))?;
                let dir = match given.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir,
                    _ => Path::new("."),
                };
                let dir = fs::canonicalize(dir)
                    .map_err(|e| format!("{shown}: its directory {}: {e}", dir.display()))?;
                (dir.join(name), None)
            }
            Err(e) => return Err(format!("{shown}: {e}")),
        };
        // A trial file now, before any request: a directory that takes no new file (read-only,
        // /proc, /sys) would otherwise fail only once the balances were fetched.
        temporary_beside(&path).map_err(|e| {
            let dir = path.parent().unwrap_or(Path::new("."));
            format!("{shown}: cannot write in {}: {e}", dir.display())
        })?;
        if let Some(meta) = &existing {
            for input in inputs {
                if fs::metadata(input).is_ok_and(|m| same_file(&m, meta)) {
                    return Err(format!(
                        "{shown} is also an input ({}); writing there would destroy it",
                        input.display()
                    ));
                }
            }
        }
        Ok(Self {
            given: given.to_owned(),
            path,
            permissions: existing.map(|m| m.permissions()),
        })
    }

    /// Writes `bytes` to a temporary file in the same directory, then renames it into place;
    /// on error the temporary file is removed, and the error names the path as given.
    pub fn write(&self, bytes: &[u8]) -> Result<(), String> {
        (self.replace(bytes)).map_err(|e| format!("{}: {e}", self.given.display()))
    }

    fn replace(&self, bytes: &[u8]) -> std::io::Result<()> {
        let mut file = temporary_beside(&self.path)?;
        if let Some(permissions) = &self.permissions {
            file.as_file().set_permissions(permissions.clone())?;
        }
        file.write_all(bytes)?;
        file.as_file().sync_all()?;
        file.persist(&self.path).map_err(|e| e.error)?;
        Ok(())
    }
}

/// A new temporary file in `path`'s directory, to be renamed over it (or dropped, which
/// removes it).
fn temporary_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".balance-");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Passed to open(2), so the umask applies as it does to any new file.
        builder.permissions(Permissions::from_mode(0o666));
    }
    builder.tempfile_in(path.parent().unwrap_or(Path::new(".")))
}

#[cfg(unix)]
fn same_file(a: &Metadata, b: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (a.dev(), a.ino()) == (b.dev(), b.ino())
}

#[cfg(not(unix))]
fn same_file(_: &Metadata, _: &Metadata) -> bool {
    false
}
