//! Runs the sqllogictest files in `tests/slt/` against a freshly seeded
//! emulator (one per file). Pushdown is asserted there through
//! `stripe_last_requests()`: the exact method, path and params of every call.

use std::path::PathBuf;

use datafusion::arrow::array::Array;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use sqllogictest::{AsyncDB, DBOutput, DefaultColumnType};
use stripe_sql::engine::Engine;

/// One engine over its own demo emulator.
struct SltEngine {
    engine: Engine,
}

#[derive(Debug)]
struct SltError(String);

impl std::fmt::Display for SltError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SltError {}

#[async_trait::async_trait]
impl AsyncDB for SltEngine {
    type Error = SltError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, SltError> {
        let batches = self.engine.sql(sql).await.map_err(|e| SltError(e.to_string()))?;
        let is_statement = sql.trim_start().to_ascii_lowercase().starts_with("set ");
        if is_statement {
            return Ok(DBOutput::StatementComplete(0));
        }
        let options = FormatOptions::default().with_null("NULL");
        let mut rows = Vec::new();
        let mut width = 0;
        for batch in &batches {
            width = batch.num_columns();
            let formatters = batch
                .columns()
                .iter()
                .map(|c| ArrayFormatter::try_new(c.as_ref(), &options))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| SltError(e.to_string()))?;
            for row in 0..batch.num_rows() {
                rows.push(
                    formatters
                        .iter()
                        .zip(batch.columns())
                        .map(|(f, c)| {
                            let text = f.value(row).to_string();
                            if text.is_empty() && !c.is_null(row) { "(empty)".to_string() } else { text }
                        })
                        .collect(),
                );
            }
        }
        Ok(DBOutput::Rows { types: vec![DefaultColumnType::Any; width], rows })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "stripe-sql"
    }

    async fn sleep(dur: std::time::Duration) {
        tokio::time::sleep(dur).await
    }
}

fn slt_files() -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/slt");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/slt exists")
        .map(|e| e.expect("readable dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "slt"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqllogictest_files_pass_against_the_demo_emulator() {
    let files = slt_files();
    assert!(files.len() >= 3, "expected the .slt suite, found {files:?}");
    let mut failures = Vec::new();
    for file in &files {
        let mut runner = sqllogictest::Runner::new(|| async {
            let engine = Engine::demo().map_err(|e| SltError(e.to_string()))?;
            Ok(SltEngine { engine })
        });
        runner.with_column_validator(|_, _| true);
        if let Err(e) = runner.run_file_async(file).await {
            failures.push(format!("{}: {}", file.display(), e.display(false)));
        }
    }
    assert!(failures.is_empty(), "{} slt file(s) failed:\n{}", failures.len(), failures.join("\n\n"));
}
