//! JSON output: one array of objects per result (`json`) or one object per
//! line (`ndjson`). Keys keep column order; NULL is `null`; values are full
//! (never shortened); timestamps are ISO 8601 strings in UTC.

use std::io::{self, Write};

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::record_batch::RecordBatch;

use super::cell;

/// Writes `[`, one object per row (one per line), `]`.
pub fn write_json(out: &mut dyn Write, batches: &[RecordBatch]) -> io::Result<()> {
    let mut first = true;
    out.write_all(b"[")?;
    for_each_object(batches, |obj| {
        out.write_all(if first { b"\n  " } else { b",\n  " })?;
        first = false;
        out.write_all(obj.as_bytes())
    })?;
    out.write_all(if first { b"]\n" } else { b"\n]\n" })
}

/// Writes one object per line.
pub fn write_ndjson(out: &mut dyn Write, batches: &[RecordBatch]) -> io::Result<()> {
    for_each_object(batches, |obj| writeln!(out, "{obj}"))
}

fn for_each_object(batches: &[RecordBatch], mut emit: impl FnMut(&str) -> io::Result<()>) -> io::Result<()> {
    let mut obj = String::new();
    for batch in batches {
        let schema = batch.schema();
        let keys: Vec<String> = schema
            .fields()
            .iter()
            .map(|f| {
                let mut k = String::new();
                cell::string(f.name(), &mut k);
                k
            })
            .collect();
        let columns: Vec<ArrayRef> = batch.columns().iter().map(cell::normalize).collect();
        for row in 0..batch.num_rows() {
            obj.clear();
            obj.push('{');
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    obj.push(',');
                }
                obj.push_str(&keys[i]);
                obj.push(':');
                cell::json(column.as_ref(), row, &mut obj);
            }
            obj.push('}');
            emit(&obj)?;
        }
    }
    Ok(())
}
