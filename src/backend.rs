//! The REPL's view of the engine: tables, columns, functions and the request
//! log, all read from the catalog and the client (no API calls).

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::Result;
use datafusion::execution::context::SessionContext;

use crate::repl::{Backend, ColumnInfo, FunctionInfo, TableInfo};
use stripe_sql::catalog::{self, TableDef, listing};
use stripe_sql::engine::Engine;
use stripe_sql::engine::function_docs::function_docs;

/// Adapts an [`Engine`] to the REPL.
pub struct EngineBackend {
    engine: Arc<Engine>,
}

impl EngineBackend {
    /// Wraps a shared engine.
    pub fn new(engine: Arc<Engine>) -> Self {
        Self { engine }
    }
}

fn table_hint(def: &TableDef) -> String {
    let mut parts = Vec::new();
    if let Some(parent) = &def.parent {
        parts.push(format!("needs {} =", parent.column));
    }
    if def.retrieve_path.is_some() {
        parts.push("id".to_string());
    }
    let filters = listing::filters_text(def);
    if !filters.is_empty() {
        parts.push(filters);
    }
    if def.search.is_some() {
        parts.push("search".to_string());
    }
    format!("pushes down: {}", parts.join(" "))
}

fn table_extra(def: &TableDef) -> String {
    let mut lines = Vec::new();
    let writes: Vec<&str> = [
        def.create.as_ref().map(|_| "INSERT"),
        def.update.as_ref().map(|_| "UPDATE"),
        def.delete.as_ref().map(|d| match d.meaning {
            catalog::DeleteMeaning::Delete => "DELETE",
            catalog::DeleteMeaning::Cancel => "DELETE (cancels)",
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    lines.push(format!("writes: {}", if writes.is_empty() { "none".to_string() } else { writes.join(", ") }));
    if let Some(hint) = &def.delete_hint {
        lines.push(format!("instead of DELETE: {hint}"));
    }
    if let Some(search) = &def.search {
        let fields: Vec<&str> = search.fields.iter().map(|f| f.name.as_str()).collect();
        lines.push(format!("search fields (eventually consistent): {}", fields.join(", ")));
    }
    let actions: Vec<&str> = catalog::builtin().actions_on(&def.name).map(|a| a.name.as_str()).collect();
    if !actions.is_empty() {
        lines.push(format!("actions: {}", actions.join(", ")));
    }
    lines.join("\n")
}

#[async_trait]
impl Backend for EngineBackend {
    fn session(&self) -> SessionContext {
        self.engine.context().clone()
    }

    fn tables(&self) -> Vec<TableInfo> {
        let lags = self.mirror_staleness().unwrap_or_default();
        let hint = |t: &TableDef| match lags.get(&t.name) {
            Some(lag) => format!("{}; mirrored, {lag}s stale", table_hint(t)),
            None => table_hint(t),
        };
        catalog::builtin().tables.iter().map(|t| TableInfo { name: t.name.clone(), hint: hint(t) }).collect()
    }

    fn mirror_staleness(&self) -> Option<std::collections::BTreeMap<String, i64>> {
        stripe_sql::mirror::read::staleness(self.engine.context())
    }

    fn columns(&self, table: &str) -> Option<Vec<ColumnInfo>> {
        let def = catalog::builtin().table(table.strip_prefix("stripe.").unwrap_or(table))?;
        let writable = |w: &Option<catalog::WriteDef>, name: &str| {
            w.as_ref().is_some_and(|w| w.params.iter().any(|p| p.name == name))
        };
        Some(
            def.columns
                .iter()
                .map(|c| {
                    let mut pushdown: Vec<String> = def
                        .filters_on(&c.name)
                        .map(|f| format!("{}({})", f.param, listing::filter_kind_name(&f.kind)))
                        .collect();
                    if c.name == "id" && def.retrieve_path.is_some() {
                        pushdown.push("retrieve".into());
                    }
                    if let Some(field) = def.search.as_ref().and_then(|s| s.fields.iter().find(|f| f.name == c.name)) {
                        pushdown.push(format!("search({})", listing::search_kind_name(field.kind)));
                    }
                    let mut writes = Vec::new();
                    if writable(&def.create, &c.name) {
                        writes.push("insert");
                    }
                    if writable(&def.update, &c.name) {
                        writes.push("update");
                    }
                    ColumnInfo {
                        name: c.name.clone(),
                        data_type: catalog::sql_type(c.ty).to_string(),
                        arrow_type: catalog::arrow_type(c.ty).to_string(),
                        pushdown: pushdown.join(" "),
                        writable: writes.join(" "),
                    }
                })
                .collect(),
        )
    }

    fn describe_extra(&self, table: &str) -> Option<String> {
        catalog::builtin().table(table.strip_prefix("stripe.").unwrap_or(table)).map(table_extra)
    }

    fn watch_new<'a>(&'a self, sql: &'a str, changes: bool) -> crate::repl::WatchStart<'a> {
        Box::pin(async move { Some(crate::watch_feed::start(Arc::clone(&self.engine), sql, changes).await) })
    }

    fn functions(&self) -> Vec<FunctionInfo> {
        function_docs()
            .into_iter()
            .map(|f| FunctionInfo { name: f.name, arguments: f.arguments, description: f.description })
            .collect()
    }

    fn requests_since(&self, mark: u64) -> Vec<String> {
        self.engine
            .client()
            .request_log()
            .since(mark)
            .iter()
            .map(|e| {
                let status = e.status.map(|s| s.to_string()).unwrap_or_else(|| "---".into());
                let params = stripe_sql::stripe::form::readable(&e.params);
                let query = if params.is_empty() { String::new() } else { format!("?{params}") };
                let error = e.error.as_deref().map(|m| format!("  ({m})")).unwrap_or_default();
                if e.cached {
                    return format!("{} {}{} -> {} from the cache", e.method, e.path, query, status);
                }
                format!(
                    "{} {}{} -> {} in {} ms (attempt {}){}",
                    e.method,
                    e.path,
                    query,
                    status,
                    e.duration.as_millis(),
                    e.attempt,
                    error
                )
            })
            .collect()
    }

    fn clear_cache(&self) {
        self.engine.client().clear_cache();
    }

    fn take_warnings(&self) -> Vec<String> {
        self.engine.take_warnings()
    }

    fn request_mark(&self) -> u64 {
        self.engine.client().request_log().len() as u64
    }

    async fn run_sql(&self, sql: &str) -> Result<Vec<RecordBatch>> {
        Ok(self.engine.sql(sql).await?)
    }
}
