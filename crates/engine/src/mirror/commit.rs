//! Where Delta commits run: a runtime of their own, so that a commit's CPU
//! work never holds the workers that keep a backfill's requests moving.

/// The runtime Delta commits run on: one thread of its own. On the caller's
/// runtime a commit (Parquet encoding, a merge's join) holds a worker for its
/// whole length; a backfill's requests then leave the rate limiter on time
/// but reach the wire late, bunched into the next second, and draw 429s from
/// a server counting a strict window. The OS shares the cores fairly instead.
fn commit_runtime() -> Option<&'static tokio::runtime::Runtime> {
    static RUNTIME: std::sync::OnceLock<Option<tokio::runtime::Runtime>> = std::sync::OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("mirror-commit")
                .enable_all()
                .build()
                .ok()
        })
        .as_ref()
}

/// Runs a Delta operation (a write or merge future) on [`commit_runtime`] (in place if it could not start).
pub async fn run<T: Send + 'static>(
    op: futures::future::BoxFuture<'static, deltalake::DeltaResult<T>>,
) -> std::result::Result<T, String> {
    match commit_runtime() {
        Some(rt) => match rt.spawn(op).await {
            Ok(result) => result.map_err(|e| e.to_string()),
            Err(e) => Err(format!("the commit task failed: {e}")),
        },
        None => op.await.map_err(|e| e.to_string()),
    }
}
