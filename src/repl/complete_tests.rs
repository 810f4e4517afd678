use super::*;

fn tables() -> Vec<TableInfo> {
    ["customers", "charges", "invoices"]
        .iter()
        .map(|n| TableInfo { name: n.to_string(), hint: String::new() })
        .collect()
}

fn functions() -> Vec<FunctionInfo> {
    vec![FunctionInfo {
        name: "capture_payment_intent".into(),
        arguments: "id text".into(),
        description: String::new(),
    }]
}

fn columns(table: &str) -> Option<Vec<ColumnInfo>> {
    let names: &[&str] = match table {
        "customers" => &["id", "email", "created"],
        "charges" => &["id", "amount", "customer"],
        _ => return None,
    };
    Some(
        names
            .iter()
            .map(|n| ColumnInfo {
                name: n.to_string(),
                data_type: "text".into(),
                arrow_type: "Utf8".into(),
                pushdown: String::new(),
                writable: String::new(),
            })
            .collect(),
    )
}

fn complete(buffer: &str) -> (usize, Vec<String>) {
    complete_at(buffer, buffer.len())
}

fn complete_at(buffer: &str, pos: usize) -> (usize, Vec<String>) {
    let (t, f) = (tables(), functions());
    candidates(buffer, pos, &Schema { tables: &t, functions: &f, columns: &columns })
}

#[test]
fn table_names_after_from_and_join() {
    assert_eq!(complete("select * from cu"), (14, vec!["customers".to_string()]));
    assert_eq!(complete("SELECT * FROM customers c JOIN ch").1, vec!["charges"]);
    assert_eq!(complete("select * from stripe.inv"), (21, vec!["invoices".to_string()]));
}

#[test]
fn columns_of_tables_in_the_statement_even_after_the_cursor() {
    let buffer = "select em from customers";
    assert_eq!(complete_at(buffer, 9).1, vec!["email"]);
    let (_, got) = complete("select * from charges where am");
    assert_eq!(got, vec!["amount"]);
}

#[test]
fn columns_after_table_or_alias_dot() {
    assert_eq!(complete("select customers.cr"), (17, vec!["created".to_string()]));
    assert_eq!(complete_at("select c.e from customers as c", 10), (9, vec!["email".to_string()]));
    assert_eq!(complete_at("select x.amo from customers c, charges x", 12).1, vec!["amount"]);
}

#[test]
fn keywords_follow_the_case_typed_and_functions_are_offered() {
    assert_eq!(complete("sel").1, vec!["select"]);
    assert_eq!(complete("SEL").1, vec!["SELECT"]);
    assert_eq!(complete("select capture_").1, vec!["capture_payment_intent"]);
    assert!(complete("select co").1.contains(&"count".to_string()));
}

#[test]
fn meta_commands_and_their_arguments() {
    assert_eq!(complete("\\d"), (0, vec!["\\d".to_string(), "\\df".to_string(), "\\dt".to_string()]));
    assert_eq!(complete("\\d cus"), (3, vec!["customers".to_string()]));
    assert_eq!(complete("\\format js").1, vec!["json"]);
    assert_eq!(complete("\\timing o").1, vec!["off", "on"]);
}

#[test]
fn referenced_tables_with_aliases() {
    let got =
        referenced_tables("select * from customers c join charges as ch on c.id = ch.customer, invoices", &tables());
    assert_eq!(
        got,
        vec![("customers".to_string(), Some("c".to_string())), ("charges".to_string(), Some("ch".to_string()))]
    );
    let got = referenced_tables("select * from customers, invoices i where 1=1", &tables());
    assert_eq!(got, vec![("customers".to_string(), None), ("invoices".to_string(), Some("i".to_string()))]);
}

#[test]
fn highlighting_keeps_the_text_and_marks_keywords() {
    let h = highlight_keywords("select 'from' from t");
    assert_eq!(h, "\x1b[1;34mselect\x1b[0m \x1b[32m'from'\x1b[0m \x1b[1;34mfrom\x1b[0m t");
}
