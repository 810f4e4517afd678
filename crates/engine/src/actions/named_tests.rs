use super::*;

fn rw(sql: &str) -> String {
    rewrite_sql(sql)
}

#[test]
fn named_arguments_move_into_a_named_struct() {
    assert_eq!(
        rw("SELECT * FROM capture_payment_intent('pi_1', amount_to_capture => 500)"),
        "SELECT * FROM capture_payment_intent('pi_1', named_struct('amount_to_capture', 500))"
    );
    assert_eq!(
        rw("select id from attach_payment_method('pm_1',\n  customer => 'cus_1', metadata => MAP {'a': 'b'})"),
        "select id from attach_payment_method('pm_1', named_struct('customer', 'cus_1', 'metadata', MAP {'a': 'b'}))"
    );
}

#[test]
fn strings_comments_and_other_functions_are_left_alone() {
    let untouched = [
        "SELECT 'capture_payment_intent(''pi'', x => 1)' AS s",
        "SELECT 1 -- capture_payment_intent('pi', x => 1)\n",
        "SELECT * FROM some_udtf('a', x => 1)",
        "SELECT * FROM capture_payment_intent('pi_1')",
        "SELECT * FROM capture_payment_intent('pi_1', '{\"amount_to_capture\": 5}')",
    ];
    for sql in untouched {
        assert_eq!(rw(sql), sql);
    }
}

#[test]
fn multibyte_text_before_the_call_keeps_offsets_right() {
    assert_eq!(
        rw("SELECT 'é€', * FROM cancel_payment_intent('pi_1', cancellation_reason => 'duplicate')"),
        "SELECT 'é€', * FROM cancel_payment_intent('pi_1', named_struct('cancellation_reason', 'duplicate'))"
    );
}

#[test]
fn nested_parentheses_and_mixed_case_names() {
    assert_eq!(
        rw(
            "SELECT * FROM Capture_Payment_Intent(('pi_' || '1'), amount_to_capture => (200 + 300), metadata => named_struct('k', 'v'))"
        ),
        "SELECT * FROM Capture_Payment_Intent(('pi_' || '1'), named_struct('amount_to_capture', (200 + 300), 'metadata', named_struct('k', 'v')))"
    );
}

#[test]
fn unterminated_text_is_returned_unchanged() {
    let sql = "SELECT * FROM capture_payment_intent('pi_1, x => 1)";
    assert_eq!(rw(sql), sql);
}
