//! Filters the scan applies itself: those the requests actually sent cannot
//! express exactly (with the session's settings). Also
//! decides which columns must be decoded (the projection plus the columns those
//! filters read) and how to cut the decoded batch back to the projection.

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Array, BooleanArray};
use datafusion::arrow::compute::{and, filter_record_batch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema};
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::ExecutionProps;
use datafusion::logical_expr::Expr;
use datafusion::logical_expr::physical_planning_context::PhysicalPlanningContext;
use datafusion::physical_expr::{PhysicalExpr, create_physical_expr};

/// Local filters plus the decode/output column mapping of one scan.
#[derive(Debug, Clone)]
pub struct Residual {
    filters: Vec<Expr>,
    compiled: Vec<Arc<dyn PhysicalExpr>>,
    /// Indices into the table schema of the columns to decode.
    decode_columns: Vec<usize>,
    /// How many leading decoded columns form the output (the projection).
    output_width: usize,
}

impl Residual {
    /// Plans local `filters` over a scan projecting `projection` of `schema`.
    pub fn new(schema: &SchemaRef, projection: &[usize], filters: Vec<Expr>) -> Result<Self> {
        let filters: Vec<Expr> = filters.into_iter().map(unqualify).collect::<Result<_>>()?;
        let mut decode_columns = projection.to_vec();
        for filter in &filters {
            for column in filter.column_refs() {
                let index = schema.index_of(&column.name)?;
                if !decode_columns.contains(&index) {
                    decode_columns.push(index);
                }
            }
        }
        let decoded = DFSchema::try_from(schema.project(&decode_columns)?)?;
        let props = ExecutionProps::new();
        let compiled = filters
            .iter()
            .map(|f| create_physical_expr(f, &decoded, &props, &PhysicalPlanningContext::default()))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { filters, compiled, decode_columns, output_width: projection.len() })
    }

    /// True when the scan filters nothing itself.
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Columns (indices into the table schema) the decoder must produce.
    pub fn decode_columns(&self) -> &[usize] {
        &self.decode_columns
    }

    /// Applies the filters to a decoded batch and cuts it to the projection.
    pub fn apply(&self, batch: RecordBatch) -> Result<RecordBatch> {
        if self.compiled.is_empty() {
            return Ok(batch);
        }
        let mut keep: Option<BooleanArray> = None;
        for expr in &self.compiled {
            let values = expr.evaluate(&batch)?.into_array(batch.num_rows())?;
            let mask = values
                .as_any()
                .downcast_ref::<BooleanArray>()
                .ok_or_else(|| DataFusionError::Internal("a local filter did not evaluate to booleans".into()))?
                .clone();
            keep = Some(match keep {
                Some(prev) => and(&prev, &mask)?,
                None => mask,
            });
        }
        let filtered = match keep {
            Some(mask) => filter_record_batch(&batch, &mask)?,
            None => batch,
        };
        let output: Vec<usize> = (0..self.output_width).collect();
        Ok(filtered.project(&output)?)
    }
}

impl fmt::Display for Residual {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.filters.iter().map(|e| e.to_string()).collect();
        write!(f, "{}", parts.join(" AND "))
    }
}

// Filters reach `scan` unqualified, but be robust to qualified ones: the
// decoded batch has bare column names.
fn unqualify(expr: Expr) -> Result<Expr> {
    expr.transform(|e| match e {
        Expr::Column(c) if c.relation.is_some() => Ok(Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))),
        other => Ok(Transformed::no(other)),
    })
    .map(|t| t.data)
}
