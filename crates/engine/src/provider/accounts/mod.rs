//! Connect platforms as one set of tables (`SET stripe.accounts = 'all' | 'acct_1,…'`):
//! [`AccountsTable`] wraps a [`StripeTable`] with an `account` column (the last),
//! decides from the filters which accounts are called (`pushdown::accounts`) and
//! plans the table's own scan once; [`exec::AccountsScanExec`] runs that scan
//! once per account as that account, a bounded number of accounts at a time.

pub mod exec;
pub mod fanout;
pub mod route;

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::Session;
use datafusion::datasource::{TableProvider, TableType};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::dml::InsertOp;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown, col, lit};
use datafusion::physical_plan::ExecutionPlan;

use crate::provider::StripeTable;
use crate::provider::scan::StripeScanExec;
use crate::pushdown::accounts::{self, AccountSet};
use crate::settings::StripeOptions;
pub use exec::AccountsScanExec;
pub use fanout::Fanout;
pub use route::Routing;

/// A Stripe table read across accounts.
#[derive(Debug)]
pub struct AccountsTable {
    inner: StripeTable,
    schema: SchemaRef,
    /// The added account column's name (`pushdown::accounts::account_column`).
    column: &'static str,
    fanout: Arc<Fanout>,
}

impl AccountsTable {
    /// `inner` with an `account` column (`stripe_account` where the table
    /// has an `account` of its own), fanned out through `fanout`.
    pub fn new(inner: StripeTable, fanout: Arc<Fanout>) -> Self {
        let base = inner.schema();
        let column = accounts::account_column(inner.def());
        let mut fields: Vec<Field> = base.fields().iter().map(|f| f.as_ref().clone()).collect();
        // Nullable although never null: the mirror of several accounts gives it
        // back as a Delta partition column, which Delta reports nullable.
        fields.push(Field::new(column, DataType::Utf8, true));
        let schema = Arc::new(Schema::new_with_metadata(fields, base.metadata().clone()));
        Self { inner, schema, column, fanout }
    }

    /// The table read and written for each account.
    pub fn inner(&self) -> &StripeTable {
        &self.inner
    }

    fn account_index(&self) -> usize {
        self.schema.fields().len() - 1
    }
}

/// The accounts `stripe.accounts` names (an error when it is off or malformed).
pub fn configured(options: &StripeOptions) -> Result<AccountSet> {
    AccountSet::parse(&options.accounts)
        .map_err(DataFusionError::Plan)?
        .ok_or_else(|| DataFusionError::Plan("stripe.accounts is not set".to_string()))
}

#[async_trait]
impl TableProvider for AccountsTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        let owned: Vec<Expr> = filters.iter().map(|e| (*e).clone()).collect();
        let decided = accounts::plan(&AccountSet::All, &owned, self.column).support;
        let theirs: Vec<&Expr> = filters.iter().zip(&decided).filter(|(_, d)| d.is_none()).map(|(f, _)| *f).collect();
        let mut inner = self.inner.supports_filters_pushdown(&theirs)?.into_iter();
        Ok(decided
            .into_iter()
            .map(|d| d.unwrap_or_else(|| inner.next().unwrap_or(TableProviderFilterPushDown::Unsupported)))
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let options = StripeOptions::from_session(state);
        let selected = configured(&options)?;
        let (choice, only) =
            crate::mirror::read::choose_accounts(state, &self.inner.def().name, &options, &selected).await?;
        if let crate::mirror::read::Choice::Mirror(picked) = choice {
            // The mirror of several accounts holds the account column (its
            // partition column): filters on it prune partitions.
            let mut filters = filters.to_vec();
            if let Some(ids) = only {
                let list = ids.into_iter().map(lit).collect();
                filters.push(col(self.column).in_list(list, false));
            }
            return crate::mirror::read::scan(state, picked, &self.schema, projection, &filters, limit).await;
        }
        let decision = accounts::plan(&selected, filters, self.column);
        let theirs: Vec<Expr> =
            filters.iter().zip(&decision.support).filter(|(_, d)| d.is_none()).map(|(f, _)| f.clone()).collect();
        let account = self.account_index();
        let wanted: Vec<usize> = projection.cloned().unwrap_or_else(|| (0..self.schema.fields().len()).collect());
        let own: Vec<usize> = wanted.iter().copied().filter(|i| *i != account).collect();
        let plan = self.inner.scan(state, Some(&own), &theirs, limit).await?;
        let scan = plan.downcast_ref::<StripeScanExec>().ok_or_else(|| {
            DataFusionError::Internal(format!("the scan of {} is not a StripeScanExec", self.inner.def().name))
        })?;
        let output = Arc::new(self.schema.project(&wanted)?);
        let slots: Vec<bool> = wanted.iter().map(|i| *i == account).collect();
        let fail = match options.account_errors.trim().to_ascii_lowercase().as_str() {
            "warn" => false,
            "fail" => true,
            other => {
                return Err(DataFusionError::Plan(format!("stripe.account_errors is 'warn' or 'fail', not {other:?}")));
            }
        };
        Ok(Arc::new(AccountsScanExec::new(
            Arc::new(scan.with_client(self.inner.client().clone())),
            output,
            slots,
            decision.accounts,
            Arc::clone(&self.fanout),
            exec::Policy { fail, concurrency: options.account_concurrency.max(1) as usize, limit },
        )))
    }

    /// INSERT: one create call per row, each sent as the account its
    /// `account` column names (planned by the session's
    /// [`crate::provider::inserts::InsertPlanner`], `dml::insert`).
    async fn insert_into(
        &self,
        state: &dyn Session,
        input: Arc<dyn ExecutionPlan>,
        insert_op: InsertOp,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let table = &self.inner;
        crate::provider::inserts::plan(Arc::new(table.def().clone()), table.client().clone(), state, input, insert_op)
    }

    /// UPDATE is planned by the engine's DML planner (`dml::exact`, which
    /// sends each row's call as its account); reaching this hook means a
    /// session without it, which must not write.
    async fn update(
        &self,
        state: &dyn Session,
        assignments: Vec<(String, Expr)>,
        filters: Vec<Expr>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.update(state, assignments, filters).await
    }

    /// DELETE: as [`Self::update`].
    async fn delete_from(&self, state: &dyn Session, filters: Vec<Expr>) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.delete_from(state, filters).await
    }
}
