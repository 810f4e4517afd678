//! Tables a connection makes for itself (`CREATE TABLE … AS`, or `CREATE
//! TABLE` then `INSERT`) live in memory until it drops them or disconnects, so they are
//! charged to the server's memory pool like a running query's buffers.
//!
//! `CREATE TABLE … AS` is built here, batch by batch, each batch reserved
//! before it is kept: a result too large for the pool fails with 53200 while
//! it is read, before it can exhaust the process. After any other statement
//! that can change such a table, the session's tables are counted again.

use std::sync::Arc;

use datafusion::catalog::TableProvider;
use datafusion::datasource::MemTable;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryReservation};
use datafusion::logical_expr::{CreateMemoryTable, DdlStatement, LogicalPlan};
use datafusion::prelude::SessionContext;
use futures::StreamExt;

use stripe_sql::engine::SCHEMA;

/// Schemas whose tables are not the session's own.
const SYSTEM_SCHEMAS: [&str; 3] = [SCHEMA, "pg_catalog", "information_schema"];

/// The memory a session's own tables hold, reserved from the shared pool.
#[derive(Debug)]
pub struct SessionTables {
    reservation: MemoryReservation,
}

impl SessionTables {
    /// An empty account on `ctx`'s memory pool.
    pub fn new(ctx: &SessionContext) -> Self {
        let pool = &ctx.runtime_env().memory_pool;
        Self { reservation: MemoryConsumer::new("session tables (CREATE TABLE)").register(pool) }
    }

    /// Bytes reserved for the session's tables now.
    pub fn reserved(&self) -> usize {
        self.reservation.size()
    }

    /// Whether `plan` changes the session's tables (and so needs a recount).
    pub fn changes_tables(plan: &LogicalPlan) -> bool {
        matches!(plan, LogicalPlan::Ddl(_) | LogicalPlan::Dml(_))
    }

    /// Runs `CREATE [OR REPLACE] TABLE name AS query` with every batch
    /// reserved before it is kept.
    pub async fn create(&self, ctx: &SessionContext, cmd: &CreateMemoryTable) -> Result<()> {
        let exists = ctx.table_exist(cmd.name.clone())?;
        if exists && cmd.if_not_exists {
            return Ok(());
        }
        if exists && !cmd.or_replace {
            return Err(DataFusionError::Plan(format!("table '{}' already exists", cmd.name)));
        }
        let building =
            MemoryConsumer::new(format!("CREATE TABLE {}", cmd.name)).register(&ctx.runtime_env().memory_pool);
        let frame = ctx.execute_logical_plan(cmd.input.as_ref().clone()).await?;
        let schema = Arc::new(frame.schema().as_arrow().clone());
        let mut stream = frame.execute_stream().await?;
        let mut batches = Vec::new();
        while let Some(batch) = stream.next().await {
            let batch = batch?;
            building.try_grow(batch.get_array_memory_size())?;
            batches.push(batch);
        }
        let table = MemTable::try_new(schema, vec![batches])?;
        if exists {
            ctx.deregister_table(cmd.name.clone())?;
        }
        ctx.register_table(cmd.name.clone(), Arc::new(table))?;
        // The table's bytes move from `building` to the session's account.
        drop(building);
        self.recount(ctx).await
    }

    /// Counts the session's tables again and reserves what they hold; past
    /// the pool, the tables stay (nothing is lost) and the error says so.
    pub async fn recount(&self, ctx: &SessionContext) -> Result<()> {
        let total = own_tables_bytes(ctx).await?;
        if let Err(e) = self.reservation.try_resize(total) {
            self.reservation.resize(total);
            return Err(DataFusionError::ResourcesExhausted(format!(
                "this session's tables hold {total} bytes, past the server's memory limit; DROP TABLE some of them ({e})"
            )));
        }
        Ok(())
    }

    /// The `CREATE TABLE … AS` in `plan`, if that is what it is.
    pub fn as_create(plan: &LogicalPlan) -> Option<&CreateMemoryTable> {
        match plan {
            LogicalPlan::Ddl(DdlStatement::CreateMemoryTable(cmd)) => Some(cmd),
            _ => None,
        }
    }
}

/// Bytes held by the in-memory tables outside the system schemas.
async fn own_tables_bytes(ctx: &SessionContext) -> Result<usize> {
    let mut total = 0;
    for catalog_name in ctx.catalog_names() {
        let Some(catalog) = ctx.catalog(&catalog_name) else { continue };
        for schema_name in catalog.schema_names() {
            if SYSTEM_SCHEMAS.contains(&schema_name.as_str()) {
                continue;
            }
            let Some(schema) = catalog.schema(&schema_name) else { continue };
            for name in schema.table_names() {
                if let Some(table) = schema.table(&name).await? {
                    total += mem_table_bytes(table.as_ref()).await;
                }
            }
        }
    }
    Ok(total)
}

/// Bytes a `MemTable`'s batches hold (0 for any other table).
async fn mem_table_bytes(table: &dyn TableProvider) -> usize {
    let any: &dyn std::any::Any = table;
    let Some(mem) = any.downcast_ref::<MemTable>() else { return 0 };
    let mut bytes = 0;
    for partition in &mem.batches {
        bytes += partition.read().await.iter().map(|b| b.get_array_memory_size()).sum::<usize>();
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::memory_pool::GreedyMemoryPool;
    use datafusion::execution::runtime_env::RuntimeEnvBuilder;
    use datafusion::prelude::SessionConfig;

    fn context(limit: usize) -> SessionContext {
        let runtime =
            RuntimeEnvBuilder::new().with_memory_pool(Arc::new(GreedyMemoryPool::new(limit))).build_arc().unwrap();
        SessionContext::new_with_config_rt(SessionConfig::new(), runtime)
    }

    async fn run(ctx: &SessionContext, tables: &SessionTables, sql: &str) -> Result<()> {
        let plan = ctx.state().create_logical_plan(sql).await?;
        if let Some(cmd) = SessionTables::as_create(&plan) {
            return tables.create(ctx, cmd).await;
        }
        let changes = SessionTables::changes_tables(&plan);
        ctx.execute_logical_plan(plan).await?.collect().await?;
        if changes {
            tables.recount(ctx).await?;
        }
        Ok(())
    }

    #[tokio::test]
    async fn tables_are_charged_to_the_pool_and_released_when_dropped() {
        let ctx = context(64 << 20);
        let tables = SessionTables::new(&ctx);
        run(&ctx, &tables, "CREATE TABLE t AS SELECT v FROM generate_series(1, 100000) AS s(v)").await.unwrap();
        let after_create = tables.reserved();
        assert!(after_create >= 800_000, "100,000 int64 values are at least 800 kB: {after_create}");
        assert_eq!(ctx.runtime_env().memory_pool.reserved(), after_create);
        run(&ctx, &tables, "INSERT INTO t SELECT v FROM generate_series(1, 100000) AS s(v)").await.unwrap();
        assert!(tables.reserved() >= 2 * after_create - 1024, "the insert is counted");
        run(&ctx, &tables, "DROP TABLE t").await.unwrap();
        assert_eq!(tables.reserved(), 0);
        assert_eq!(ctx.runtime_env().memory_pool.reserved(), 0);
    }

    #[tokio::test]
    async fn a_table_past_the_limit_fails_while_it_is_built() {
        let ctx = context(4 << 20);
        let tables = SessionTables::new(&ctx);
        let err =
            run(&ctx, &tables, "CREATE TABLE big AS SELECT v, v * 2 AS w FROM generate_series(1, 2000000) AS s(v)")
                .await
                .unwrap_err();
        assert!(matches!(err.find_root(), DataFusionError::ResourcesExhausted(_)), "{err}");
        assert!(!ctx.table_exist("big").unwrap(), "a failed CREATE TABLE leaves no table");
        // The query's own operators free their share as their tasks wind down.
        for _ in 0..10_000 {
            if ctx.runtime_env().memory_pool.reserved() == 0 {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert_eq!(ctx.runtime_env().memory_pool.reserved(), 0, "nothing stays reserved");
        run(&ctx, &tables, "CREATE TABLE small AS SELECT 1 AS one").await.unwrap();
        let err = run(&ctx, &tables, "CREATE TABLE small AS SELECT 2 AS two").await.unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        run(&ctx, &tables, "CREATE OR REPLACE TABLE small AS SELECT 2 AS two").await.unwrap();
        let rows = ctx.sql("SELECT two FROM small").await.unwrap().collect().await.unwrap();
        assert_eq!(rows[0].num_rows(), 1);
    }
}
