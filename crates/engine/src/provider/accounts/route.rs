//! Where a write or an action goes under `stripe.accounts`: each row, id or
//! call names its account (the `account` column, `account => 'acct_…'`), which
//! must be one of the selected accounts, and is sent as that account
//! (`Stripe-Account`; the platform's own rows without the header). Planning
//! only checks what it can without a call; the target accounts are checked
//! against the selection (listing the connected accounts under `'all'`) when
//! the statement runs, before anything is sent.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::catalog::Session;
use datafusion::error::{DataFusionError, Result};
use tokio::sync::OnceCell;

use super::Fanout;
use crate::pushdown::accounts::{AccountSet, valid_account};
use crate::settings::StripeOptions;
use crate::stripe;

/// The account routing of one write statement or action.
#[derive(Debug)]
pub struct Routing {
    fanout: Arc<Fanout>,
    selected: AccountSet,
    /// The platform's id and, under `'all'`, every connected account's (asked once).
    known: OnceCell<(String, Option<BTreeSet<String>>)>,
}

impl Routing {
    /// The session's routing: `None` when `stripe.accounts` is off.
    pub fn of_session(state: &dyn Session) -> Result<Option<Arc<Routing>>> {
        let options = StripeOptions::from_session(state);
        let Some(selected) = AccountSet::parse(&options.accounts).map_err(DataFusionError::Plan)? else {
            return Ok(None);
        };
        let fanout = state.config().get_extension::<Fanout>().ok_or_else(|| {
            DataFusionError::Plan(
                "stripe.accounts is set but this session has no account fan-out (build it with Engine)".into(),
            )
        })?;
        Ok(Some(Arc::new(Routing { fanout, selected, known: OnceCell::new() })))
    }

    /// The account a row or call without one goes to: the selection's only
    /// account, or an error naming what to add (`what`: `insert into customers`).
    pub fn default_account(&self, what: &str, how: &str) -> Result<String> {
        match &self.selected {
            AccountSet::Only(ids) if ids.len() == 1 => Ok(ids.iter().next().cloned().unwrap_or_default()),
            AccountSet::Only(ids) => Err(DataFusionError::Plan(format!(
                "{what}: stripe.accounts selects {} accounts, so say which one: {how} (one of {})",
                ids.len(),
                ids.iter().cloned().collect::<Vec<_>>().join(", ")
            ))),
            AccountSet::All => Err(DataFusionError::Plan(format!(
                "{what}: stripe.accounts = 'all' selects every account, so say which one: {how}"
            ))),
        }
    }

    /// Checks the shape of `account` and, for a list selection, that it is
    /// selected (no call; `'all'` is checked by [`Self::check_selected`]).
    pub fn check_shape(&self, what: &str, account: &str) -> Result<()> {
        if !valid_account(account) {
            return Err(DataFusionError::Plan(format!("{what}: {account:?} is not an account id (acct_…)")));
        }
        if let AccountSet::Only(ids) = &self.selected
            && !ids.contains(account)
        {
            return Err(not_selected(what, account, &self.selected));
        }
        Ok(())
    }

    /// Checks that every one of `accounts` is selected: under `'all'`, the
    /// platform or one of its connected accounts (listed once, here).
    pub async fn check_selected<'a>(&self, what: &str, accounts: impl IntoIterator<Item = &'a str>) -> Result<()> {
        let accounts: Vec<&str> = accounts.into_iter().collect();
        for account in &accounts {
            self.check_shape(what, account)?;
        }
        if self.selected != AccountSet::All || accounts.is_empty() {
            return Ok(());
        }
        let (platform, connected) = self.known().await?;
        for account in accounts {
            if account != platform && !connected.as_ref().is_some_and(|c| c.contains(account)) {
                return Err(not_selected(what, account, &self.selected));
            }
        }
        Ok(())
    }

    /// The client that acts as `account` (the platform's own client for the platform).
    pub async fn client(&self, account: &str) -> Result<stripe::Client> {
        let platform = self.fanout.platform().await?;
        Ok(self.fanout.client_for(account, &platform))
    }

    async fn known(&self) -> Result<&(String, Option<BTreeSet<String>>)> {
        self.known
            .get_or_try_init(|| async {
                let platform = self.fanout.platform().await?;
                let connected = match self.selected {
                    AccountSet::All => Some(self.fanout.all_accounts().await?),
                    AccountSet::Only(_) => None,
                };
                Ok::<_, DataFusionError>((platform, connected))
            })
            .await
    }
}

fn not_selected(what: &str, account: &str, selected: &AccountSet) -> DataFusionError {
    let which = match selected {
        AccountSet::All => "the platform or one of its connected accounts".to_string(),
        AccountSet::Only(ids) => format!("one of {}", ids.iter().cloned().collect::<Vec<_>>().join(", ")),
    };
    DataFusionError::Plan(format!(
        "{what}: account {account} is not one of the accounts stripe.accounts selects ({which}); nothing was sent"
    ))
}
