//! Which accounts a scan calls under `stripe.accounts` (Connect): the setting
//! (`'all'` or a list of `acct_…`) narrowed by the query's filters on the
//! `account` column. Pure, like the rest of `pushdown`: `account = 'acct_1'`,
//! `account IN (…)` and ORs of them are exact (only those accounts are called);
//! any other filter naming `account` is left to DataFusion, and filters on
//! other columns go to each account's own scan.

use std::collections::BTreeSet;

use datafusion::common::ScalarValue;
use datafusion::logical_expr::{Expr, Operator, TableProviderFilterPushDown};

/// The column every table gains under `stripe.accounts`.
pub const ACCOUNT_COLUMN: &str = "account";
/// Its name in a table that has an `account` column of its own (an account's
/// capabilities, persons and external accounts, a customer's bank accounts),
/// after the `Stripe-Account` header it stands for.
pub const OWN_ACCOUNT_COLUMN: &str = "stripe_account";

/// The name of the column `stripe.accounts` adds to `def`.
pub fn account_column(def: &crate::catalog::TableDef) -> &'static str {
    if def.column(ACCOUNT_COLUMN).is_some() { OWN_ACCOUNT_COLUMN } else { ACCOUNT_COLUMN }
}

/// The added account column among `names` (a batch's or plan's columns):
/// [`OWN_ACCOUNT_COLUMN`] where present, else [`ACCOUNT_COLUMN`].
pub fn routing_column<'a>(mut names: impl Iterator<Item = &'a str>) -> &'static str {
    if names.any(|n| n == OWN_ACCOUNT_COLUMN) { OWN_ACCOUNT_COLUMN } else { ACCOUNT_COLUMN }
}

/// A set of accounts to call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountSet {
    /// The platform and every connected account (`GET /v1/accounts`, paged).
    All,
    /// Exactly these accounts, in order.
    Only(BTreeSet<String>),
}

impl AccountSet {
    /// `stripe.accounts`: empty means off (`None`); `all`; or a comma-separated
    /// list of `acct_…` ids.
    pub fn parse(setting: &str) -> Result<Option<AccountSet>, String> {
        let text = setting.trim().trim_matches('\'').trim();
        if text.is_empty() || text.eq_ignore_ascii_case("none") || text.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        if text.eq_ignore_ascii_case("all") {
            return Ok(Some(AccountSet::All));
        }
        let ids: BTreeSet<String> = text.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect();
        match ids.iter().find(|id| !valid_account(id)) {
            Some(bad) => Err(format!("stripe.accounts takes 'all' or a list of acct_… ids, not {bad:?}")),
            None => Ok(Some(AccountSet::Only(ids))),
        }
    }

    /// The accounts in both sets.
    pub fn intersect(&self, other: &AccountSet) -> AccountSet {
        match (self, other) {
            (AccountSet::All, x) | (x, AccountSet::All) => x.clone(),
            (AccountSet::Only(a), AccountSet::Only(b)) => AccountSet::Only(a.intersection(b).cloned().collect()),
        }
    }
}

/// Whether `id` looks like a Stripe account id.
pub fn valid_account(id: &str) -> bool {
    id.strip_prefix("acct_").is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The pushdown decision for the `account` column of one scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountPushdown {
    /// The accounts to call.
    pub accounts: AccountSet,
    /// Per input filter: `Some(support)` when the filter names `account` (and is
    /// decided here), `None` when it is the account's own scan's to decide.
    pub support: Vec<Option<TableProviderFilterPushDown>>,
}

/// Decides which of `configured`'s accounts a scan with `filters` calls,
/// `column` being the table's added account column ([`account_column`]).
pub fn plan(configured: &AccountSet, filters: &[Expr], column: &str) -> AccountPushdown {
    let mut accounts = configured.clone();
    let support = filters
        .iter()
        .map(|f| {
            if !names_account(f, column) {
                return None;
            }
            Some(match exact_ids(f, column) {
                Some(ids) => {
                    accounts = accounts.intersect(&AccountSet::Only(ids));
                    TableProviderFilterPushDown::Exact
                }
                None => TableProviderFilterPushDown::Unsupported,
            })
        })
        .collect();
    AccountPushdown { accounts, support }
}

/// Whether `expr` mentions the account `column`.
pub fn names_account(expr: &Expr, column: &str) -> bool {
    expr.column_refs().iter().any(|c| c.name == column)
}

/// The ids an `account = …` / `IN (…)` / OR filter admits exactly (`None`
/// when the filter has another shape).
fn exact_ids(expr: &Expr, column: &str) -> Option<BTreeSet<String>> {
    match expr {
        Expr::BinaryExpr(b) if b.op == Operator::Eq => {
            let id = match (is_account(&b.left, column), is_account(&b.right, column)) {
                (true, false) => text(&b.right)?,
                (false, true) => text(&b.left)?,
                _ => return None,
            };
            Some(BTreeSet::from([id]))
        }
        Expr::BinaryExpr(b) if b.op == Operator::Or => {
            let mut ids = exact_ids(&b.left, column)?;
            ids.extend(exact_ids(&b.right, column)?);
            Some(ids)
        }
        Expr::InList(list) if !list.negated && is_account(&list.expr, column) => {
            list.list.iter().map(text).collect::<Option<BTreeSet<String>>>()
        }
        _ => None,
    }
}

fn is_account(expr: &Expr, column: &str) -> bool {
    match expr {
        Expr::Column(c) => c.name == column,
        Expr::Cast(c) => is_account(&c.expr, column),
        _ => false,
    }
}

fn text(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Literal(
            ScalarValue::Utf8(Some(s)) | ScalarValue::Utf8View(Some(s)) | ScalarValue::LargeUtf8(Some(s)),
            _,
        ) => Some(s.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::{col, lit};

    fn only(ids: &[&str]) -> AccountSet {
        AccountSet::Only(ids.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn the_setting_is_all_a_list_or_off() {
        assert_eq!(AccountSet::parse(""), Ok(None));
        assert_eq!(AccountSet::parse("'all'"), Ok(Some(AccountSet::All)));
        assert_eq!(AccountSet::parse("acct_1, acct_2,"), Ok(Some(only(&["acct_1", "acct_2"]))));
        assert!(AccountSet::parse("acct_1,cus_2").unwrap_err().contains("cus_2"));
    }

    #[test]
    fn equality_in_and_or_choose_the_accounts_and_are_exact() {
        let eq = col("account").eq(lit("acct_b"));
        let p = plan(&AccountSet::All, &[eq.clone(), col("amount").gt(lit(5))], ACCOUNT_COLUMN);
        assert_eq!(p.accounts, only(&["acct_b"]));
        assert_eq!(p.support, vec![Some(TableProviderFilterPushDown::Exact), None]);
        let list = col("account").in_list(vec![lit("acct_a"), lit("acct_c")], false);
        assert_eq!(
            plan(&AccountSet::All, std::slice::from_ref(&list), ACCOUNT_COLUMN).accounts,
            only(&["acct_a", "acct_c"])
        );
        // Two filters intersect; the setting bounds what a filter may add.
        assert_eq!(plan(&AccountSet::All, &[list.clone(), eq.clone()], ACCOUNT_COLUMN).accounts, only(&[]));
        assert_eq!(plan(&only(&["acct_a", "acct_b"]), &[list], ACCOUNT_COLUMN).accounts, only(&["acct_a"]));
        let or = col("account").eq(lit("acct_a")).or(lit("acct_z").eq(col("account")));
        assert_eq!(plan(&AccountSet::All, &[or], ACCOUNT_COLUMN).accounts, only(&["acct_a", "acct_z"]));
    }

    #[test]
    fn a_table_with_its_own_account_column_gets_stripe_account() {
        let catalog = crate::catalog::builtin();
        let column = |t: &str| account_column(catalog.table(t).expect("table"));
        assert_eq!((column("charges"), column("account_capabilities")), (ACCOUNT_COLUMN, OWN_ACCOUNT_COLUMN));
        // The table's own `account` is then an ordinary filter, not the routing.
        let own = col("account").eq(lit("acct_a"));
        let p = plan(&AccountSet::All, std::slice::from_ref(&own), OWN_ACCOUNT_COLUMN);
        assert_eq!((p.accounts, p.support), (AccountSet::All, vec![None]));
        let routed = col(OWN_ACCOUNT_COLUMN).eq(lit("acct_a"));
        assert_eq!(plan(&AccountSet::All, &[routed], OWN_ACCOUNT_COLUMN).accounts, only(&["acct_a"]));
        let names = ["id", "account", OWN_ACCOUNT_COLUMN];
        assert_eq!(routing_column(names.into_iter()), OWN_ACCOUNT_COLUMN);
        assert_eq!(routing_column(["id", "account"].into_iter()), ACCOUNT_COLUMN);
    }

    #[test]
    fn other_filters_on_account_are_left_to_datafusion_and_call_every_account() {
        for f in [
            col("account").not_eq(lit("acct_a")),
            col("account").in_list(vec![lit("acct_a")], true),
            col("account").eq(lit("acct_a")).or(col("amount").gt(lit(1))),
            col("account").like(lit("acct_%")),
        ] {
            let p = plan(&AccountSet::All, std::slice::from_ref(&f), ACCOUNT_COLUMN);
            assert_eq!(p.accounts, AccountSet::All, "{f}");
            assert_eq!(p.support, vec![Some(TableProviderFilterPushDown::Unsupported)], "{f}");
        }
    }
}
