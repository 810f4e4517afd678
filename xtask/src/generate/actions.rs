//! Custom POST endpoints (`/v1/x/{id}/verb`) → `ActionDef`s, plus the
//! hand-made actions of the overrides (cancel_subscription, refund_charge, …).

use super::naming::{action_name, segments, with_id_placeholder};
use super::overrides::{ExtraAction, Overrides};
use super::params::body_params;
use super::spec::{Operation, Spec, is_param};
use stripe_catalog::model::{ActionDef, TableDef};

/// Every action, sorted by name; fails on duplicate names.
pub fn build_actions(spec: &Spec<'_>, overrides: &Overrides, tables: &[TableDef]) -> Result<Vec<ActionDef>, String> {
    let mut actions = Vec::new();
    for path in spec.paths() {
        if !is_action_path(spec, path) || overrides.skip_actions.iter().any(|s| s == path) {
            continue;
        }
        let Some(op) = spec.operation(path, "post") else { continue };
        let (verb, name) = match overrides.action_names.get(path) {
            Some((verb, name)) => (verb.clone(), name.clone()),
            None => action_name(path).ok_or_else(|| format!("cannot name action {path}"))?,
        };
        let returns = returns_of(spec, &op);
        actions.push(ActionDef {
            result_table: result_table(tables, &returns),
            params: spec.body_schema(&op).map(|b| body_params(spec, b)).unwrap_or_default(),
            method: "POST".to_string(),
            path: with_id_placeholder(path),
            id_param: None,
            returns,
            verb,
            name,
        });
    }
    for extra in &overrides.extra_actions {
        actions.push(extra_action(spec, extra, tables)?);
    }
    actions.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = actions.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(format!("two actions are named {}", w[0].name));
    }
    Ok(actions)
}

/// `POST /v1/x/{id}/verb` (or `/{id}/sub/verb`) with exactly one id, no GET on
/// the same path (that would be a nested collection), outside test helpers.
fn is_action_path(spec: &Spec<'_>, path: &str) -> bool {
    let segs = segments(path);
    let params: Vec<usize> = segs.iter().enumerate().filter(|(_, s)| is_param(s)).map(|(i, _)| i).collect();
    let [i] = params.as_slice() else { return false };
    let trailing = segs.len() - i - 1;
    !path.starts_with("/v1/test_helpers/")
        && (1..=2).contains(&trailing)
        && spec.operation(path, "get").is_none()
        && spec.operation(path, "post").is_some()
}

/// The object type a 200 response carries (`a|b` when polymorphic).
fn returns_of(spec: &Spec<'_>, op: &Operation<'_>) -> String {
    let schema = &op.op["responses"]["200"]["content"]["application/json"]["schema"];
    let names = spec.ref_names(schema);
    let mut objects: Vec<String> = names.iter().map(|n| spec.object_type(n)).collect();
    objects.dedup();
    objects.join("|")
}

/// The top-level table whose rows are the returned object, if any.
fn result_table(tables: &[TableDef], returns: &str) -> Option<String> {
    let mut candidates: Vec<&TableDef> = tables.iter().filter(|t| t.object == returns).collect();
    candidates.sort_by_key(|t| (t.parent.is_some(), t.name.clone()));
    candidates.first().map(|t| t.name.clone())
}

fn extra_action(spec: &Spec<'_>, extra: &ExtraAction, tables: &[TableDef]) -> Result<ActionDef, String> {
    let (method, source) = &extra.params_from;
    let op = spec
        .paths()
        .into_iter()
        .find(|p| p == source)
        .and_then(|p| spec.operation(p, &method.to_lowercase()))
        .ok_or_else(|| format!("override action {} refers to missing {method} {source}", extra.name))?;
    let mut params = spec.body_schema(&op).map(|b| body_params(spec, b)).unwrap_or_default();
    if let Some(id_param) = &extra.id_param {
        if !params.iter().any(|p| &p.name == id_param) {
            return Err(format!("override action {} sends id as {id_param}, which {source} lacks", extra.name));
        }
        params.retain(|p| &p.name != id_param);
    }
    let returns = returns_of(spec, &op);
    Ok(ActionDef {
        name: extra.name.clone(),
        verb: extra.verb.clone(),
        method: extra.method.clone(),
        path: extra.path.clone(),
        id_param: extra.id_param.clone(),
        result_table: result_table(tables, &returns),
        returns,
        params,
    })
}
