//! `MirrorScanExec`: the top of a scan answered from the mirror. It runs the
//! Delta scan below it unchanged and exists so that EXPLAIN says where the
//! table is read from and how stale that is: the Delta version, the seconds
//! since the table was last in step with Stripe, and what was pushed down.

use std::fmt;
use std::sync::Arc;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::error::Result;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};

use super::read::Picked;

/// See the module documentation.
#[derive(Debug, Clone)]
pub struct MirrorScanExec {
    table: String,
    version: u64,
    staleness: Option<i64>,
    max_staleness: i64,
    pushed: usize,
    filters: usize,
    limit: Option<usize>,
    input: Arc<dyn ExecutionPlan>,
}

impl MirrorScanExec {
    /// The scan of `picked` that `input` performs; `pushed` of `filters`
    /// filters reached the Delta scan.
    pub fn new(
        picked: Picked,
        input: Arc<dyn ExecutionPlan>,
        pushed: usize,
        filters: usize,
        limit: Option<usize>,
    ) -> Self {
        MirrorScanExec {
            table: picked.name,
            version: picked.table.version().unwrap_or(0),
            staleness: picked.staleness,
            max_staleness: picked.max_staleness,
            pushed,
            filters,
            limit,
            input,
        }
    }

    /// The mirrored table read.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// Seconds since the table was last in step with Stripe, when known.
    pub fn staleness(&self) -> Option<i64> {
        self.staleness
    }
}

impl DisplayAs for MirrorScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "MirrorScanExec: table={}, source=mirror (Delta version {}, ", self.table, self.version)?;
        match self.staleness {
            Some(s) => write!(f, "{s}s stale, max_staleness {}s)", self.max_staleness)?,
            None => write!(f, "staleness unknown)")?,
        }
        write!(f, ", filters pushed to Delta {}/{}", self.pushed, self.filters)?;
        if let Some(n) = self.limit {
            write!(f, ", limit={n}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for MirrorScanExec {
    fn name(&self) -> &str {
        "MirrorScanExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        let mut me = self.as_ref().clone();
        if let Some(c) = children.into_iter().next() {
            me.input = c;
        }
        Ok(Arc::new(me))
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        self.input.execute(partition, context)
    }
}
