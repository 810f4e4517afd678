//! An action's arguments, as DataFusion hands them to the table function
//! (already constant-folded): the id first — one string, an array of strings,
//! or a subquery selecting ids (the bulk forms) — then the body parameters as
//! one `named_struct(...)` (what `name => value` is rewritten to, see
//! [`super::named`]), a `MAP {...}` or a JSON object string.
//!
//! Only constants are accepted. A column reference (LATERAL, a join), a bind
//! parameter or an expression DataFusion could not fold is an error that says
//! what to write instead; it is never sent to Stripe as text.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::{DataFusionError, Result};
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};
use serde_json::{Map, Value};

use super::{params, scalar_json};
use crate::catalog::ActionDef;

/// The named argument (and the column of the id subquery's rows) naming the
/// account an action acts as under `stripe.accounts`.
pub const ACCOUNT_ARGUMENT: &str = "account";

/// Which objects the action applies to.
#[derive(Debug, Clone)]
pub enum Ids {
    /// `f('pi_1', …)`: one object.
    One(String),
    /// `f(ARRAY['pi_1', 'pi_2'], …)`: each listed object, in order.
    Many(Vec<String>),
    /// `f((SELECT id FROM …), …)`: every id the query selects, read when the
    /// statement executes (one string column, or one array-of-strings value).
    Query(Arc<LogicalPlan>),
}

/// A validated call: the target ids and the body parameters to send.
#[derive(Debug, Clone)]
pub struct ActionArgs {
    /// The objects to act on.
    pub ids: Ids,
    /// Body parameters, checked against the catalog.
    pub body: Map<String, Value>,
    /// `account => 'acct_…'` (under `stripe.accounts`): the account acted as.
    pub account: Option<String>,
}

/// Reads and validates the arguments of `def`'s function.
pub fn parse(def: &ActionDef, exprs: &[Expr]) -> Result<ActionArgs> {
    let name = def.name.as_str();
    for (i, e) in exprs.iter().enumerate() {
        let bulk_subquery = i == 0 && matches!(e, Expr::ScalarSubquery(_));
        if !bulk_subquery && let Some(why) = not_constant(name, e) {
            return Err(plan(why));
        }
    }
    let missing_id = || {
        plan(format!(
            "{name} needs the object's id as its first argument, e.g. SELECT * FROM {name}('{}')",
            example_id(def)
        ))
    };
    let first = exprs.first().ok_or_else(missing_id)?;
    let mut given = Map::new();
    // `f(id => 'pi_1', …)`: every argument was named, so the id is in the struct.
    let (ids, rest) = match first {
        Expr::Literal(value, _) if matches!(scalar_json::to_json(value)?, Value::Object(_)) => {
            let Value::Object(mut named) = scalar_json::to_json(value)? else { unreachable!("matched an object") };
            let id = named
                .remove("id")
                .or_else(|| def.id_param.as_ref().and_then(|p| named.remove(p)))
                .ok_or_else(missing_id)?;
            given = named;
            (ids(def, &Expr::Literal(json_scalar(id)?, None))?, &exprs[1..])
        }
        _ => (ids(def, first)?, &exprs[1..]),
    };
    for (i, e) in rest.iter().enumerate().map(|(i, e)| (i + 1, e)) {
        for (key, value) in body_part(name, i + 1, e)? {
            if given.contains_key(&key) {
                return Err(plan(format!("{name}: parameter {key} is given twice")));
            }
            if def.id_param.as_deref() == Some(key.as_str()) {
                return Err(plan(format!("{name}: {key} is the first argument (the id), not a named parameter")));
            }
            given.insert(key, value);
        }
    }
    // No action has a parameter of that name: it names the account to act as.
    let account = match given.remove(ACCOUNT_ARGUMENT) {
        None => None,
        Some(Value::String(account)) => Some(account),
        Some(other) => return Err(plan(format!("{name}: account => takes an account id (acct_…), not {other}"))),
    };
    let body = params::check(name, &def.params, given).map_err(plan)?;
    Ok(ActionArgs { ids, body, account })
}

/// Under `stripe.accounts`: the id subquery `(SELECT id FROM t WHERE …)`
/// selecting each row's `account` too, so every id is acted on as the account
/// its row came from. A subquery of another shape (`array_agg`, `DISTINCT`,
/// no `account` column) is left as it is.
pub fn follow_rows(ids: Ids) -> Result<Ids> {
    let Ids::Query(query) = &ids else { return Ok(ids) };
    let LogicalPlan::Projection(projection) = query.as_ref() else { return Ok(ids) };
    let input = projection.input.schema();
    let column = crate::pushdown::accounts::routing_column(input.fields().iter().map(|f| f.name().as_str()));
    let Ok((qualifier, _)) = input.qualified_field_with_unqualified_name(column) else {
        return Ok(ids);
    };
    if projection.expr.len() != 1 || list_of_text(&projection.expr[0].get_type(projection.input.schema())?) {
        return Ok(ids);
    }
    let account = Expr::Column(datafusion::common::Column::new(qualifier.cloned(), column));
    let exprs = vec![projection.expr[0].clone(), account];
    let with_account = datafusion::logical_expr::Projection::try_new(exprs, Arc::clone(&projection.input))?;
    Ok(Ids::Query(Arc::new(LogicalPlan::Projection(with_account))))
}

/// A named id (`id => 'pi_1'`) back as a constant: a string or a list of strings.
fn json_scalar(id: Value) -> Result<datafusion::common::ScalarValue> {
    use datafusion::common::ScalarValue;
    match id {
        Value::String(s) => Ok(ScalarValue::Utf8(Some(s))),
        Value::Array(items) => {
            let values = items.into_iter().map(|v| ScalarValue::Utf8(v.as_str().map(String::from))).collect::<Vec<_>>();
            Ok(ScalarValue::List(ScalarValue::new_list_nullable(&values, &DataType::Utf8)))
        }
        other => Err(plan(format!("the id must be a string or an array of strings, got {other}"))),
    }
}

/// Checks that `id` can go into a URL path (`[A-Za-z0-9_]+`, as Stripe ids are).
pub fn check_id(function: &str, id: &str) -> Result<()> {
    if !id.is_empty() && id.len() <= 255 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        Ok(())
    } else {
        Err(plan(format!("{function}: {id:?} is not a stripe id (ids are letters, digits and underscores)")))
    }
}

fn ids(def: &ActionDef, e: &Expr) -> Result<Ids> {
    let name = def.name.as_str();
    match e {
        Expr::ScalarSubquery(sub) => {
            if !sub.outer_ref_columns.is_empty() {
                return Err(plan(format!(
                    "{name}: the id subquery refers to columns of the outer query; actions cannot run once per row. Select the ids in an uncorrelated subquery instead: {name}((SELECT id FROM … WHERE …))"
                )));
            }
            let fields = sub.subquery.schema().fields();
            let ok = fields.len() == 1 && (is_text(fields[0].data_type()) || list_of_text(fields[0].data_type()));
            if !ok {
                return Err(plan(format!(
                    "{name}: the id subquery must select one column of ids (text), e.g. (SELECT id FROM …)"
                )));
            }
            Ok(Ids::Query(Arc::clone(&sub.subquery)))
        }
        Expr::Literal(value, _) => match scalar_json::to_json(value)? {
            Value::String(id) => {
                check_id(name, &id)?;
                Ok(Ids::One(id))
            }
            Value::Array(items) => {
                let ids = items
                    .into_iter()
                    .map(|v| match v {
                        Value::String(id) => check_id(name, &id).map(|_| id),
                        other => Err(plan(format!("{name}: the id array holds {other}, not an id string"))),
                    })
                    .collect::<Result<Vec<_>>>()?;
                Ok(Ids::Many(ids))
            }
            Value::Null => Err(plan(format!("{name}: the id is NULL"))),
            other => Err(plan(format!("{name}: the first argument must be an id string, got {other}"))),
        },
        other => Err(plan(format!("{name}: the first argument must be an id string, got {other}"))),
    }
}

/// Parameters carried by argument number `position` (2, 3, …).
fn body_part(name: &str, position: usize, e: &Expr) -> Result<Map<String, Value>> {
    let Expr::Literal(value, _) = e else {
        return Err(plan(format!("{name}: argument {position} is not a constant: {e}")));
    };
    match scalar_json::to_json(value)? {
        Value::Object(map) => Ok(map),
        Value::String(text) if text.trim_start().starts_with('{') => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) | Err(_) => Err(plan(format!("{name}: argument {position} is not a valid JSON object: {text}"))),
        },
        other => Err(plan(format!(
            "{name}: argument {position} ({other}) must be a named parameter (param => value) or a JSON object such as '{{\"param\": 1}}'; only the id is positional"
        ))),
    }
}

/// Why `e` is not a constant, or `None` when it is a literal.
fn not_constant(name: &str, e: &Expr) -> Option<String> {
    if matches!(e, Expr::Literal(..)) {
        return None;
    }
    let mut why = None;
    let _ = e.apply(|node| {
        why = match node {
            Expr::Column(c) | Expr::OuterReferenceColumn(_, c) => Some(format!(
                "{name}: arguments must be constants, but {c} is a column reference. Actions cannot run once per row (LATERAL or a join); to act on the ids a query selects, pass the query as the first argument: {name}((SELECT id FROM … WHERE …))"
            )),
            Expr::Placeholder(p) => Some(format!(
                "{name}: arguments must be constants, but {} is a bind parameter; table functions cannot take bind parameters, write the value into the SQL text",
                p.id
            )),
            Expr::ScalarSubquery(_) | Expr::Exists(_) | Expr::InSubquery(_) => Some(format!(
                "{name}: arguments must be constants; a subquery is only accepted as the first argument (the ids to act on)"
            )),
            _ => None,
        };
        Ok(if why.is_some() { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    Some(why.unwrap_or_else(|| {
        format!("{name}: arguments must be constants, but {e} could not be evaluated before the statement runs")
    }))
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8)
}

fn list_of_text(t: &DataType) -> bool {
    match t {
        DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => is_text(f.data_type()),
        _ => false,
    }
}

fn example_id(def: &ActionDef) -> String {
    // refund_charge takes a charge id: its table is the id parameter's plural.
    let table = match &def.id_param {
        Some(param) => format!("{param}s"),
        None => def.result_table.clone().unwrap_or_default(),
    };
    let prefix =
        crate::catalog::builtin().table(&table).and_then(|t| t.id_prefix.clone()).unwrap_or_else(|| "id".to_string());
    format!("{prefix}_…")
}

fn plan(message: String) -> DataFusionError {
    DataFusionError::Plan(message)
}

/// Lets tests build literal arguments.
#[cfg(test)]
pub(crate) fn lit(v: datafusion::common::ScalarValue) -> Expr {
    Expr::Literal(v, None)
}

#[cfg(test)]
#[path = "args_tests.rs"]
mod tests;
