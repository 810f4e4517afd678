use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, Float64Array, Int64Array, MapBuilder, StringArray, StringBuilder, TimestampSecondArray,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;

use super::*;

// 2024-01-31 12:00:00 UTC
const T: i64 = 1_706_702_400;

fn metadata(entries: &[Option<&[(&str, &str)]>]) -> ArrayRef {
    let mut b = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for e in entries {
        match e {
            Some(pairs) => {
                for (k, v) in *pairs {
                    b.keys().append_value(k);
                    b.values().append_value(v);
                }
                b.append(true).unwrap();
            }
            None => b.append(false).unwrap(),
        }
    }
    Arc::new(b.finish())
}

fn sample() -> RecordBatch {
    let meta = metadata(&[Some(&[("plan", "pro"), ("n", "1")]), None]);
    let schema = Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("email", DataType::Utf8, true),
        Field::new("created", DataType::Timestamp(TimeUnit::Second, Some("UTC".into())), true),
        Field::new("metadata", meta.data_type().clone(), true),
    ]);
    RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Int64Array::from(vec![1, 22])),
            Arc::new(StringArray::from(vec![Some("a@x.com, \"A\""), None])),
            Arc::new(TimestampSecondArray::from(vec![Some(T), None]).with_timezone("UTC")),
            meta,
        ],
    )
    .unwrap()
}

fn render(batches: &[RecordBatch], fmt: OutputFormat, opts: &FormatOptions) -> String {
    let mut out = Vec::new();
    write_batches(&mut out, batches, fmt, opts).unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn table_shows_null_utc_timestamps_maps_and_footer() {
    let got = render(&[sample()], OutputFormat::Table, &FormatOptions::default());
    let want = [
        r#" id | email        | created              | metadata"#,
        r#"----+--------------+----------------------+------------------------"#,
        r#"  1 | a@x.com, "A" | 2024-01-31 12:00:00Z | {"plan":"pro","n":"1"}"#,
        r#" 22 | NULL         | NULL                 | NULL"#,
        r#"(2 rows)"#,
        "",
    ]
    .join("\n");
    assert_eq!(got, want);
}

#[test]
fn csv_quotes_per_rfc4180_and_leaves_null_empty() {
    let got = render(&[sample()], OutputFormat::Csv, &FormatOptions::default());
    let want = "\
id,email,created,metadata
1,\"a@x.com, \"\"A\"\"\",2024-01-31T12:00:00Z,\"{\"\"plan\"\":\"\"pro\"\",\"\"n\"\":\"\"1\"\"}\"
22,,,
";
    assert_eq!(got, want);
}

#[test]
fn json_and_ndjson_use_null_iso_timestamps_and_objects_for_maps() {
    let got = render(&[sample()], OutputFormat::Json, &FormatOptions::default());
    let want = "[
  {\"id\":1,\"email\":\"a@x.com, \\\"A\\\"\",\"created\":\"2024-01-31T12:00:00Z\",\"metadata\":{\"plan\":\"pro\",\"n\":\"1\"}},
  {\"id\":22,\"email\":null,\"created\":null,\"metadata\":null}
]
";
    assert_eq!(got, want);
    let got = render(&[sample()], OutputFormat::Ndjson, &FormatOptions::default());
    let lines: Vec<&str> = got.lines().collect();
    assert_eq!(lines.len(), 2);
    let v: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    assert_eq!(v["metadata"]["plan"], "pro");
    assert_eq!(v["created"], "2024-01-31T12:00:00Z");
    assert!(serde_json::from_str::<serde_json::Value>(lines[1]).unwrap()["email"].is_null());
}

#[test]
fn empty_json_result_is_an_empty_array() {
    let empty = sample().slice(0, 0);
    assert_eq!(render(std::slice::from_ref(&empty), OutputFormat::Json, &FormatOptions::default()), "[]\n");
    assert_eq!(render(std::slice::from_ref(&empty), OutputFormat::Ndjson, &FormatOptions::default()), "");
    assert!(render(&[empty], OutputFormat::Table, &FormatOptions::default()).ends_with("(0 rows)\n"));
}

#[test]
fn markdown_escapes_pipes_and_right_aligns_numbers() {
    let schema = Schema::new(vec![Field::new("n", DataType::Float64, true), Field::new("s", DataType::Utf8, true)]);
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(Float64Array::from(vec![Some(1.5), None])),
            Arc::new(StringArray::from(vec![Some("a|b"), Some("x\ny")])),
        ],
    )
    .unwrap();
    let got = render(&[batch], OutputFormat::Markdown, &FormatOptions::default());
    let want = [r"| n    | s      |", r"| ---: | ------ |", r"|  1.5 | a\|b   |", r"| NULL | x<br>y |", ""].join("\n");
    assert_eq!(got, want);
}

#[test]
fn wide_tables_are_fitted_by_truncating_the_widest_column() {
    let schema =
        Schema::new(vec![Field::new("id", DataType::Int64, false), Field::new("description", DataType::Utf8, true)]);
    let long = "x".repeat(100);
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![Arc::new(Int64Array::from(vec![7])), Arc::new(StringArray::from(vec![long.as_str()]))],
    )
    .unwrap();
    let opts = FormatOptions { max_width: Some(30), ..Default::default() };
    let got = render(&[batch], OutputFormat::Table, &opts);
    for line in got.lines() {
        assert!(line.chars().count() <= 30, "line too wide: {line:?}");
    }
    let row = got.lines().nth(2).unwrap();
    assert_eq!(row, format!("  7 | {}…", "x".repeat(22)));
}

#[test]
fn long_json_text_is_shortened_in_tables_but_full_in_csv() {
    let raw = format!("{{\"id\":\"cus_1\",\"description\":\"{}\"}}", "y".repeat(80));
    let schema = Schema::new(vec![Field::new("_raw", DataType::Utf8, true)]);
    let batch = RecordBatch::try_new(Arc::new(schema), vec![Arc::new(StringArray::from(vec![raw.as_str()]))]).unwrap();
    let table = render(std::slice::from_ref(&batch), OutputFormat::Table, &FormatOptions::default());
    let cell = table.lines().nth(2).unwrap().trim();
    assert_eq!(cell.chars().count(), 60);
    assert!(cell.ends_with('…'));
    let csv = render(&[batch], OutputFormat::Csv, &FormatOptions::default());
    assert!(csv.contains(&"y".repeat(80)));
}

#[test]
fn expanded_rows_show_one_line_per_column() {
    let opts = FormatOptions { expanded: true, ..Default::default() };
    let got = render(&[sample()], OutputFormat::Table, &opts);
    let want = "\
-[ RECORD 1 ]--------------------
id       | 1
email    | a@x.com, \"A\"
created  | 2024-01-31 12:00:00Z
metadata | {\"plan\":\"pro\",\"n\":\"1\"}
-[ RECORD 2 ]--------------------
id       | 22
email    | NULL
created  | NULL
metadata | NULL
";
    assert_eq!(got, want);
}

#[test]
fn formats_parse_from_their_names() {
    for f in OutputFormat::ALL {
        assert_eq!(f.name().parse::<OutputFormat>(), Ok(f));
    }
    assert_eq!("CSV".parse::<OutputFormat>(), Ok(OutputFormat::Csv));
    assert!("xml".parse::<OutputFormat>().unwrap_err().contains("xml"));
}

#[test]
fn naive_and_fractional_timestamps() {
    use datafusion::arrow::array::TimestampMillisecondArray;
    let schema = Schema::new(vec![
        Field::new("naive", DataType::Timestamp(TimeUnit::Millisecond, None), true),
        Field::new("utc", DataType::Timestamp(TimeUnit::Millisecond, Some("+00:00".into())), true),
    ]);
    let batch = RecordBatch::try_new(
        Arc::new(schema),
        vec![
            Arc::new(TimestampMillisecondArray::from(vec![T * 1000 + 250])),
            Arc::new(TimestampMillisecondArray::from(vec![T * 1000 + 250]).with_timezone("+00:00")),
        ],
    )
    .unwrap();
    let csv = render(&[batch], OutputFormat::Csv, &FormatOptions::default());
    assert_eq!(csv, "naive,utc\n2024-01-31T12:00:00.250,2024-01-31T12:00:00.250Z\n");
}

#[test]
fn multi_line_cells_span_lines_marked_with_plus() {
    let schema = Arc::new(Schema::new(vec![
        Field::new("plan_type", DataType::Utf8, false),
        Field::new("plan", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(vec!["physical_plan", "x"])),
            Arc::new(StringArray::from(vec!["CooperativeExec\n  StripeScanExec: table=charges\n", "one"])),
        ],
    )
    .unwrap();
    let text = render(&[batch], OutputFormat::Table, &FormatOptions::default());
    assert_eq!(
        text,
        " plan_type     | plan\n---------------+---------------------------------\n physical_plan | CooperativeExec                +\n               |   StripeScanExec: table=charges\n x             | one\n(2 rows)\n"
    );
}
