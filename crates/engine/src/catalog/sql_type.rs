//! Column types as analysts know them (`text`, `bigint`, `timestamptz`,
//! `map<text, text>`, …): what `\d`, `stripe_columns()` and `DESCRIBE` show,
//! next to the Arrow type for those who want it.

use datafusion::arrow::datatypes::DataType;

use stripe_catalog::model::ColumnType;

/// The SQL name of a catalog column type. JSON columns are `json` although
/// their Arrow type is text: the catalog knows what the text holds.
pub fn sql_type(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Utf8 => "text",
        ColumnType::Json => "json",
        ColumnType::Int64 => "bigint",
        ColumnType::Float64 => "double precision",
        ColumnType::Boolean => "boolean",
        ColumnType::Timestamp => "timestamptz",
        ColumnType::StringMap => "map<text, text>",
        ColumnType::StringList => "text[]",
    }
}

/// The SQL name of an Arrow type (for columns outside the catalog: views,
/// registered tables); types without a usual SQL name keep Arrow's.
pub fn sql_type_of_arrow(ty: &DataType) -> String {
    match ty {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "text".into(),
        DataType::Boolean => "boolean".into(),
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "smallint".into(),
        DataType::Int32 | DataType::UInt16 => "integer".into(),
        DataType::Int64 | DataType::UInt32 => "bigint".into(),
        DataType::UInt64 => "numeric(20, 0)".into(),
        DataType::Float16 | DataType::Float32 => "real".into(),
        DataType::Float64 => "double precision".into(),
        DataType::Decimal128(p, s) | DataType::Decimal256(p, s) => format!("numeric({p}, {s})"),
        DataType::Timestamp(_, Some(_)) => "timestamptz".into(),
        DataType::Timestamp(_, None) => "timestamp".into(),
        DataType::Date32 | DataType::Date64 => "date".into(),
        DataType::Time32(_) | DataType::Time64(_) => "time".into(),
        DataType::Interval(_) | DataType::Duration(_) => "interval".into(),
        DataType::Binary | DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => {
            "bytea".into()
        }
        DataType::List(item) | DataType::LargeList(item) | DataType::FixedSizeList(item, _) => {
            format!("{}[]", sql_type_of_arrow(item.data_type()))
        }
        DataType::Map(entries, _) => match entries.data_type() {
            DataType::Struct(kv) if kv.len() == 2 => {
                format!("map<{}, {}>", sql_type_of_arrow(kv[0].data_type()), sql_type_of_arrow(kv[1].data_type()))
            }
            other => other.to_string(),
        },
        DataType::Dictionary(_, value) => sql_type_of_arrow(value),
        DataType::Null => "null".into(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::arrow_type;

    const ALL: [ColumnType; 8] = [
        ColumnType::Utf8,
        ColumnType::Json,
        ColumnType::Int64,
        ColumnType::Float64,
        ColumnType::Boolean,
        ColumnType::Timestamp,
        ColumnType::StringMap,
        ColumnType::StringList,
    ];

    #[test]
    fn catalog_types_have_analyst_names() {
        let names: Vec<&str> = ALL.iter().map(|t| sql_type(*t)).collect();
        assert_eq!(
            names,
            ["text", "json", "bigint", "double precision", "boolean", "timestamptz", "map<text, text>", "text[]"]
        );
    }

    #[test]
    fn arrow_types_name_the_same_except_json() {
        for ty in ALL {
            let want = if ty == ColumnType::Json { "text" } else { sql_type(ty) };
            assert_eq!(sql_type_of_arrow(&arrow_type(ty)), want, "{ty:?}");
        }
        assert_eq!(sql_type_of_arrow(&DataType::Int32), "integer");
        assert_eq!(
            sql_type_of_arrow(&DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Second, None)),
            "timestamp"
        );
    }
}
