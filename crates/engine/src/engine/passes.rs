//! The AST passes every statement gets between parsing and planning, in one
//! place (DataFusion 55 refuses what they rewrite):
//!
//! - **named action arguments**: in a call of an action, every `name => value`
//!   argument moves into one trailing `named_struct('name', value, …)`
//!   argument, which DataFusion constant-folds into the struct the action
//!   reads as its parameters
//!   (`capture_payment_intent('pi_1', amount_to_capture => 500)` →
//!   `capture_payment_intent('pi_1', named_struct('amount_to_capture', 500))`);
//! - **RETURNING**: split off an INSERT/UPDATE/DELETE, to be evaluated over the
//!   objects Stripe returns ([`crate::dml::returning`]).
//!
//! The front ends' own dialect fixes (the Postgres server's catalog queries)
//! run before parsing, in the server.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    Expr, Function, FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, Ident, ObjectName,
    ObjectNamePart, TableFactor, Value, VisitMut, VisitorMut,
};

use crate::catalog;
use crate::dml::returning::{self, Returning};

/// A parsed statement after the passes.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// What DataFusion plans.
    pub statement: DFStatement,
    /// The RETURNING list split off a write, if it had one.
    pub returning: Option<Returning>,
}

/// Applies every pass to `statement`.
pub fn apply(statement: DFStatement) -> Prepared {
    apply_with(statement, &|name| catalog::builtin().action(name).is_some())
}

/// [`apply`], with `is_action` telling which functions take named arguments.
pub fn apply_with(mut statement: DFStatement, is_action: &dyn Fn(&str) -> bool) -> Prepared {
    named_arguments(&mut statement, is_action);
    let returning = match &mut statement {
        DFStatement::Statement(inner) => returning::take(inner),
        _ => None,
    };
    Prepared { statement, returning }
}

/// The named-arguments pass alone (also inside EXPLAIN); whether it changed anything.
pub fn named_arguments(statement: &mut DFStatement, is_action: &dyn Fn(&str) -> bool) -> bool {
    let mut named = NamedArguments { is_action, changed: false };
    match statement {
        DFStatement::Statement(inner) => {
            let _ = inner.visit(&mut named);
        }
        DFStatement::Explain(explain) => {
            if let DFStatement::Statement(inner) = explain.statement.as_mut() {
                let _ = inner.visit(&mut named);
            }
        }
        _ => {}
    }
    named.changed
}

/// Rewrites the named arguments of action calls, in FROM and in expressions.
struct NamedArguments<'a> {
    is_action: &'a dyn Fn(&str) -> bool,
    changed: bool,
}

impl NamedArguments<'_> {
    fn names_an_action(&self, name: &ObjectName) -> bool {
        let Some(ObjectNamePart::Identifier(ident)) = name.0.last() else { return false };
        let name = if ident.quote_style.is_some() { ident.value.clone() } else { ident.value.to_ascii_lowercase() };
        (self.is_action)(&name)
    }
}

impl VisitorMut for NamedArguments<'_> {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &mut TableFactor) -> ControlFlow<()> {
        match factor {
            TableFactor::Table { name, args: Some(args), .. } if self.names_an_action(name) => {
                self.changed |= gather_named(&mut args.args)
            }
            TableFactor::Function { name, args, .. } if self.names_an_action(name) => {
                self.changed |= gather_named(args)
            }
            _ => {}
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::Function(function) = expr
            && self.names_an_action(&function.name)
            && let FunctionArguments::List(list) = &mut function.args
        {
            self.changed |= gather_named(&mut list.args);
        }
        ControlFlow::Continue(())
    }
}

/// Moves the named arguments of `args` into one trailing `named_struct`;
/// whether there were any.
fn gather_named(args: &mut Vec<FunctionArg>) -> bool {
    let named_arg = |arg: &FunctionArg| match arg {
        FunctionArg::Named { name, arg: FunctionArgExpr::Expr(value), .. } => Some((name.value.clone(), value.clone())),
        FunctionArg::ExprNamed { name: Expr::Identifier(name), arg: FunctionArgExpr::Expr(value), .. } => {
            Some((name.value.clone(), value.clone()))
        }
        _ => None,
    };
    if !args.iter().any(|a| named_arg(a).is_some()) {
        return false;
    }
    let mut fields = Vec::new();
    let mut positional = Vec::new();
    for arg in args.drain(..) {
        match named_arg(&arg) {
            Some((name, value)) => {
                fields.push(unnamed(Expr::value(Value::SingleQuotedString(name))));
                fields.push(unnamed(value));
            }
            None => positional.push(arg),
        }
    }
    positional.push(unnamed(Expr::Function(Function {
        name: ObjectName::from(vec![Ident::new("named_struct")]),
        uses_odbc_syntax: false,
        parameters: FunctionArguments::None,
        args: FunctionArguments::List(FunctionArgumentList {
            duplicate_treatment: None,
            args: fields,
            clauses: vec![],
        }),
        filter: None,
        null_treatment: None,
        over: None,
        within_group: vec![],
    })));
    *args = positional;
    true
}

fn unnamed(expr: Expr) -> FunctionArg {
    FunctionArg::Unnamed(FunctionArgExpr::Expr(expr))
}

#[cfg(test)]
#[path = "passes_tests.rs"]
mod tests;
