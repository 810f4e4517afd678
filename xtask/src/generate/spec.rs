//! Read-only access to the OpenAPI document: operations, `$ref` resolution and
//! the request/response schemas the other generator steps need.

use serde_json::Value;

/// The parts of an OpenAPI operation the generator looks at.
pub struct Operation<'a> {
    /// The operation object (`get`, `post`, `delete`).
    pub op: &'a Value,
}

/// The parsed spec with helpers to walk it.
pub struct Spec<'a> {
    root: &'a Value,
}

impl<'a> Spec<'a> {
    /// Wraps a parsed `spec3.json`.
    pub fn new(root: &'a Value) -> Self {
        Spec { root }
    }

    /// `info.version` (the Stripe API version).
    pub fn api_version(&self) -> String {
        self.root["info"]["version"].as_str().unwrap_or_default().to_string()
    }

    /// All paths, sorted (the spec's object order is preserved, but sorting makes output stable).
    pub fn paths(&self) -> Vec<&'a str> {
        let mut paths: Vec<&str> =
            self.root["paths"].as_object().map(|m| m.keys().map(String::as_str).collect()).unwrap_or_default();
        paths.sort_unstable();
        paths
    }

    /// The operation for `method` (lower case) on `path`, when it exists.
    pub fn operation(&self, path: &'a str, method: &str) -> Option<Operation<'a>> {
        let op = self.root["paths"].get(path)?.get(method)?;
        Some(Operation { op })
    }

    /// A component schema by name.
    pub fn schema(&self, name: &str) -> Option<&'a Value> {
        self.root["components"]["schemas"].get(name)
    }

    /// Follows `$ref` chains to the schema they name.
    pub fn resolve(&self, mut schema: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(r) => match self.schema(ref_name(r)) {
                    Some(s) => schema = s,
                    None => return schema,
                },
                None => return schema,
            }
        }
        schema
    }

    /// The JSON schema of a 200 response, resolved.
    pub fn response_schema(&self, op: &Operation<'a>) -> Option<&'a Value> {
        let s = op.op["responses"]["200"]["content"].get("application/json")?.get("schema")?;
        Some(self.resolve(s))
    }

    /// The form-encoded request body schema, resolved.
    pub fn body_schema(&self, op: &Operation<'a>) -> Option<&'a Value> {
        let s = op.op["requestBody"]["content"].get("application/x-www-form-urlencoded")?.get("schema")?;
        Some(self.resolve(s))
    }

    /// Query parameters of an operation, in spec order.
    pub fn query_params(&self, op: &Operation<'a>) -> Vec<&'a Value> {
        op.op["parameters"].as_array().map(|ps| ps.iter().filter(|p| p["in"] == "query").collect()).unwrap_or_default()
    }

    /// Names of the component schemas a response item refers to (`anyOf` gives several).
    pub fn ref_names(&self, schema: &'a Value) -> Vec<String> {
        if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
            return vec![ref_name(r).to_string()];
        }
        let variants = schema.get("anyOf").or_else(|| schema.get("oneOf"));
        variants
            .and_then(Value::as_array)
            .map(|vs| vs.iter().flat_map(|v| self.ref_names(v)).collect())
            .unwrap_or_default()
    }

    /// The object type a response returns: its `object` enum, else `x-resourceId`, else its name.
    pub fn object_type(&self, schema_name: &str) -> String {
        let Some(s) = self.schema(schema_name) else {
            return schema_name.to_string();
        };
        s["properties"]["object"]["enum"][0]
            .as_str()
            .or_else(|| s["x-resourceId"].as_str())
            .unwrap_or(schema_name)
            .to_string()
    }
}

/// `#/components/schemas/customer` → `customer`.
pub fn ref_name(r: &str) -> &str {
    r.rsplit('/').next().unwrap_or(r)
}

/// Whether a path segment is a `{placeholder}`.
pub fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}
