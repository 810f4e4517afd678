//! Error messages of failed statements made readable: DataFusion's wrapping
//! of engine errors is dropped, parser errors read as syntax errors with their
//! position, and an unknown table gets the nearest table names (DataFusion
//! already suggests near column names; it does not for tables).

use super::backend::TableInfo;
use super::describe::nearest_tables;

/// `message` made readable, plus a hint when it is about something the REPL can
/// suggest a fix for: an unknown table gets the nearest table names (or a pointer to `\dt`).
pub fn with_hint(message: String, tables: &[TableInfo]) -> String {
    let message = readable(message);
    let Some(name) = missing_table(&message) else {
        return message;
    };
    let near = nearest_tables(name, tables);
    let hint = if near.is_empty() {
        "\\dt lists the tables".to_string()
    } else {
        format!("did you mean {}?", near.join(", "))
    };
    format!("{message}; {hint}")
}

/// Drops DataFusion's `External error: ` wrapping (the engine's own message
/// follows it) and turns `SQL error: ParserError("…")` into `syntax error: …`.
fn readable(message: String) -> String {
    let mut text = message.as_str();
    while let Some(rest) = text.strip_prefix("External error: ") {
        text = rest;
    }
    if let Some(inner) = text.strip_prefix("SQL error: ParserError(\"").and_then(|r| r.strip_suffix("\")")) {
        return format!("syntax error: {}", inner.replace("\\\"", "\""));
    }
    text.to_string()
}

/// The table name of DataFusion's "table 'catalog.schema.name' not found", without qualifiers.
fn missing_table(message: &str) -> Option<&str> {
    let start = message.find("table '")? + "table '".len();
    let rest = &message[start..];
    let end = rest.find("' not found")?;
    let qualified = &rest[..end];
    Some(qualified.rsplit('.').next().unwrap_or(qualified))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> Vec<TableInfo> {
        ["customers", "charges", "invoices"]
            .iter()
            .map(|n| TableInfo { name: n.to_string(), hint: String::new() })
            .collect()
    }

    #[test]
    fn unknown_table_gets_the_nearest_names() {
        let message = "Error during planning: table 'datafusion.stripe.custmers' not found".to_string();
        assert_eq!(with_hint(message.clone(), &tables()), format!("{message}; did you mean customers?"));
    }

    #[test]
    fn unknown_table_without_near_names_points_to_dt() {
        let message = "Error during planning: table 'datafusion.stripe.zzzzzzzzzzzz' not found".to_string();
        assert_eq!(with_hint(message.clone(), &tables()), format!("{message}; \\dt lists the tables"));
    }

    #[test]
    fn engine_and_parser_errors_lose_their_wrapping() {
        let external = "External error: could not reach stripe at http://127.0.0.1:1".to_string();
        assert_eq!(with_hint(external, &tables()), "could not reach stripe at http://127.0.0.1:1");
        let parser = r#"SQL error: ParserError("Expected: an SQL statement, found: \"selec\" at Line: 1, Column: 1")"#
            .to_string();
        assert_eq!(
            with_hint(parser, &tables()),
            r#"syntax error: Expected: an SQL statement, found: "selec" at Line: 1, Column: 1"#
        );
    }

    #[test]
    fn other_errors_are_unchanged() {
        let message = "Schema error: No field named emial.".to_string();
        assert_eq!(with_hint(message.clone(), &tables()), message);
    }
}
