//! The `--state FILE` of `stripe-sql watch`: where to resume after a restart.
//!
//! JSON with the watched table, the cursor over its rows and (with `--changes`)
//! the cursor over its events. Written atomically (a temporary file in the same
//! directory, then a rename), so a crash leaves either the old or the new state.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::cursor::Cursor;
use crate::{Error, Result};

/// Format version of the state file.
const VERSION: u32 = 1;

/// What a watch remembers between runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WatchState {
    /// Format version (1).
    pub version: u32,
    /// The watched table (a state file is refused for another table).
    pub table: String,
    /// Cursor over the table's rows (`created`).
    pub rows: Cursor,
    /// Cursor over the table's events (`--changes`).
    pub events: Cursor,
}

impl WatchState {
    /// A state starting at `second` for both cursors, re-polling `settle`
    /// seconds behind the high-water mark (see [`Cursor`]).
    pub fn starting_at(table: &str, second: i64, settle: i64) -> Self {
        WatchState {
            version: VERSION,
            table: table.to_string(),
            rows: Cursor::starting_at(second, settle),
            events: Cursor::starting_at(second, settle),
        }
    }

    /// Reads a state file; `None` when it does not exist yet.
    pub fn load(path: &Path) -> Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::Config(format!("could not read the watch state {}: {e}", path.display()))),
        };
        let state: WatchState = serde_json::from_str(&text)
            .map_err(|e| Error::Config(format!("could not parse the watch state {}: {e}", path.display())))?;
        if state.version != VERSION {
            return Err(Error::Config(format!(
                "the watch state {} has format version {}, this stripe-sql reads version {VERSION}",
                path.display(),
                state.version
            )));
        }
        Ok(Some(state))
    }

    /// Writes the state atomically (temporary file, flush, rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = temp_path(path);
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Plan(format!("could not encode the watch state: {e}")))?;
        let write = || -> std::io::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.write_all(b"\n")?;
            file.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| {
            let _ = std::fs::remove_file(&tmp);
            Error::Io(std::io::Error::new(
                e.kind(),
                format!("could not save the watch state to {}: {e}", path.display()),
            ))
        })
    }
}

/// `dir/.name.tmp-PID`, next to the target so the rename stays on one filesystem.
fn temp_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "watch-state".into());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_the_same_state_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(WatchState::load(&path).unwrap(), None);
        let mut state = WatchState::starting_at("charges", 1_700_000_000, 3);
        state.rows.admit(&[("ch_1".into(), 1_700_000_005), ("ch_2".into(), 1_700_000_005)]);
        state.save(&path).unwrap();
        assert_eq!(WatchState::load(&path).unwrap(), Some(state.clone()));
        // No temporary file is left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
    }

    #[test]
    fn a_corrupt_or_future_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        std::fs::write(&path, "{not json").unwrap();
        assert!(WatchState::load(&path).unwrap_err().to_string().contains("could not parse"));
        let mut state = WatchState::starting_at("charges", 1, 0);
        state.version = 9;
        std::fs::write(&path, serde_json::to_string(&state).unwrap()).unwrap();
        assert!(WatchState::load(&path).unwrap_err().to_string().contains("version 9"));
    }
}
