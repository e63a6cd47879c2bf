//! Files the programs read: bounded in size, and only the kinds of file that belong there.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The largest config or accounts file read: 10,000 accounts take about 2 MB.
pub const MAX_LIST: u64 = 16 * 1024 * 1024;
/// The largest secret read: Twilio's tokens and secrets are 32 characters.
pub const MAX_SECRET: u64 = 4096;

/// The text of a config or accounts file: a regular file, a FIFO (`<(…)` process
/// substitution), or stdin for `-`; at most [`MAX_LIST`] bytes. Errors name the path.
pub fn read_list(path: &Path) -> Result<String, String> {
    if path.as_os_str() == "-" {
        return read_bounded(std::io::stdin(), MAX_LIST, "stdin");
    }
    let shown = path.display();
    let file = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    let kind = file
        .metadata()
        .map_err(|e| format!("{shown}: {e}"))?
        .file_type();
    #[cfg(unix)]
    let fifo = std::os::unix::fs::FileTypeExt::is_fifo(&kind);
    #[cfg(not(unix))]
    let fifo = false;
    if !kind.is_file() && !fifo {
        return Err(format!("{shown} is not a regular file or a pipe"));
    }
    read_bounded(file, MAX_LIST, &shown.to_string())
}

/// A secret from a regular file of at most [`MAX_SECRET`] bytes that only its owner can read
/// (as ssh insists for keys; the mode is checked on Unix only). One trailing newline is
/// dropped. Errors name the file as `shown` (the path, or words for one that may be a secret
/// pasted in its place), never the content.
pub fn read_secret(path: &Path, shown: &str) -> Result<String, String> {
    // Checked before opening, so a FIFO with no writer cannot hang the start.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file()) {
        return Err(format!("{shown} is not a regular file"));
    }
    let file = File::open(path).map_err(|e| format!("{shown}: {e}"))?;
    // And again on what was opened, in case the path changed in between.
    let meta = file.metadata().map_err(|e| format!("{shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{shown} is not a regular file"));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "{shown} is open to group or others (mode {mode:04o}); run chmod 600 on it"
            ));
        }
    }
    let text = read_bounded(file, MAX_SECRET, shown)?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    Ok(text.strip_suffix('\r').unwrap_or(text).to_owned())
}

/// UTF-8 text of at most `max` bytes; past that an error, without reading the rest.
fn read_bounded(reader: impl Read, max: u64, shown: &str) -> Result<String, String> {
    let mut bytes = Vec::new();
    (reader.take(max + 1).read_to_end(&mut bytes)).map_err(|e| format!("{shown}: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(format!(
            "{shown} is larger than the {max} bytes read at most"
        ));
    }
    String::from_utf8(bytes).map_err(|_| format!("{shown} is not UTF-8 text"))
}
