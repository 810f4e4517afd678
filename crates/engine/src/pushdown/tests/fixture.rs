//! Small hand-made tables shaped like the catalog's, for planner tests.

use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::{Expr, lit};

use crate::catalog::{
    ColumnDef, ColumnType, FilterDef, FilterKind, ParentDef, SearchDef, SearchField, SearchFieldKind, TableDef,
};
use crate::pushdown::{Options, Pushdown, plan};

fn column(name: &str, ty: ColumnType) -> ColumnDef {
    ColumnDef { name: name.into(), ty, source: Vec::new(), expandable: false, enum_values: Vec::new() }
}

fn enum_column(name: &str, values: &[&str]) -> ColumnDef {
    ColumnDef { enum_values: values.iter().map(|v| v.to_string()).collect(), ..column(name, ColumnType::Utf8) }
}

fn filter(param: &str, kind: FilterKind) -> FilterDef {
    FilterDef { param: param.into(), column: Some(param.into()), kind }
}

fn field(name: &str, kind: SearchFieldKind) -> SearchField {
    SearchField { name: name.into(), kind }
}

fn table(name: &str, path: &str, columns: Vec<ColumnDef>, list_filters: Vec<FilterDef>) -> TableDef {
    let mut columns = columns;
    columns.push(column("_raw", ColumnType::Json));
    TableDef {
        name: name.into(),
        object: name.trim_end_matches('s').into(),
        list_path: path.into(),
        retrieve_path: Some(format!("{path}/{{id}}")),
        search: None,
        parent: None,
        id_prefix: None,
        columns,
        list_filters,
        create: None,
        update: None,
        delete: None,
        delete_hint: None,
        paginated: true,
    }
}

fn common(extra: Vec<ColumnDef>) -> Vec<ColumnDef> {
    let mut cols = vec![
        column("id", ColumnType::Utf8),
        column("created", ColumnType::Timestamp),
        column("livemode", ColumnType::Boolean),
        column("metadata", ColumnType::StringMap),
    ];
    cols.extend(extra);
    cols
}

/// customers: list filters created (range), email (equality); searchable.
pub fn customers() -> TableDef {
    let mut t = table(
        "customers",
        "/v1/customers",
        common(vec![
            column("email", ColumnType::Utf8),
            column("name", ColumnType::Utf8),
            column("phone", ColumnType::Utf8),
            column("balance", ColumnType::Int64),
        ]),
        vec![filter("created", FilterKind::Range), filter("email", FilterKind::Equality)],
    );
    t.search = Some(SearchDef {
        path: "/v1/customers/search".into(),
        fields: vec![
            field("created", SearchFieldKind::Timestamp),
            field("email", SearchFieldKind::String),
            field("metadata", SearchFieldKind::Metadata),
            field("name", SearchFieldKind::String),
            field("phone", SearchFieldKind::String),
        ],
    });
    t
}

/// charges: created (range), customer, payment_intent; searchable.
pub fn charges() -> TableDef {
    let mut t = table(
        "charges",
        "/v1/charges",
        common(vec![
            column("amount", ColumnType::Int64),
            column("currency", ColumnType::Utf8),
            column("customer", ColumnType::Utf8),
            column("payment_intent", ColumnType::Utf8),
            enum_column("status", &["failed", "pending", "succeeded"]),
            column("refunded", ColumnType::Boolean),
            column("description", ColumnType::Utf8),
        ]),
        vec![
            filter("created", FilterKind::Range),
            filter("customer", FilterKind::Equality),
            filter("payment_intent", FilterKind::Equality),
        ],
    );
    t.search = Some(SearchDef {
        path: "/v1/charges/search".into(),
        fields: vec![
            field("amount", SearchFieldKind::Numeric),
            field("created", SearchFieldKind::Timestamp),
            field("currency", SearchFieldKind::Token),
            field("customer", SearchFieldKind::Token),
            field("metadata", SearchFieldKind::Metadata),
            field("payment_intent", SearchFieldKind::Token),
            field("refunded", SearchFieldKind::Token),
            field("status", SearchFieldKind::Token),
        ],
    });
    t
}

/// subscriptions: status enum with `all`, customer, price, created.
pub fn subscriptions() -> TableDef {
    let statuses =
        ["active", "canceled", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid"];
    let mut allowed: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
    allowed.extend(["all".to_string(), "ended".to_string()]);
    table(
        "subscriptions",
        "/v1/subscriptions",
        common(vec![
            column("customer", ColumnType::Utf8),
            column("price", ColumnType::Utf8),
            enum_column("status", &statuses),
        ]),
        vec![
            filter("created", FilterKind::Range),
            filter("customer", FilterKind::Equality),
            filter("price", FilterKind::Equality),
            filter("status", FilterKind::Enum(allowed)),
        ],
    )
}

/// invoice_lines: nested under `/v1/invoices/{invoice}/lines`, no retrieve.
pub fn invoice_lines() -> TableDef {
    let mut t = table(
        "invoice_lines",
        "/v1/invoices/{invoice}/lines",
        vec![column("id", ColumnType::Utf8), column("invoice", ColumnType::Utf8), column("amount", ColumnType::Int64)],
        vec![filter("invoice", FilterKind::Equality)],
    );
    t.retrieve_path = None;
    t.parent = Some(ParentDef { column: "invoice".into(), path_param: "invoice".into() });
    t
}

/// prices: active (boolean), product, currency, type (enum), created; searchable.
pub fn prices() -> TableDef {
    let mut t = table(
        "prices",
        "/v1/prices",
        common(vec![
            column("active", ColumnType::Boolean),
            column("product", ColumnType::Utf8),
            column("currency", ColumnType::Utf8),
            enum_column("type", &["one_time", "recurring"]),
            column("unit_amount", ColumnType::Int64),
        ]),
        vec![
            filter("active", FilterKind::Boolean),
            filter("created", FilterKind::Range),
            filter("currency", FilterKind::Equality),
            filter("product", FilterKind::Equality),
            filter("type", FilterKind::Enum(vec!["one_time".into(), "recurring".into()])),
        ],
    );
    t.search = Some(SearchDef {
        path: "/v1/prices/search".into(),
        fields: vec![
            field("active", SearchFieldKind::Token),
            field("currency", SearchFieldKind::Token),
            field("metadata", SearchFieldKind::Metadata),
            field("product", SearchFieldKind::Token),
            field("type", SearchFieldKind::Token),
        ],
    });
    t
}

/// events: `types[]` array filter on the `type` column.
pub fn events() -> TableDef {
    table(
        "events",
        "/v1/events",
        common(vec![column("type", ColumnType::Utf8)]),
        vec![
            filter("created", FilterKind::Range),
            FilterDef { param: "types".into(), column: Some("type".into()), kind: FilterKind::Array },
        ],
    )
}

/// A column qualified with its table, as `supports_filters_pushdown` sees it.
pub fn qcol(table: &str, name: &str) -> Expr {
    Expr::Column(Column::new(Some(table), name))
}

/// `TIMESTAMP` literal in seconds, UTC.
pub fn ts(secs: i64) -> Expr {
    lit(ScalarValue::TimestampSecond(Some(secs), Some("UTC".into())))
}

/// `TIMESTAMP` literal in milliseconds, UTC.
pub fn ts_ms(ms: i64) -> Expr {
    lit(ScalarValue::TimestampMillisecond(Some(ms), Some("UTC".into())))
}

/// `plan` with default options and no limit.
pub fn run(table: &TableDef, filters: &[Expr]) -> Pushdown {
    plan(table, filters, None, &Options::default())
}

/// The params of a single-list plan, panicking otherwise.
pub fn single_list(p: &Pushdown) -> Vec<(String, String)> {
    match &p.plan {
        crate::pushdown::RequestPlan::List { requests, .. } if requests.len() == 1 => requests[0].params.clone(),
        other => panic!("expected one list request, got {other:?}"),
    }
}

/// `(k, v)` pairs from string slices.
pub fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}
