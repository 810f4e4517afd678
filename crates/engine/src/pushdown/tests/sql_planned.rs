//! Pushdown over SQL-planned filters: a probe TableProvider calls
//! `pushdown::plan` from `supports_filters_pushdown` and `scan`, exactly as the
//! provider does, so the expression shapes are DataFusion 55's own.

use std::sync::{Arc, Mutex};

use crate::catalog::{ColumnDef, ColumnType, FilterDef, FilterKind, SearchDef, SearchField, SearchFieldKind, TableDef};
use crate::pushdown::{Options, plan};
use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::Result;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use datafusion::prelude::SessionContext;

fn column(name: &str, ty: ColumnType) -> ColumnDef {
    ColumnDef { name: name.into(), ty, source: Vec::new(), expandable: false, enum_values: Vec::new() }
}

fn charges_def() -> TableDef {
    let filter = |param: &str, kind| FilterDef { param: param.into(), column: Some(param.into()), kind };
    let field = |name: &str, kind| SearchField { name: name.into(), kind };
    TableDef {
        name: "charges".into(),
        object: "charge".into(),
        list_path: "/v1/charges".into(),
        retrieve_path: Some("/v1/charges/{id}".into()),
        search: Some(SearchDef {
            path: "/v1/charges/search".into(),
            fields: vec![
                field("amount", SearchFieldKind::Numeric),
                field("created", SearchFieldKind::Timestamp),
                field("email", SearchFieldKind::String),
                field("metadata", SearchFieldKind::Metadata),
                field("status", SearchFieldKind::Token),
            ],
        }),
        parent: None,
        id_prefix: Some("ch".into()),
        columns: vec![
            column("id", ColumnType::Utf8),
            column("created", ColumnType::Timestamp),
            column("customer", ColumnType::Utf8),
            column("amount", ColumnType::Int64),
            column("status", ColumnType::Utf8),
            column("active", ColumnType::Boolean),
            column("metadata", ColumnType::StringMap),
            column("email", ColumnType::Utf8),
        ],
        list_filters: vec![
            filter("active", FilterKind::Boolean),
            filter("created", FilterKind::Range),
            filter("customer", FilterKind::Equality),
        ],
        create: None,
        update: None,
        delete: None,
        delete_hint: None,
        paginated: true,
    }
}

fn charges_schema() -> SchemaRef {
    let entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![
            Field::new("keys", DataType::Utf8, false),
            Field::new("values", DataType::Utf8, true),
        ])),
        false,
    );
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, false),
        Field::new("created", DataType::Timestamp(TimeUnit::Second, Some("UTC".into())), true),
        Field::new("customer", DataType::Utf8, true),
        Field::new("amount", DataType::Int64, true),
        Field::new("status", DataType::Utf8, true),
        Field::new("active", DataType::Boolean, true),
        Field::new("metadata", DataType::Map(Arc::new(entries), false), true),
        Field::new("email", DataType::Utf8, true),
    ]))
}

/// Records the plan `scan` computes; never calls anything.
#[derive(Debug)]
struct Probe {
    table: TableDef,
    schema: SchemaRef,
    scanned: Mutex<Option<String>>,
}

#[async_trait]
impl TableProvider for Probe {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        let owned: Vec<Expr> = filters.iter().map(|f| (*f).clone()).collect();
        Ok(plan(&self.table, &owned, None, &Options::default()).support)
    }

    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let pushed = plan(&self.table, filters, limit, &Options::default());
        *self.scanned.lock().unwrap() = Some(pushed.plan.to_string());
        let schema = match projection {
            Some(p) => Arc::new(self.schema.project(p)?),
            None => self.schema.clone(),
        };
        Ok(Arc::new(EmptyExec::new(schema)))
    }
}

/// The request plan `scan` computed for `sql`, or `None` when DataFusion never scanned.
async fn request_plan(sql: &str) -> Option<String> {
    let probe = Arc::new(Probe { table: charges_def(), schema: charges_schema(), scanned: Mutex::new(None) });
    let ctx = SessionContext::new();
    ctx.register_table("charges", probe.clone()).unwrap();
    ctx.sql(sql).await.unwrap().create_physical_plan().await.unwrap();
    probe.scanned.lock().unwrap().clone()
}

async fn assert_plan(sql: &str, want: &str) {
    assert_eq!(request_plan(sql).await.as_deref(), Some(want), "{sql}");
}

#[tokio::test]
async fn pushdown_list_params_from_sql() {
    assert_plan(
        "SELECT * FROM charges WHERE customer = 'cus_1' AND created >= '2024-01-01' AND created < '2024-02-01'",
        "list GET /v1/charges?created[gte]=1704067200&created[lt]=1706745600&customer=cus_1&limit=100",
    )
    .await;
    assert_plan(
        "SELECT id FROM charges WHERE created BETWEEN TIMESTAMP '2024-01-01' AND TIMESTAMP '2024-02-01'",
        "list GET /v1/charges?created[gte]=1704067200&created[lte]=1706745600&limit=100",
    )
    .await;
    assert_plan("SELECT id FROM charges WHERE active", "list GET /v1/charges?active=true&limit=100").await;
    assert_plan("SELECT id FROM charges WHERE NOT active", "list GET /v1/charges?active=false&limit=100").await;
    assert_plan(
        "SELECT id FROM charges WHERE customer IN ('cus_2', 'cus_1')",
        "list ×2 merged by id: GET /v1/charges?customer=cus_1&limit=100; GET /v1/charges?customer=cus_2&limit=100",
    )
    .await;
}

#[tokio::test]
async fn pushdown_retrieve_and_limit_from_sql() {
    assert_plan("SELECT * FROM charges WHERE id = 'ch_1'", "retrieve GET /v1/charges/ch_1").await;
    assert_plan(
        "SELECT * FROM charges WHERE id IN ('ch_4', 'ch_3', 'ch_2', 'ch_1')",
        "retrieve GET /v1/charges/{id} ×4 (ch_1, ch_2, ch_3, ch_4)",
    )
    .await;
    assert_plan("SELECT id FROM charges LIMIT 5", "list GET /v1/charges?limit=5, stop after 5 rows").await;
    assert_plan(
        "SELECT id FROM charges WHERE customer = 'cus_1' LIMIT 5",
        "list GET /v1/charges?customer=cus_1&limit=5, stop after 5 rows",
    )
    .await;
    // A filter DataFusion re-checks (LIKE, not pushable here) keeps the limit above the scan.
    assert_plan(
        "SELECT id FROM charges WHERE customer = 'a' AND email LIKE 'x%' LIMIT 5",
        "list GET /v1/charges?customer=a&limit=100",
    )
    .await;
}

#[tokio::test]
async fn pushdown_search_from_sql() {
    assert_plan(
        "SELECT id FROM charges WHERE metadata['plan'] = 'pro'",
        "search GET /v1/charges/search query=\"metadata['plan']:'pro'\" limit=100 (eventually consistent)",
    )
    .await;
    assert_plan(
        "SELECT id FROM charges WHERE amount > 100.5",
        "search GET /v1/charges/search query=\"amount>100\" limit=100 (eventually consistent)",
    )
    .await;
    assert_plan(
        "SELECT id FROM charges WHERE email LIKE '%@example.com' AND status = 'succeeded'",
        "search GET /v1/charges/search query=\"email~'@example.com' AND status:'succeeded'\" limit=100 (eventually consistent)",
    )
    .await;
}

#[tokio::test]
async fn pushdown_contradiction_from_sql() {
    let got = request_plan("SELECT id FROM charges WHERE customer = 'a' AND customer = 'b'").await;
    assert!(got.is_none() || got.as_deref() == Some("no call (contradiction)"), "{got:?}");
    let got = request_plan("SELECT id FROM charges WHERE created > '2024-02-01' AND created < '2024-01-01'").await;
    assert!(got.is_none() || got.as_deref() == Some("no call (contradiction)"), "{got:?}");
}
