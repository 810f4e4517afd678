//! How `\df` shows an action: its arguments with SQL-ish types and required
//! flags, and a one-line description of the endpoint and result.

use crate::catalog::{ActionDef, ParamType};

/// `(id text | text[] | (SELECT id …), amount_to_capture => bigint, …)`;
/// required parameters are marked `required`.
pub fn arguments(def: &ActionDef) -> String {
    let id = match &def.id_param {
        Some(param) => format!("{param} id"),
        None => "id".to_string(),
    };
    let mut args = vec![format!("{id} text | text[] | (SELECT id …)")];
    let (required, optional): (Vec<_>, Vec<_>) = def.params.iter().partition(|p| p.required);
    for p in required.into_iter().chain(optional) {
        let flag = if p.required { " required" } else { "" };
        args.push(format!("{} => {}{flag}", p.name, type_name(&p.ty)));
    }
    format!("({})", args.join(", "))
}

/// `POST /v1/payment_intents/{id}/capture → payment_intents rows`.
pub fn description(def: &ActionDef) -> String {
    let rows = match &def.result_table {
        Some(t) => format!("{t} rows"),
        None => format!("{} (id, object, _raw)", def.returns),
    };
    let id = match &def.id_param {
        Some(p) => format!(" ({p}=id)"),
        None => String::new(),
    };
    format!("{} {}{id} → {rows}", def.method, def.path)
}

/// The SQL spelling of a parameter type.
pub fn type_name(ty: &ParamType) -> String {
    match ty {
        ParamType::String => "text".into(),
        ParamType::Enum { values } if values.len() <= 4 => format!("text ({})", values.join("|")),
        ParamType::Enum { .. } => "text (enum)".into(),
        ParamType::Integer => "bigint".into(),
        ParamType::Number => "numeric".into(),
        ParamType::Boolean => "boolean".into(),
        ParamType::Timestamp => "timestamp".into(),
        ParamType::StringMap => "map<text,text>".into(),
        ParamType::Object { .. } => "struct/json".into(),
        ParamType::Array { items } => format!("{}[]", type_name(items)),
        ParamType::Any => "json".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_params_come_first_and_are_flagged() {
        let def = crate::catalog::builtin().action("increment_authorization_payment_intent").unwrap();
        let text = arguments(def);
        assert!(text.starts_with("(id text | text[] | (SELECT id …), amount => bigint required, "), "{text}");
        assert!(text.contains("metadata => map<text,text>"), "{text}");
        let refund = crate::catalog::builtin().action("refund_charge").unwrap();
        assert!(arguments(refund).starts_with("(charge id text"), "{}", arguments(refund));
        assert_eq!(description(refund), "POST /v1/refunds (charge=id) → refunds rows");
    }
}
