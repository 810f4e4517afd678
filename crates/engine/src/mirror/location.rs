//! Where a mirror lives: one folder per account and API version (by default
//! `<data dir>/stripe-sql/mirror/<account>/<api version>`), one Delta table per
//! Stripe table inside, and a `mirror.json` naming the account and version so
//! a key of another account cannot sync into it. A mirror of a Connect
//! platform's accounts (`sync --accounts`) lives beside it, in
//! `<account>/<api version>-accounts`, and its marker also names the
//! accounts it holds (`all` or a list), so a sync or a query asking for other
//! accounts is told instead of reading the wrong ones.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The marker file of a mirror folder.
pub const MARKER: &str = "mirror.json";

/// What `mirror.json` records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marker {
    /// The Stripe account the tables mirror (`acct_...`).
    pub account: String,
    /// The API version the rows are shaped by.
    pub api_version: String,
    /// A mirror of several accounts: the selection it holds (`all`, or
    /// `acct_1,acct_2` sorted), each table partitioned by account. Absent for
    /// the mirror of the key's own account (its tables have no account column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accounts: Option<String>,
}

impl Marker {
    /// The mirror of `account`'s own tables.
    pub fn single(account: impl Into<String>, api_version: impl Into<String>) -> Marker {
        Marker { account: account.into(), api_version: api_version.into(), accounts: None }
    }
}

/// The folder of the mirror of `platform`'s accounts at `api_version` under `root`.
pub fn accounts_dir(root: &Path, platform: &str, api_version: &str) -> PathBuf {
    root.join(platform).join(format!("{api_version}-accounts"))
}

/// The folder of the mirror of `account` at `api_version` under `root`.
pub fn default_dir(root: &Path, account: &str, api_version: &str) -> PathBuf {
    root.join(account).join(api_version)
}

/// Checks that `dir` is empty, missing, or the mirror of `expected`, and
/// claims it (writes the marker). Refuses another account's or version's mirror.
pub fn claim(dir: &Path, expected: &Marker) -> Result<()> {
    if check(dir, expected)? {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    let text = serde_json::to_string_pretty(expected).map_err(|e| Error::Mirror(e.to_string()))?;
    std::fs::write(dir.join(MARKER), text)?;
    Ok(())
}

/// Checks without writing that `dir` may hold the mirror of `expected`;
/// true when it already does.
pub fn check(dir: &Path, expected: &Marker) -> Result<bool> {
    match read_marker(dir)? {
        Some(found) if found == *expected => Ok(true),
        Some(found) if found.account != expected.account => Err(Error::Plan(format!(
            "{} holds the mirror of account {}, not {}: choose another --to directory",
            dir.display(),
            found.account,
            expected.account
        ))),
        Some(found) if found.accounts != expected.accounts => Err(Error::Plan(format!(
            "{} holds the mirror of {}, not of {}: choose another --to directory",
            dir.display(),
            describe(&found),
            describe(expected)
        ))),
        Some(found) => Err(Error::Plan(format!(
            "{} holds a mirror at API version {}, not {}: choose another --to directory",
            dir.display(),
            found.api_version,
            expected.api_version
        ))),
        None => {
            if dir.is_dir() && std::fs::read_dir(dir)?.next().is_some() {
                return Err(Error::Plan(format!(
                    "{} is not empty and holds no stripe-sql mirror: choose another --to directory",
                    dir.display()
                )));
            }
            Ok(false)
        }
    }
}

/// What a marker's mirror holds, for messages.
pub fn describe(m: &Marker) -> String {
    match &m.accounts {
        None => format!("account {} alone", m.account),
        Some(a) if a == "all" => format!("every account of {} (--accounts all)", m.account),
        Some(a) => format!("accounts {a} (--accounts {a})"),
    }
}

/// The marker of `dir`, if it holds a mirror.
pub fn read_marker(dir: &Path) -> Result<Option<Marker>> {
    let path = dir.join(MARKER);
    if !path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&path)?;
    let marker = serde_json::from_str(&text)
        .map_err(|e| Error::Mirror(format!("{} is not a stripe-sql mirror marker: {e}", path.display())))?;
    Ok(Some(marker))
}

/// Every mirror folder at or below `root` (the folder itself, or
/// `root/<account>/<version>`), with its marker.
pub fn find_mirrors(root: &Path) -> Vec<(PathBuf, Marker)> {
    if let Ok(Some(m)) = read_marker(root) {
        return vec![(root.to_path_buf(), m)];
    }
    let mut out = Vec::new();
    let subdirs = |p: &Path| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> =
            std::fs::read_dir(p).into_iter().flatten().flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect();
        v.sort();
        v
    };
    for account in subdirs(root) {
        for version in subdirs(&account) {
            if let Ok(Some(m)) = read_marker(&version) {
                out.push((version, m));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_belongs_to_one_account() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = default_dir(tmp.path(), "acct_1", "2023-08-16");
        let mine = Marker::single("acct_1", "2023-08-16");
        claim(&dir, &mine).unwrap();
        claim(&dir, &mine).unwrap();
        let other = Marker { account: "acct_2".into(), ..mine.clone() };
        let err = claim(&dir, &other).unwrap_err().to_string();
        assert!(err.contains("holds the mirror of account acct_1, not acct_2"), "{err}");
        assert_eq!(find_mirrors(tmp.path()), vec![(dir.clone(), mine.clone())]);
        std::fs::write(tmp.path().join("x"), "").unwrap();
        let err = claim(tmp.path(), &other).unwrap_err().to_string();
        assert!(err.contains("not empty"), "{err}");
        let all = Marker { accounts: Some("all".into()), ..mine.clone() };
        let err = claim(&dir, &all).unwrap_err().to_string();
        assert!(err.contains("holds the mirror of account acct_1 alone, not of every account"), "{err}");
        let several = accounts_dir(tmp.path(), "acct_1", "2023-08-16");
        claim(&several, &all).unwrap();
        assert_eq!(find_mirrors(tmp.path()).len(), 2);
    }
}
