//! Freshness: with a sync stepping every interval beside the queries, a
//! charge created in the emulator is answered from the mirror (`auto`) within
//! one interval plus the step's own time.

use std::time::{Duration, Instant};

use super::support::{explain, mirrored, rows};

#[tokio::test]
async fn a_new_charge_reaches_auto_queries_within_one_sync_interval() {
    let (account, dir, _) = mirrored(&["charges", "customers"]).await;
    let e = &account.engine;
    let interval = Duration::from_secs(1);
    let mut syncer = account.syncer(&["charges", "customers"], dir.path()).await;
    let stop = syncer.stop_flag();
    let q = "SELECT count(*) FROM charges WHERE amount = 7777";
    let watch = async {
        assert_eq!(rows(e, q).await, vec![vec!["0".to_string()]]);
        let customer = account.customer("fresh@example.com").await;
        account.advance(1);
        account.charge(&customer, 7777).await;
        let created = Instant::now();
        let seen = loop {
            assert!(explain(e, q).await.contains("MirrorScanExec"), "auto reads the fresh mirror");
            if rows(e, q).await == vec![vec!["1".to_string()]] {
                break created.elapsed();
            }
            assert!(created.elapsed() < interval * 10, "the new charge never reached the mirror");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        seen
    };
    let (synced, seen) = tokio::join!(syncer.run(interval, false, false), watch);
    synced.expect("the sync ran");
    // One interval of waiting plus one step (events list + merge), with slack for a loaded machine.
    assert!(seen < interval + Duration::from_secs(3), "visible after {seen:?}");
}
