use super::*;
use datafusion::sql::parser::DFParser;

/// The statement `sql` after the passes, as SQL again.
fn passed(sql: &str) -> Prepared {
    let mut statements = DFParser::parse_sql(sql).expect("parses");
    assert_eq!(statements.len(), 1, "{sql}");
    apply(statements.pop_front().expect("one statement"))
}

fn rw(sql: &str) -> String {
    passed(sql).statement.to_string()
}

#[test]
fn named_arguments_move_into_a_named_struct() {
    assert_eq!(
        rw("SELECT * FROM capture_payment_intent('pi_1', amount_to_capture => 500)"),
        "SELECT * FROM capture_payment_intent('pi_1', named_struct('amount_to_capture', 500))"
    );
    assert_eq!(
        rw("select id from attach_payment_method('pm_1',\n  customer => 'cus_1', metadata => MAP {'a': 'b'})"),
        "SELECT id FROM attach_payment_method('pm_1', named_struct('customer', 'cus_1', 'metadata', MAP {'a': 'b'}))"
    );
}

#[test]
fn strings_comments_and_other_functions_are_left_alone() {
    let untouched = [
        "SELECT 'capture_payment_intent(''pi'', x => 1)' AS s",
        "SELECT * FROM some_udtf('a', x => 1)",
        "SELECT * FROM capture_payment_intent('pi_1')",
        "SELECT * FROM capture_payment_intent('pi_1', '{\"amount_to_capture\": 5}')",
    ];
    for sql in untouched {
        assert_eq!(rw(sql), sql);
    }
    assert_eq!(rw("SELECT 1 -- capture_payment_intent('pi', x => 1)\n"), "SELECT 1");
}

#[test]
fn nested_expressions_mixed_case_names_and_explain() {
    assert_eq!(
        rw(
            "SELECT * FROM Capture_Payment_Intent(('pi_' || '1'), amount_to_capture => (200 + 300), metadata => named_struct('k', 'v'))"
        ),
        "SELECT * FROM Capture_Payment_Intent(('pi_' || '1'), named_struct('amount_to_capture', (200 + 300), 'metadata', named_struct('k', 'v')))"
    );
    assert!(
        rw("EXPLAIN SELECT * FROM cancel_payment_intent('pi_1', cancellation_reason => 'duplicate')")
            .contains("cancel_payment_intent('pi_1', named_struct('cancellation_reason', 'duplicate'))")
    );
}

#[test]
fn returning_is_split_off_write_statements_only() {
    let r = passed("INSERT INTO customers (email) VALUES ('a') RETURNING id, email").returning.expect("returning");
    assert_eq!(r.items, "id, email");
    assert!(!r.statement.to_lowercase().contains("returning"), "{}", r.statement);
    let p = passed("DELETE FROM customers WHERE id = 'x' RETURNING *");
    assert_eq!(p.returning.expect("returning").items, "*");
    assert!(!p.statement.to_string().to_lowercase().contains("returning"), "the planned statement has none left");
    assert!(passed("UPDATE customers SET name = 'n' WHERE id = 'x'").returning.is_none());
    assert!(passed("SELECT 1").returning.is_none());
    let r = passed("INSERT INTO customers (metadata) VALUES (MAP {'a': 'b'}) RETURNING metadata['a']")
        .returning
        .expect("returning");
    assert!(r.statement.contains("MAP {'a': 'b'}"), "{}", r.statement);
    assert_eq!(r.items, "metadata['a']");
}
