//! `COPY (query) TO STDOUT` and `COPY table [(columns)] TO STDOUT` in text,
//! CSV (with `HEADER`) and binary: how connectorx, the ADBC PostgreSQL
//! driver and psql's `\copy` pull results in bulk.
//!
//! The inner query is planned by the engine like any other statement (so its
//! filters are pushed down the same way) and its rows are encoded exactly as
//! a query's rows (`json` maps, `timestamptz`, ...), then framed as COPY
//! data one row per message while the scan runs: nothing is held whole. Every
//! other form of COPY is refused in `policy.rs`.

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use datafusion::dataframe::DataFrame;
use datafusion::sql::sqlparser::ast::{
    CopyLegacyCsvOption, CopyLegacyOption, CopyOption, CopySource, CopyTarget, Statement,
};
use datafusion::sql::sqlparser::dialect::PostgreSqlDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion_postgres::pgwire;
use futures::{Sink, SinkExt, Stream, StreamExt};
use pgwire::api::portal::Format;
use pgwire::error::{PgWireError, PgWireResult};
use pgwire::messages::PgWireBackendMessage;
use pgwire::messages::copy::{CopyData, CopyDone, CopyOutResponse};
use pgwire::messages::data::DataRow;
use pgwire::types::format::FormatOptions;

use crate::server::{encode, errors};

/// The framing of a COPY.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyFormat {
    /// Tab-separated text with backslash escapes (Postgres's default).
    Text,
    /// Comma-separated values with quoting.
    Csv,
    /// Postgres's binary COPY format (`PGCOPY`), values as binary wire values.
    Binary,
}

/// A parsed `COPY … TO STDOUT`.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyOut {
    /// The statement whose rows are copied.
    pub query: Statement,
    /// The framing.
    pub format: CopyFormat,
    /// Whether a CSV header line comes first.
    pub header: bool,
    /// The field separator.
    pub delimiter: u8,
    /// How NULL is written.
    pub null: String,
    /// The CSV quote character.
    pub quote: u8,
}

impl CopyOut {
    /// The COPY TO STDOUT that `statement` is, or None for any other statement.
    /// File targets and `COPY FROM` are not handled here: `policy` refuses them.
    pub fn of(statement: &Statement) -> PgWireResult<Option<Self>> {
        let Statement::Copy { source, to: true, target: CopyTarget::Stdout, options, legacy_options, .. } = statement
        else {
            return Ok(None);
        };
        let query = match source {
            CopySource::Query(query) => Statement::Query(query.clone()),
            CopySource::Table { table_name, columns } => {
                let columns = if columns.is_empty() {
                    "*".to_owned()
                } else {
                    columns.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                };
                let sql = format!("SELECT {columns} FROM {table_name}");
                let mut parsed = Parser::parse_sql(&PostgreSqlDialect {}, &sql)
                    .map_err(|e| errors::user_error(errors::SYNTAX_ERROR, format!("could not parse the COPY: {e}")))?;
                parsed.remove(0)
            }
        };
        let mut copy =
            Self { query, format: CopyFormat::Text, header: false, delimiter: b'\t', null: String::new(), quote: b'"' };
        let mut null = None;
        let mut delimiter = None;
        for option in options {
            match option {
                CopyOption::Format(name) => {
                    copy.format = match name.value.to_lowercase().as_str() {
                        "text" => CopyFormat::Text,
                        "csv" => CopyFormat::Csv,
                        "binary" => CopyFormat::Binary,
                        other => return Err(unsupported(&format!("COPY format {other:?}"))),
                    }
                }
                CopyOption::Header(on) => copy.header = *on,
                CopyOption::Delimiter(c) => delimiter = Some(*c),
                CopyOption::Null(text) => null = Some(text.clone()),
                CopyOption::Quote(c) => copy.quote = ascii(*c)?,
                CopyOption::Encoding(e) if e.eq_ignore_ascii_case("utf8") || e.eq_ignore_ascii_case("utf-8") => {}
                other => return Err(unsupported(&format!("COPY option {other}"))),
            }
        }
        for option in legacy_options {
            match option {
                CopyLegacyOption::Binary => copy.format = CopyFormat::Binary,
                CopyLegacyOption::Delimiter(c) => delimiter = Some(*c),
                CopyLegacyOption::Null(text) => null = Some(text.clone()),
                CopyLegacyOption::Header => copy.header = true,
                CopyLegacyOption::Csv(csv) => {
                    copy.format = CopyFormat::Csv;
                    for o in csv {
                        match o {
                            CopyLegacyCsvOption::Header => copy.header = true,
                            CopyLegacyCsvOption::Quote(c) => copy.quote = ascii(*c)?,
                            other => return Err(unsupported(&format!("COPY option {other}"))),
                        }
                    }
                }
                other => return Err(unsupported(&format!("COPY option {other}"))),
            }
        }
        let csv = copy.format == CopyFormat::Csv;
        copy.delimiter = ascii(delimiter.unwrap_or(if csv { ',' } else { '\t' }))?;
        copy.null = null.unwrap_or_else(|| if csv { String::new() } else { "\\N".to_owned() });
        if copy.header && copy.format != CopyFormat::Csv {
            return Err(unsupported("COPY HEADER outside CSV format"));
        }
        Ok(Some(copy))
    }

    /// Starts `df` (the planned query): its rows, fetched as the client reads them.
    pub async fn start(&self, df: DataFrame, options: Arc<FormatOptions>) -> PgWireResult<Started> {
        let wire_format = if self.format == CopyFormat::Binary { Format::UnifiedBinary } else { Format::UnifiedText };
        let (fields, rows) = encode::encode(df, &wire_format, Some(options)).await?;
        let header = self.header.then(|| fields.iter().map(|f| f.name().to_owned()).collect::<Vec<_>>());
        Ok(Started {
            framer: Framer { copy: self.clone(), started: false },
            columns: fields.len(),
            header,
            rows: Box::pin(rows),
        })
    }
}

/// Rows handed to the client per socket flush at most: those already
/// decoded go out together, and the socket is flushed whenever the scan
/// waits for Stripe, so a slow scan's first rows reach the client at once.
const ROWS_PER_FLUSH: usize = 1024;

/// A started COPY: its rows and how they are framed.
pub struct Started {
    framer: Framer,
    columns: usize,
    header: Option<Vec<String>>,
    rows: std::pin::Pin<Box<dyn Stream<Item = PgWireResult<DataRow>> + Send>>,
}

impl Started {
    /// Sends the whole COPY OUT to `client` (CopyOutResponse, the data, the
    /// binary trailer, CopyDone) and returns the rows sent; the caller
    /// answers with the `COPY n` tag. It runs inside the statement, which
    /// pgwire races against the client's cancel, so a cancel (or an error)
    /// drops the scan wherever it is and the client gets just the
    /// ErrorResponse (57014), as from Postgres.
    pub async fn send<C>(self, client: &mut C) -> PgWireResult<usize>
    where
        C: Sink<PgWireBackendMessage> + Unpin,
        C::Error: std::fmt::Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        let Self { mut framer, columns, header, rows } = self;
        let format: i8 = if framer.copy.format == CopyFormat::Binary { 1 } else { 0 };
        let response = CopyOutResponse::new(format, columns as i16, vec![i16::from(format); columns]);
        client.send(PgWireBackendMessage::CopyOutResponse(response)).await?;
        let mut sent = 0;
        let mut chunks = rows.ready_chunks(ROWS_PER_FLUSH);
        while let Some(chunk) = chunks.next().await {
            for row in chunk {
                let data = framer.frame(&row?, header.as_deref());
                client.feed(PgWireBackendMessage::CopyData(data)).await?;
                sent += 1;
            }
            client.flush().await?;
        }
        if let Some(last) = framer.finish(header.as_deref()) {
            client.feed(PgWireBackendMessage::CopyData(last)).await?;
        }
        client.send(PgWireBackendMessage::CopyDone(CopyDone::new())).await?;
        Ok(sent)
    }
}

fn ascii(c: char) -> PgWireResult<u8> {
    u8::try_from(c).ok().filter(u8::is_ascii).ok_or_else(|| unsupported(&format!("COPY character {c:?} (not ASCII)")))
}

fn unsupported(what: &str) -> pgwire::error::PgWireError {
    errors::user_error(
        "0A000",
        format!(
            "{what} is not supported; COPY … TO STDOUT takes FORMAT text, csv or binary, HEADER, DELIMITER, NULL and QUOTE"
        ),
    )
}

/// Turns encoded rows into COPY data messages.
struct Framer {
    copy: CopyOut,
    started: bool,
}

impl Framer {
    /// One row as a COPY data message; the first also carries the binary
    /// signature or the CSV header.
    fn frame(&mut self, row: &DataRow, header: Option<&[String]>) -> CopyData {
        let mut out = BytesMut::with_capacity(row.data.len() + 16);
        self.start(&mut out, header);
        if self.copy.format == CopyFormat::Binary {
            // A binary tuple is laid out as a DataRow's body.
            out.put_i16(row.field_count);
            out.put_slice(&row.data);
            return CopyData::new(out.freeze());
        }
        for (i, value) in fields(&row.data).enumerate() {
            if i > 0 {
                out.put_u8(self.copy.delimiter);
            }
            match value {
                None => out.put_slice(self.copy.null.as_bytes()),
                Some(v) if self.copy.format == CopyFormat::Csv => self.csv_value(&mut out, v),
                Some(v) => self.text_value(&mut out, v),
            }
        }
        out.put_u8(b'\n');
        CopyData::new(out.freeze())
    }

    /// Writes what comes before the first row (the binary signature, the
    /// CSV header), once.
    fn start(&mut self, out: &mut BytesMut, header: Option<&[String]>) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        if self.copy.format == CopyFormat::Binary {
            out.put_slice(b"PGCOPY\n\xFF\r\n\x00");
            out.put_i32(0);
            out.put_i32(0);
            return;
        }
        if let Some(names) = header {
            for (i, name) in names.iter().enumerate() {
                if i > 0 {
                    out.put_u8(self.copy.delimiter);
                }
                self.csv_value(out, name.as_bytes());
            }
            out.put_u8(b'\n');
        }
    }

    /// What follows the last row: the binary trailer (after the signature,
    /// should there have been no rows) or a header with no rows under it.
    fn finish(&mut self, header: Option<&[String]>) -> Option<CopyData> {
        let mut out = BytesMut::new();
        self.start(&mut out, header);
        if self.copy.format == CopyFormat::Binary {
            out.put_i16(-1);
        }
        (!out.is_empty()).then(|| CopyData::new(out.freeze()))
    }

    fn text_value(&self, out: &mut BytesMut, value: &[u8]) {
        for &b in value {
            match b {
                b'\\' => out.put_slice(b"\\\\"),
                b'\n' => out.put_slice(b"\\n"),
                b'\r' => out.put_slice(b"\\r"),
                b'\t' => out.put_slice(b"\\t"),
                _ if b == self.copy.delimiter => {
                    out.put_u8(b'\\');
                    out.put_u8(b);
                }
                _ => out.put_u8(b),
            }
        }
    }

    fn csv_value(&self, out: &mut BytesMut, value: &[u8]) {
        let quote = self.copy.quote;
        // An empty string must differ from NULL (written as nothing), as in Postgres.
        let needs = value.is_empty()
            || value == self.copy.null.as_bytes()
            || value.iter().any(|&b| b == self.copy.delimiter || b == quote || b == b'\n' || b == b'\r');
        if !needs {
            out.put_slice(value);
            return;
        }
        out.put_u8(quote);
        for &b in value {
            if b == quote {
                out.put_u8(quote);
            }
            out.put_u8(b);
        }
        out.put_u8(quote);
    }
}

/// The values of a DataRow body: each an i32 length (-1: NULL) and its bytes.
fn fields(mut data: &[u8]) -> impl Iterator<Item = Option<&[u8]>> {
    std::iter::from_fn(move || {
        if data.len() < 4 {
            return None;
        }
        let len = i32::from_be_bytes([data[0], data[1], data[2], data[3]]);
        data = &data[4..];
        if len < 0 {
            return Some(None);
        }
        let (value, rest) = data.split_at((len as usize).min(data.len()));
        data = rest;
        Some(Some(value))
    })
}

/// Bytes of a whole COPY text stream, for tests.
#[cfg(test)]
fn text_of(copy: &CopyOut, rows: &[Vec<Option<&str>>], header: Option<&[String]>) -> bytes::Bytes {
    let mut framer = Framer { copy: copy.clone(), started: false };
    let mut all = BytesMut::new();
    for row in rows {
        let mut data = BytesMut::new();
        for v in row {
            match v {
                None => data.put_i32(-1),
                Some(s) => {
                    data.put_i32(s.len() as i32);
                    data.put_slice(s.as_bytes());
                }
            }
        }
        let row = DataRow::new(data, row.len() as i16);
        all.put_slice(&framer.frame(&row, header).data);
    }
    if let Some(last) = framer.finish(header) {
        all.put_slice(&last.data);
    }
    all.freeze()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(sql: &str) -> Option<CopyOut> {
        let statement = Parser::parse_sql(&PostgreSqlDialect {}, sql).unwrap().remove(0);
        CopyOut::of(&statement).unwrap()
    }

    #[test]
    fn options_old_and_new_are_read() {
        let c = parse("COPY (SELECT 1) TO STDOUT WITH BINARY").unwrap();
        assert_eq!(c.format, CopyFormat::Binary);
        let c = parse("COPY (SELECT 1) TO STDOUT (FORMAT binary)").unwrap();
        assert_eq!(c.format, CopyFormat::Binary);
        let c = parse("COPY ( SELECT 1 ) TO STDOUT CSV HEADER").unwrap();
        assert_eq!((c.format, c.header, c.delimiter), (CopyFormat::Csv, true, b','));
        let c = parse("COPY customers (id, email) TO STDOUT").unwrap();
        assert_eq!((c.format, c.null.as_str()), (CopyFormat::Text, "\\N"));
        assert_eq!(c.query.to_string(), "SELECT id, email FROM customers");
        assert!(parse("SELECT 1").is_none());
    }

    #[test]
    fn text_and_csv_escape_like_postgres() {
        let text = parse("COPY (SELECT 1) TO STDOUT").unwrap();
        let out = text_of(&text, &[vec![Some("a\tb\\c\nd"), None]], None);
        assert_eq!(&out[..], b"a\\tb\\\\c\\nd\t\\N\n");
        let csv = parse("COPY (SELECT 1) TO STDOUT WITH (FORMAT csv, HEADER true)").unwrap();
        let header = ["id".to_owned(), "note".to_owned()];
        let out = text_of(&csv, &[vec![Some("1"), Some("say \"hi\", ok")], vec![Some(""), None]], Some(&header));
        assert_eq!(std::str::from_utf8(&out).unwrap(), "id,note\n1,\"say \"\"hi\"\", ok\"\n\"\",\n");
        assert_eq!(&text_of(&csv, &[], Some(&header))[..], b"id,note\n", "no rows: the header alone");
        assert!(text_of(&text, &[], None).is_empty());
    }

    #[test]
    fn binary_has_its_signature_and_trailer_even_without_rows() {
        let binary = parse("COPY (SELECT 1) TO STDOUT WITH BINARY").unwrap();
        let signature = b"PGCOPY\n\xFF\r\n\x00\0\0\0\0\0\0\0\0";
        let empty = text_of(&binary, &[], None);
        assert_eq!(&empty[..], [&signature[..], &[0xFF, 0xFF]].concat());
        let one = text_of(&binary, &[vec![Some("x")]], None);
        assert!(one.starts_with(signature) && one.ends_with(&[0xFF, 0xFF]));
        // field count 1, length 1, "x"
        assert_eq!(&one[signature.len()..one.len() - 2], &[0, 1, 0, 0, 0, 1, b'x']);
    }
}
