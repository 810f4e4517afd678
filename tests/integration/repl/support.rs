//! A `repl::Backend` over a plain DataFusion session with in-memory tables,
//! so the REPL's script runner is tested without Stripe or the engine.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::arrow::array::{Int64Array, StringArray, TimestampSecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::{MemTable, TableType};
use datafusion::error::Result as DfResult;
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use stripe_sql_app::repl::{Backend, ColumnInfo, FunctionInfo, TableInfo};

/// 2024-01-31 12:00:00 UTC.
pub const T0: i64 = 1_706_702_400;

/// The test backend: `customers(id, email, created)` and `charges(id, amount, customer)`,
/// each scan logged as a fake API call.
pub struct TestBackend {
    ctx: SessionContext,
    log: Arc<Mutex<Vec<String>>>,
    pub cache_clears: Mutex<u32>,
}

impl TestBackend {
    pub fn new() -> Arc<Self> {
        let ctx = SessionContext::new();
        let log = Arc::new(Mutex::new(Vec::new()));
        let customers = Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("email", DataType::Utf8, true),
            Field::new("created", DataType::Timestamp(TimeUnit::Second, Some("UTC".into())), true),
        ]);
        let customers = RecordBatch::try_new(
            Arc::new(customers),
            vec![
                Arc::new(StringArray::from(vec!["cus_1", "cus_2", "cus_3"])),
                Arc::new(StringArray::from(vec![Some("ada@example.com"), None, Some("grace@example.com")])),
                Arc::new(TimestampSecondArray::from(vec![Some(T0), Some(T0 + 86_400), None]).with_timezone("UTC")),
            ],
        )
        .unwrap();
        let charges = Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("amount", DataType::Int64, false),
            Field::new("customer", DataType::Utf8, true),
        ]);
        let charges = RecordBatch::try_new(
            Arc::new(charges),
            vec![
                Arc::new(StringArray::from(vec!["ch_1", "ch_2"])),
                Arc::new(Int64Array::from(vec![1000, 250])),
                Arc::new(StringArray::from(vec![Some("cus_1"), Some("cus_1")])),
            ],
        )
        .unwrap();
        for (name, batch) in [("customers", customers), ("charges", charges)] {
            let mem = MemTable::try_new(batch.schema(), vec![vec![batch]]).unwrap();
            let logged = LoggedTable { name: name.to_string(), inner: Arc::new(mem), log: log.clone() };
            ctx.register_table(name, Arc::new(logged)).unwrap();
        }
        Arc::new(Self { ctx, log, cache_clears: Mutex::new(0) })
    }
}

#[async_trait]
impl Backend for TestBackend {
    fn session(&self) -> SessionContext {
        self.ctx.clone()
    }

    fn tables(&self) -> Vec<TableInfo> {
        vec![
            TableInfo { name: "charges".into(), hint: "id =, customer =".into() },
            TableInfo { name: "customers".into(), hint: "id =, email =, created <>".into() },
        ]
    }

    fn columns(&self, table: &str) -> Option<Vec<ColumnInfo>> {
        let provider = futures::executor::block_on(self.ctx.table_provider(table)).ok()?;
        Some(
            provider
                .schema()
                .fields()
                .iter()
                .map(|f| ColumnInfo {
                    name: f.name().clone(),
                    data_type: stripe_sql::catalog::sql_type_of_arrow(f.data_type()),
                    arrow_type: f.data_type().to_string(),
                    pushdown: if f.name() == "id" { "retrieve".into() } else { String::new() },
                    writable: if f.name() == "email" { "insert, update".into() } else { String::new() },
                })
                .collect(),
        )
    }

    fn describe_extra(&self, table: &str) -> Option<String> {
        (table == "customers").then(|| "Writes: INSERT, UPDATE, DELETE".to_string())
    }

    fn functions(&self) -> Vec<FunctionInfo> {
        vec![FunctionInfo {
            name: "delete_discount".into(),
            arguments: "customer text".into(),
            description: "remove a discount".into(),
        }]
    }

    fn requests_since(&self, mark: u64) -> Vec<String> {
        self.log.lock().unwrap()[mark as usize..].to_vec()
    }

    fn request_mark(&self) -> u64 {
        self.log.lock().unwrap().len() as u64
    }

    fn clear_cache(&self) {
        *self.cache_clears.lock().unwrap() += 1;
    }
}

/// A MemTable that records `GET /v1/<name>` for every scan.
#[derive(Debug)]
struct LoggedTable {
    name: String,
    inner: Arc<MemTable>,
    log: Arc<Mutex<Vec<String>>>,
}

#[async_trait]
impl TableProvider for LoggedTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.log.lock().unwrap().push(format!("GET /v1/{} 200", self.name));
        self.inner.scan(state, projection, filters, limit).await
    }
}
