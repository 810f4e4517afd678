use super::*;

fn sql(text: &str, line: usize) -> Piece {
    Piece::Sql { text: text.to_string(), line }
}

fn meta(text: &str, line: usize) -> Piece {
    Piece::Meta { text: text.to_string(), line }
}

#[test]
fn splits_on_semicolons_and_keeps_unterminated_rest() {
    let s = split("select 1; select 2;\nselect\n  3");
    assert_eq!(s.pieces, vec![sql("select 1", 1), sql("select 2", 1)]);
    assert_eq!(s.rest, "select\n  3");
    assert_eq!(s.rest_line, 2);
}

#[test]
fn semicolons_inside_strings_identifiers_and_comments_do_not_split() {
    let input = "select 'a;b', \"c;d\" -- e;f\n/* g; /* nested; */ h; */ from t;";
    let s = split(input);
    assert_eq!(s.pieces.len(), 1, "{s:?}");
    assert_eq!(s.pieces[0], sql(input.trim_end_matches(';'), 1));
    assert!(s.rest.is_empty());
}

#[test]
fn doubled_quote_inside_string_stays_in_string() {
    let s = split("select 'it''s;' ; select 2;");
    assert_eq!(s.pieces, vec![sql("select 'it''s;'", 1), sql("select 2", 1)]);
}

#[test]
fn empty_statements_and_comment_only_input_are_dropped() {
    let s = split(";;  -- nothing here\n/* nor here */ ;");
    assert!(s.pieces.is_empty());
    assert!(s.rest.is_empty());
    assert!(is_complete("-- only a comment"));
}

#[test]
fn meta_commands_at_statement_start_take_the_line() {
    let s = split("\\dt\nselect 1;\n  \\d customers\n\\format csv\nselect 2;");
    assert_eq!(
        s.pieces,
        vec![
            meta("\\dt", 1),
            sql("select 1", 2),
            meta("\\d customers", 3),
            meta("\\format csv", 4),
            sql("select 2", 5)
        ]
    );
}

#[test]
fn backslash_inside_a_statement_is_not_a_meta_command() {
    let s = split("select '\\dt',\n 1;");
    assert_eq!(s.pieces, vec![sql("select '\\dt',\n 1", 1)]);
}

#[test]
fn open_string_or_comment_is_incomplete() {
    assert!(!is_complete("select 'abc;"));
    assert!(!is_complete("/* select 1;"));
    assert!(!is_complete("select 1"));
    assert!(is_complete("select 1;"));
    assert!(is_complete("select 1; -- trailing comment"));
    assert!(is_complete("\\dt"));
}

#[test]
fn line_numbers_follow_newlines_and_skip_leading_comments() {
    let s = split("-- header\n\nselect 1\n;\n\n  select 2;");
    assert_eq!(s.pieces, vec![sql("select 1", 3), sql("select 2", 6)]);
}
