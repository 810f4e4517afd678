//! What a write statement did, row by row: the planned calls, which rows were
//! written (their ids), which failed (Stripe's message, param and request id)
//! and which were not attempted. Nothing is silently dropped.

use std::fmt::Write as _;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::Result;
use serde_json::Value;

use crate::stripe::{self, ApiError};

/// One API call a write statement makes for one row.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// 1-based row number in the statement's input (INSERT) or scan order (UPDATE/DELETE).
    pub row: usize,
    /// `POST` or `DELETE`.
    pub method: String,
    /// Request path, e.g. `/v1/customers/cus_1`.
    pub path: String,
    /// Body (POST) or query (DELETE) params.
    pub params: Value,
    /// The object the call targets (UPDATE/DELETE), when known before sending.
    pub target: Option<String>,
    /// Under `stripe.accounts`: the account the call is sent as.
    pub account: Option<String>,
}

impl Call {
    /// The params in Stripe's form encoding (`metadata[k]=v&…`), for display.
    pub fn encoded_params(&self) -> String {
        stripe::form::encode(&self.params).into_iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
    }
}

/// What happened to one row.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome {
    /// Dry run: the call was only planned.
    Planned,
    /// Stripe accepted the call; the id of the object written.
    Written {
        /// Object id from the response.
        id: String,
        /// The object Stripe returned (for RETURNING).
        object: Value,
    },
    /// Stripe (or the connection) refused the call.
    Failed {
        /// Stripe's message (or the transport error).
        message: String,
        /// The parameter Stripe blamed, if any.
        param: Option<String>,
        /// Stripe's request id, if a response arrived.
        request_id: Option<String>,
    },
    /// Not sent because an earlier row failed.
    NotAttempted,
}

impl RowOutcome {
    /// The outcome of a call that returned `result`.
    pub fn from_result(call: &Call, result: std::result::Result<Value, ApiError>) -> Self {
        match result {
            Ok(object) => Self::Written {
                id: object
                    .get("id")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .or_else(|| call.target.clone())
                    .unwrap_or_default(),
                object,
            },
            Err(e) => {
                let (mut message, param) = match e.stripe_error() {
                    Some(s) => (s.message.clone().unwrap_or_else(|| e.to_string()), s.param.clone()),
                    None => (e.to_string(), None),
                };
                let no_answer = matches!(
                    e,
                    ApiError::Transport { .. } | ApiError::Timeout { .. } | ApiError::InvalidResponse { .. }
                );
                if no_answer && call.method == "POST" {
                    // Never claim "not written" without an answer: the write may exist.
                    message =
                        format!("no answer, so this write may have been applied (check before re-running): {message}");
                }
                Self::Failed { message, param, request_id: e.request_id().map(str::to_string) }
            }
        }
    }

    /// `planned`, `written`, `failed` or `not_attempted`.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Planned => "planned",
            Self::Written { .. } => "written",
            Self::Failed { .. } => "failed",
            Self::NotAttempted => "not_attempted",
        }
    }
}

/// The outcome of one write statement.
#[derive(Debug, Clone, PartialEq)]
pub struct WriteReport {
    /// `insert into customers`, `update customers`, `delete from customers`.
    pub statement: String,
    /// The target table.
    pub table: String,
    /// Each call with its outcome, in row order.
    pub rows: Vec<(Call, RowOutcome)>,
}

impl WriteReport {
    /// Ids of the rows written, in row order.
    pub fn written_ids(&self) -> Vec<&str> {
        self.rows
            .iter()
            .filter_map(|(_, o)| match o {
                RowOutcome::Written { id, .. } => Some(id.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The objects Stripe returned for the written rows, in row order.
    pub fn written_objects(&self) -> Vec<Value> {
        self.rows
            .iter()
            .filter_map(|(_, o)| match o {
                RowOutcome::Written { object, .. } => Some(object.clone()),
                _ => None,
            })
            .collect()
    }

    /// Whether any row failed.
    pub fn has_failures(&self) -> bool {
        self.rows.iter().any(|(_, o)| matches!(o, RowOutcome::Failed { .. }))
    }

    /// How many rows ended with `label`.
    pub fn count(&self, label: &str) -> usize {
        self.rows.iter().filter(|(_, o)| o.label() == label).count()
    }

    /// One paragraph for the error a partial failure returns.
    pub fn failure_summary(&self) -> String {
        let total = self.rows.len();
        let mut s = format!("{} failed part way: {} of {total} row(s) written", self.statement, self.count("written"));
        let ids = self.written_ids();
        if !ids.is_empty() {
            let _ = write!(s, " ({})", ids.join(", "));
        }
        let _ = write!(s, "; {} failed", self.count("failed"));
        for (call, outcome) in &self.rows {
            if let RowOutcome::Failed { message, param, request_id } = outcome {
                let _ = write!(s, "; row {}: {message}", call.row);
                if let Some(a) = &call.account {
                    let _ = write!(s, " (account {a})");
                }
                if let Some(p) = param {
                    let _ = write!(s, " (param {p})");
                }
                if let Some(r) = request_id {
                    let _ = write!(s, " (request id {r})");
                }
            }
        }
        let skipped: Vec<String> =
            self.rows.iter().filter(|(_, o)| *o == RowOutcome::NotAttempted).map(|(c, _)| c.row.to_string()).collect();
        let _ = write!(s, "; {} not attempted", skipped.len());
        if !skipped.is_empty() {
            let _ = write!(s, " (rows {})", skipped.join(", "));
        }
        s.push_str("; details: SELECT * FROM stripe_last_write()");
        s
    }

    /// Schema of [`WriteReport::to_batch`] (the `stripe_last_write()` table).
    pub fn schema() -> SchemaRef {
        let text = |name: &str| Field::new(name, DataType::Utf8, true);
        Arc::new(Schema::new(vec![
            Field::new("row", DataType::Int64, false),
            Field::new("outcome", DataType::Utf8, false),
            Field::new("method", DataType::Utf8, false),
            Field::new("path", DataType::Utf8, false),
            text("params"),
            text("id"),
            text("error"),
            text("request_id"),
            text("account"),
        ]))
    }

    /// The report as rows: one per call.
    pub fn to_batch(&self) -> Result<RecordBatch> {
        let mut id = Vec::new();
        let mut error = Vec::new();
        let mut request = Vec::new();
        for (call, outcome) in &self.rows {
            let (i, e, r) = match outcome {
                RowOutcome::Written { id, .. } => (Some(id.clone()), None, None),
                RowOutcome::Failed { message, param, request_id } => {
                    let msg = match param {
                        Some(p) => format!("{message} (param {p})"),
                        None => message.clone(),
                    };
                    (call.target.clone(), Some(msg), request_id.clone())
                }
                _ => (call.target.clone(), None, None),
            };
            id.push(i);
            error.push(e);
            request.push(r);
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from_iter_values(self.rows.iter().map(|(c, _)| c.row as i64))),
            Arc::new(StringArray::from_iter_values(self.rows.iter().map(|(_, o)| o.label()))),
            Arc::new(StringArray::from_iter_values(self.rows.iter().map(|(c, _)| c.method.as_str()))),
            Arc::new(StringArray::from_iter_values(self.rows.iter().map(|(c, _)| c.path.as_str()))),
            Arc::new(StringArray::from_iter(self.rows.iter().map(|(c, _)| Some(c.encoded_params())))),
            Arc::new(StringArray::from(id)),
            Arc::new(StringArray::from(error)),
            Arc::new(StringArray::from(request)),
            Arc::new(StringArray::from_iter(self.rows.iter().map(|(c, _)| c.account.clone()))),
        ];
        Ok(RecordBatch::try_new(Self::schema(), columns)?)
    }
}
