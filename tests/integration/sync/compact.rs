//! Compaction: a table followed step after step gathers a small file per
//! step; past `compact_files` the sync rewrites them into a few large ones
//! (Delta OPTIMIZE) in a commit that carries the sync state unchanged, so the
//! mirror stays exact, resumes where it was, and keeps following.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use stripe_sql::sync::{Observer, Progress, SyncOptions, Syncer, Target};

use super::support::*;

/// A sync of `customers` into `dir` that compacts past `compact_files` files.
async fn open(a: &Account, dir: &std::path::Path, compact_files: usize, observer: Observer) -> Syncer {
    let options = SyncOptions { compact_files, ..a.options() };
    let names = vec!["customers".to_string()];
    Syncer::open(Arc::clone(&a.engine), Some(&names), Target::Dir(dir.into()), options, observer).await.unwrap()
}

/// The commit files of the Delta table at `dir/table`, oldest first.
fn commits(dir: &std::path::Path, table: &str) -> Vec<std::path::PathBuf> {
    let log = dir.join(table).join("_delta_log");
    let mut commits: Vec<_> = std::fs::read_dir(&log)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    commits.sort();
    commits
}

/// The newest commit of the Delta table at `dir/table`: its `commitInfo`.
fn last_commit(dir: &std::path::Path, table: &str) -> Value {
    let commits = commits(dir, table);
    let text = std::fs::read_to_string(commits.last().expect("a commit")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find_map(|v| v.get("commitInfo").cloned())
        .expect("commitInfo")
}

/// Data files the table's newest version holds.
fn data_files(dir: &std::path::Path, table: &str) -> usize {
    live_paths(dir, table).len()
}

/// The paths of the data files the table's newest version holds (added and not removed since).
fn live_paths(dir: &std::path::Path, table: &str) -> std::collections::BTreeSet<String> {
    let commits = commits(dir, table);
    let mut live = std::collections::BTreeSet::new();
    for commit in commits {
        for line in std::fs::read_to_string(commit).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            if let Some(path) = v.pointer("/add/path").and_then(Value::as_str) {
                live.insert(path.to_string());
            }
            if let Some(path) = v.pointer("/remove/path").and_then(Value::as_str) {
                live.remove(path);
            }
        }
    }
    live
}

#[tokio::test]
async fn a_table_past_its_file_budget_is_compacted_with_its_state_and_stays_exact() {
    let a = Account::new();
    for i in 0..3 {
        a.customer(&format!("c{i}@compact.test")).await;
        a.advance(60);
    }
    let dir = tempfile::tempdir().unwrap();
    let (observer, seen) = recorder();
    let mut sync = open(&a, dir.path(), 4, observer).await;
    sync.step(false).await.unwrap();

    // A step whose events only create rows adds a file and rewrites none.
    let mut compacted = None;
    for round in 0..8 {
        a.advance(30);
        a.customer(&format!("n{round}@compact.test")).await;
        sync.step(false).await.unwrap();
        assert_exact(&a.engine, &sync).await;
        let files = data_files(dir.path(), "customers");
        assert!(files <= 4, "round {round}: {files} files, past the budget of 4 after a step");
        let found = seen.lock().unwrap().iter().find_map(|p| match p {
            Progress::Compacted { table, files_before, files_after } => {
                Some((table.clone(), *files_before, *files_after))
            }
            _ => None,
        });
        if let Some(found) = found {
            compacted = Some((round, found));
            break;
        }
    }
    let (round, (table, before, after)) = compacted.expect("no compaction in 8 steps of one new file each");
    assert_eq!(table, "customers");
    assert!(before > 4 && after < before && after >= 1, "{before} files into {after}");
    assert_eq!(data_files(dir.path(), "customers"), after);

    // The compaction is the newest commit: no data change, the state as it was.
    let info = last_commit(dir.path(), "customers");
    assert_eq!(info["operation"], "OPTIMIZE", "{info}");
    let state = sync.state("customers").unwrap().clone();
    drop(sync);
    let mut reopened = open(&a, dir.path(), 4, stripe_sql::sync::progress::quiet()).await;
    assert_eq!(reopened.state("customers").unwrap(), &state, "the state read back after compacting (round {round})");
    assert_exact(&a.engine, &reopened).await;

    // And it keeps following.
    a.advance(30);
    a.customer("after@compact.test").await;
    reopened.step(false).await.unwrap();
    assert_exact(&a.engine, &reopened).await;
    assert_eq!(reopened.state("customers").unwrap().step, state.step + 1);
}

/// Moves the clock on `days` days and 30 s, creates a customer, steps, and checks the mirror.
async fn create_and_step(a: &Account, sync: &mut Syncer, days: i64, round: usize) {
    a.advance(days * 86_400 + 30);
    a.customer(&format!("n{round}@vacuum.test")).await;
    sync.step(false).await.unwrap();
    assert_exact(&a.engine, sync).await;
}

/// Parquet files on disk under `dir/table` (in the table or replaced).
fn files_on_disk(dir: &std::path::Path, table: &str) -> std::collections::BTreeSet<String> {
    std::fs::read_dir(dir.join(table))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".parquet"))
        .collect()
}

#[tokio::test]
async fn replaced_files_are_deleted_once_past_the_retention() {
    // Delta stamps replaced files with the real time: the clocks start there.
    let a = Account::new();
    let real_now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    a.set_clock(real_now);
    a.customer("first@vacuum.test").await;
    let dir = tempfile::tempdir().unwrap();
    let (observer, seen) = recorder();
    let mut sync = open(&a, dir.path(), 2, observer).await;
    sync.step(false).await.unwrap();
    for round in 0..4 {
        create_and_step(&a, &mut sync, 0, round).await;
    }
    let vacuumed = |seen: &Mutex<Vec<Progress>>| -> usize {
        seen.lock().unwrap().iter().map(|p| if let Progress::Vacuumed { files, .. } = p { *files } else { 0 }).sum()
    };
    let replaced: Vec<String> =
        files_on_disk(dir.path(), "customers").into_iter().filter(|f| !live_files(dir.path()).contains(f)).collect();
    assert!(!replaced.is_empty(), "compaction replaced files, kept for time travel");

    // Two days on a vacuum is due again, but nothing is past the 7 days.
    create_and_step(&a, &mut sync, 2, 4).await;
    assert_eq!(vacuumed(&seen), 0);
    assert!(replaced.iter().all(|f| files_on_disk(dir.path(), "customers").contains(f)));

    // Eight days on, the replaced files go; the table's own stay.
    create_and_step(&a, &mut sync, 6, 5).await;
    assert!(vacuumed(&seen) >= replaced.len(), "{} deleted, {} replaced", vacuumed(&seen), replaced.len());
    let on_disk = files_on_disk(dir.path(), "customers");
    assert!(replaced.iter().all(|f| !on_disk.contains(f)), "a replaced file is still there");
    assert_eq!(on_disk, live_files(dir.path()), "every file of the table is still there");
    let state = sync.state("customers").unwrap().clone();
    drop(sync);
    let reopened = a.syncer(&["customers"], dir.path()).await;
    assert_eq!(reopened.state("customers").unwrap(), &state);
    assert_exact(&a.engine, &reopened).await;
}

/// The names of the data files the customers table's newest version holds.
fn live_files(dir: &std::path::Path) -> std::collections::BTreeSet<String> {
    live_paths(dir, "customers").into_iter().map(|p| p.rsplit('/').next().unwrap_or(&p).to_string()).collect()
}
