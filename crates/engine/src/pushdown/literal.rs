//! Reading the two sides of a comparison: literal values and (possibly cast) columns.
//!
//! Literals arrive already coerced to the column's type by DataFusion; this module
//! turns them into a few plain shapes and maps numbers and timestamps into the
//! column's integer domain (units for Int64, whole seconds for timestamps).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::logical_expr::Expr;

use crate::catalog::{ColumnType, TableDef};

/// Literals beyond this magnitude are left to DataFusion (no overflow games).
const MAX_MAGNITUDE: i128 = 1 << 62;
/// Floats beyond this cannot be compared exactly with integers.
const MAX_EXACT_FLOAT: f64 = 9_007_199_254_740_992.0; // 2^53

/// A literal value, independent of its Arrow width.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    /// SQL NULL of any type.
    Null,
    /// Any string type.
    Str(String),
    /// Any integer type.
    Int(i128),
    /// Float32/Float64.
    Float(f64),
    /// Any timestamp unit, as nanoseconds since the epoch (UTC).
    Nanos(i128),
    /// Boolean.
    Bool(bool),
}

/// The integer floor and ceiling of a numeric literal in a column's domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IntRange {
    /// Largest integer ≤ the literal.
    pub floor: i64,
    /// Smallest integer ≥ the literal.
    pub ceil: i64,
}

impl IntRange {
    /// Whether the literal is itself an integer of the domain.
    pub fn is_integral(&self) -> bool {
        self.floor == self.ceil
    }
}

/// A column reference, with whether a lossy cast wraps it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ColumnRef {
    /// Unqualified column name.
    pub name: String,
    /// Catalog type of the column.
    pub ty: ColumnType,
    /// A numeric cast (e.g. Int64 → Float64) wraps the column: translations stay
    /// correct but are reported Inexact.
    pub cast: bool,
}

/// Reads a literal expression.
pub(crate) fn literal(expr: &Expr) -> Option<Lit> {
    let Expr::Literal(value, _) = expr else { return None };
    scalar(value)
}

/// Reads a scalar value.
pub(crate) fn scalar(value: &ScalarValue) -> Option<Lit> {
    if value.is_null() {
        return Some(Lit::Null);
    }
    let nanos = |v: i64, factor: i128| Lit::Nanos(i128::from(v) * factor);
    Some(match value {
        ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)) => {
            Lit::Str(s.clone())
        }
        ScalarValue::Boolean(Some(b)) => Lit::Bool(*b),
        ScalarValue::Int8(Some(v)) => Lit::Int((*v).into()),
        ScalarValue::Int16(Some(v)) => Lit::Int((*v).into()),
        ScalarValue::Int32(Some(v)) => Lit::Int((*v).into()),
        ScalarValue::Int64(Some(v)) => Lit::Int((*v).into()),
        ScalarValue::UInt8(Some(v)) => Lit::Int((*v).into()),
        ScalarValue::UInt16(Some(v)) => Lit::Int((*v).into()),
        ScalarValue::UInt32(Some(v)) => Lit::Int((*v).into()),
        ScalarValue::UInt64(Some(v)) => Lit::Int((*v).into()),
        ScalarValue::Float32(Some(v)) => Lit::Float((*v).into()),
        ScalarValue::Float64(Some(v)) => Lit::Float(*v),
        ScalarValue::TimestampSecond(Some(v), _) => nanos(*v, 1_000_000_000),
        ScalarValue::TimestampMillisecond(Some(v), _) => nanos(*v, 1_000_000),
        ScalarValue::TimestampMicrosecond(Some(v), _) => nanos(*v, 1_000),
        ScalarValue::TimestampNanosecond(Some(v), _) => nanos(*v, 1),
        _ => return None,
    })
}

/// Reads a column reference of `table`, looking through casts that keep the
/// comparison meaningful; `None` for anything else.
pub(crate) fn column(table: &TableDef, expr: &Expr) -> Option<ColumnRef> {
    match expr {
        Expr::Column(c) => {
            let ty = column_type(table, &c.name)?;
            Some(ColumnRef { name: c.name.clone(), ty, cast: false })
        }
        Expr::Cast(cast) => cast_column(table, &cast.expr, cast.field.data_type()),
        Expr::TryCast(cast) => cast_column(table, &cast.expr, cast.field.data_type()),
        _ => None,
    }
}

/// A cast is looked through when it is exact (string ↔ string, timestamp unit
/// change) or a widening of integers to floats (then marked `cast`).
fn cast_column(table: &TableDef, inner: &Expr, to: &DataType) -> Option<ColumnRef> {
    let Expr::Column(c) = inner else { return None };
    let ty = column_type(table, &c.name)?;
    let cast = match (ty, to) {
        (ColumnType::Utf8, DataType::Utf8 | DataType::Utf8View | DataType::LargeUtf8) => false,
        (ColumnType::Timestamp, DataType::Timestamp(_, _)) => false,
        (ColumnType::Int64, DataType::Int64) => false,
        (ColumnType::Int64, DataType::Float64) => true,
        _ => return None,
    };
    Some(ColumnRef { name: c.name.clone(), ty, cast })
}

/// The catalog type of a column, by name.
pub(crate) fn column_type(table: &TableDef, name: &str) -> Option<ColumnType> {
    table.columns.iter().find(|c| c.name == name).map(|c| c.ty)
}

/// Maps a numeric or timestamp literal into the integer domain of a column type:
/// whole seconds for timestamps, units for Int64. `None` when not comparable.
pub(crate) fn int_range(ty: ColumnType, lit: &Lit) -> Option<IntRange> {
    let (floor, ceil) = match (ty, lit) {
        (ColumnType::Timestamp, Lit::Nanos(n)) => {
            let floor = n.div_euclid(1_000_000_000);
            let ceil = if n.rem_euclid(1_000_000_000) == 0 { floor } else { floor + 1 };
            (floor, ceil)
        }
        (ColumnType::Int64, Lit::Int(v)) => (*v, *v),
        (ColumnType::Int64, Lit::Float(f)) => {
            if !f.is_finite() || f.abs() >= MAX_EXACT_FLOAT {
                return None;
            }
            (f.floor() as i128, f.ceil() as i128)
        }
        _ => return None,
    };
    if floor.abs() > MAX_MAGNITUDE || ceil.abs() > MAX_MAGNITUDE {
        return None;
    }
    Some(IntRange { floor: floor as i64, ceil: ceil as i64 })
}
