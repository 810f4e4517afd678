//! Installs the `pg_catalog` emulation of `datafusion-pg-catalog` into one
//! connection's context without leaking it.
//!
//! The library's own `setup_pg_catalog` builds the schema over the context's
//! catalog list, which holds the catalog, which holds the schema: a reference
//! cycle, so every connection's whole context (its tables, functions and the
//! decoded `pg_catalog` data, ~6.6 MB) outlived the connection. Here the
//! schema reaches the catalog list through a [`Weak`] reference, and the
//! static `pg_catalog` tables (decoded from the Arrow files the library ships)
//! are decoded once per process and shared by every connection.
//!
//! Postgres clients see the catalog under the database name they connect to
//! in every example (`stripe`, [`DATABASE`]): `pg_database` lists it and
//! `current_database()` answers it, which drivers compare with the name
//! they connected with before listing schemas (ADBC's `get_objects`).

use std::sync::{Arc, OnceLock, Weak};

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::CatalogProviderList;
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::catalog_info::CatalogInfo;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::context::EmptyContextProvider;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::generate_series_arg_coercion::CoerceIntArgsToBigInt;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::oid_type_planner::PgOidTypePlanner;
use datafusion_postgres::datafusion_pg_catalog::pg_catalog::{
    self as pg, PgCatalogSchemaProvider, PgCatalogStaticTables,
};

use crate::{Error, Result};

/// The decoded static `pg_catalog` tables, shared by every connection.
pub fn static_tables() -> Result<Arc<PgCatalogStaticTables>> {
    static TABLES: OnceLock<Arc<PgCatalogStaticTables>> = OnceLock::new();
    if let Some(tables) = TABLES.get() {
        return Ok(Arc::clone(tables));
    }
    let tables = PgCatalogStaticTables::try_new()
        .map_err(|e| Error::Config(format!("could not decode the pg_catalog tables: {e}")))?;
    Ok(Arc::clone(TABLES.get_or_init(|| Arc::new(tables))))
}

/// The database name Postgres clients see for the session's catalog.
pub const DATABASE: &str = "stripe";

/// Registers schema `pg_catalog` in `catalog` of `ctx` and the Postgres
/// functions clients call (the same set `setup_pg_catalog` registers);
/// `catalog` is shown to clients as database `database`.
pub fn install(ctx: &SessionContext, catalog: &str, database: &str) -> Result<()> {
    let static_tables = static_tables()?;
    let catalogs = WeakCatalogList {
        list: Arc::downgrade(ctx.state().catalog_list()),
        catalog: catalog.to_owned(),
        database: database.to_owned(),
    };
    let schema = PgCatalogSchemaProvider::try_new(catalogs, Arc::clone(&static_tables), EmptyContextProvider)
        .map_err(|e| Error::Config(format!("could not set up pg_catalog: {e}")))?;
    ctx.catalog(catalog)
        .ok_or_else(|| Error::Config(format!("the session has no catalog named {catalog}")))?
        .register_schema("pg_catalog", Arc::new(crate::server::pg_extra::ServerCatalog::new(Arc::new(schema))?))?;

    ctx.register_udf(pg::create_current_database_udf(database));
    ctx.register_udf(pg::create_current_schema_udf());
    ctx.register_udf(pg::create_current_schemas_udf());
    ctx.register_udf(pg::create_pg_get_userbyid_udf());
    for name in ["has_table_privilege", "has_schema_privilege", "has_database_privilege", "has_any_column_privilege"] {
        ctx.register_udf(pg::has_privilege_udf::create_has_privilege_udf(name));
    }
    ctx.register_udf(pg::create_pg_table_is_visible());
    ctx.register_udf(pg::format_type::create_format_type_udf());
    ctx.register_udf(pg::create_session_user_udf());
    ctx.register_udtf("pg_get_keywords", static_tables.pg_get_keywords.clone());
    ctx.register_udf(pg::pg_get_expr_udf::create_pg_get_expr_udf());
    ctx.register_udf(pg::create_pg_get_partkeydef_udf());
    ctx.register_udf(pg::create_pg_relation_is_publishable_udf());
    ctx.register_udf(pg::create_pg_get_statisticsobjdef_columns_udf());
    ctx.register_udf(pg::create_pg_encoding_to_char_udf());
    ctx.register_udf(pg::create_pg_backend_pid_udf());
    ctx.register_udf(pg::create_pg_relation_size_udf());
    ctx.register_udf(pg::create_pg_total_relation_size_udf());
    ctx.register_udf(pg::create_pg_stat_get_numscans());
    ctx.register_udf(pg::create_pg_get_constraintdef());
    ctx.register_udf(pg::create_pg_get_partition_ancestors_udf());
    ctx.register_udf(pg::quote_ident_udf::create_quote_ident_udf());
    ctx.register_udf(pg::quote_ident_udf::create_parse_ident_udf());
    ctx.register_udf(pg::array_bounds_udf::create_array_upper_udf());
    ctx.register_udf(pg::array_bounds_udf::create_array_lower_udf());
    {
        // Postgres oid-alias type names (`regclass`, ...) must parse as types.
        let state = ctx.state_ref();
        let existing = state.read().clone();
        let with_planner =
            SessionStateBuilder::new_from_existing(existing).with_type_planner(Arc::new(PgOidTypePlanner)).build();
        *state.write() = with_planner;
    }
    CoerceIntArgsToBigInt::widen(ctx);
    Ok(())
}

/// The context's catalog list, reached without keeping it alive, with
/// `catalog` named `database`.
#[derive(Clone, Debug)]
struct WeakCatalogList {
    list: Weak<dyn CatalogProviderList>,
    catalog: String,
    database: String,
}

impl WeakCatalogList {
    fn get(&self) -> Option<Arc<dyn CatalogProviderList>> {
        self.list.upgrade()
    }

    /// The catalog a name clients use stands for.
    fn real<'a>(&'a self, name: &'a str) -> &'a str {
        if name == self.database { &self.catalog } else { name }
    }
}

#[async_trait]
impl CatalogInfo for WeakCatalogList {
    async fn catalog_names(&self) -> Result<Vec<String>, DataFusionError> {
        let names = self.get().map(|list| CatalogProviderList::catalog_names(list.as_ref())).unwrap_or_default();
        Ok(names.into_iter().map(|n| if n == self.catalog { self.database.clone() } else { n }).collect())
    }

    async fn schema_names(&self, catalog_name: &str) -> Result<Option<Vec<String>>, DataFusionError> {
        match self.get() {
            Some(list) => CatalogInfo::schema_names(&list, self.real(catalog_name)).await,
            None => Ok(None),
        }
    }

    async fn table_names(&self, catalog_name: &str, schema_name: &str) -> Result<Option<Vec<String>>, DataFusionError> {
        match self.get() {
            Some(list) => CatalogInfo::table_names(&list, self.real(catalog_name), schema_name).await,
            None => Ok(None),
        }
    }

    async fn table_schema(
        &self,
        catalog_name: &str,
        schema_name: &str,
        table_name: &str,
    ) -> Result<Option<SchemaRef>, DataFusionError> {
        match self.get() {
            Some(list) => CatalogInfo::table_schema(&list, self.real(catalog_name), schema_name, table_name).await,
            None => Ok(None),
        }
    }

    async fn table_type(
        &self,
        catalog_name: &str,
        schema_name: &str,
        table_name: &str,
    ) -> Result<Option<TableType>, DataFusionError> {
        match self.get() {
            Some(list) => CatalogInfo::table_type(&list, self.real(catalog_name), schema_name, table_name).await,
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names of the functions and table functions a context has.
    fn functions(ctx: &SessionContext) -> (Vec<String>, Vec<String>) {
        let state = ctx.state();
        let mut udfs: Vec<String> = state.scalar_functions().keys().cloned().collect();
        let mut udtfs: Vec<String> = state.table_functions().keys().cloned().collect();
        udfs.sort();
        udtfs.sort();
        (udfs, udtfs)
    }

    #[tokio::test]
    async fn installs_what_the_library_setup_installs() {
        let ours = SessionContext::new();
        install(&ours, "datafusion", "datafusion").unwrap();
        let theirs = SessionContext::new();
        pg::setup_pg_catalog(&theirs, "datafusion", EmptyContextProvider).unwrap();
        assert_eq!(functions(&ours), functions(&theirs), "a datafusion-pg-catalog upgrade added or removed a function");
        let rows = ours.sql("SELECT count(*) FROM pg_catalog.pg_type").await.unwrap().collect().await.unwrap();
        assert!(rows[0].num_rows() == 1);
        let tables = ours.sql("SELECT relname FROM pg_catalog.pg_class").await.unwrap().collect().await.unwrap();
        assert!(tables.iter().map(|b| b.num_rows()).sum::<usize>() > 0);
    }

    #[tokio::test]
    async fn a_dropped_context_is_freed() {
        let ctx = SessionContext::new();
        install(&ctx, "datafusion", DATABASE).unwrap();
        let catalogs = Arc::downgrade(ctx.state().catalog_list());
        drop(ctx);
        assert!(catalogs.upgrade().is_none(), "pg_catalog keeps the session's catalogs alive");
    }

    #[tokio::test]
    async fn the_catalog_is_shown_as_the_database_clients_connect_to() {
        let ctx = SessionContext::new();
        install(&ctx, "datafusion", DATABASE).unwrap();
        let text = |sql: &'static str| {
            let ctx = ctx.clone();
            async move {
                let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
                datafusion::arrow::util::pretty::pretty_format_batches(&batches).unwrap().to_string()
            }
        };
        let databases = text("SELECT datname FROM pg_catalog.pg_database ORDER BY datname").await;
        assert!(databases.contains("| stripe ") && !databases.contains("datafusion"), "{databases}");
        assert!(text("SELECT current_database()").await.contains("| stripe "));
        let schemas = text("SELECT nspname FROM pg_catalog.pg_namespace ORDER BY 1").await;
        assert!(schemas.contains("| public "), "the catalog's schemas are listed under its shown name: {schemas}");
    }
}
