//! The catalog's data model: what exists in Stripe, as plain serde data.
//!
//! The committed catalog (`catalog.json`, written by the generator from the
//! OpenAPI spec plus `overrides.toml`) deserialises into these types. Every
//! other component (pushdown, provider, dml, actions, repl) reads Stripe's
//! shape only through them; nothing here knows SQL or HTTP.

use serde::{Deserialize, Serialize};

/// Every table and action the engine knows, in a stable order.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Catalog {
    /// Stripe API version the catalog was generated from (e.g. `2023-08-16`).
    pub api_version: String,
    /// One entry per SQL table, sorted by name.
    pub tables: Vec<TableDef>,
    /// One entry per custom action endpoint (`POST /v1/x/{id}/verb`), sorted by name.
    pub actions: Vec<ActionDef>,
}

/// One SQL table backed by a Stripe list endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableDef {
    /// SQL table name in schema `stripe` (`customers`, `invoice_items`, `invoice_lines`).
    pub name: String,
    /// Stripe object type of the rows (`customer`, `line_item`).
    pub object: String,
    /// List path; nested tables contain their parent placeholder (`/v1/invoices/{invoice}/lines`).
    pub list_path: String,
    /// Retrieve path with `{id}` placeholder, when Stripe has one (`/v1/customers/{id}`).
    pub retrieve_path: Option<String>,
    /// Search path (`/v1/customers/search`) with the fields the query language accepts.
    pub search: Option<SearchDef>,
    /// For nested tables: which filter column supplies the parent id in the path.
    pub parent: Option<ParentDef>,
    /// Id prefix of the objects (`cus`, `pi`), when known.
    pub id_prefix: Option<String>,
    /// Columns in table order. Always starts with `id` when the object has one,
    /// and ends with `_raw` (the whole object as JSON text).
    pub columns: Vec<ColumnDef>,
    /// Query parameters of the list endpoint that filter rows (pagination params excluded).
    pub list_filters: Vec<FilterDef>,
    /// POST on the collection (INSERT), when Stripe has it.
    pub create: Option<WriteDef>,
    /// POST on `/{id}` (UPDATE), when Stripe has it.
    pub update: Option<WriteDef>,
    /// DELETE on `/{id}` or its documented equivalent (DELETE FROM).
    pub delete: Option<DeleteDef>,
    /// What to say when DELETE is not possible (e.g. `UPDATE prices SET active = false`).
    pub delete_hint: Option<String>,
    /// Whether the list endpoint takes `limit` / `starting_after` (false for the few
    /// lists that return everything at once and refuse pagination params).
    #[serde(default = "default_true", skip_serializing_if = "is_true")]
    pub paginated: bool,
}

/// A nested table's parent: `WHERE <column> = '…'` is required and fills `{<path_param>}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParentDef {
    /// The SQL column (also a filter) carrying the parent id (`invoice`).
    pub column: String,
    /// The placeholder name in `list_path` (`invoice`).
    pub path_param: String,
}

/// One column: its SQL name, Arrow-facing type and where its value comes from.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ColumnDef {
    /// SQL column name (lower snake case, as in the API).
    pub name: String,
    /// Logical type; `catalog::arrow_type` maps it to Arrow.
    pub ty: ColumnType,
    /// JSON pointer-ish path into the object when the column is promoted from a
    /// nested field (`["address", "country"]`); empty means the top-level field `name`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source: Vec<String>,
    /// The field is an expandable reference: the column holds the id whether or not expanded.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expandable: bool,
    /// Allowed values when the spec lists an enum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enum_values: Vec<String>,
}

/// The logical column types of the catalog.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// Strings, enums, ids and expandable references.
    Utf8,
    /// Integers, including money in minor units.
    Int64,
    /// Non-integer numbers (`number` in the spec).
    Float64,
    /// Booleans.
    Boolean,
    /// Unix time → `Timestamp(Second, "UTC")`.
    Timestamp,
    /// `metadata`-style string → string maps → `Map<Utf8, Utf8>`.
    StringMap,
    /// Arrays of strings (e.g. `payment_method_types`) → `List<Utf8>`.
    StringList,
    /// Anything nested or polymorphic, as JSON text (Utf8).
    Json,
}

/// A list-endpoint query parameter that filters rows.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FilterDef {
    /// Query parameter name (`customer`, `created`, `type`).
    pub param: String,
    /// The column it filters, when the parameter matches one (`created` → `created`).
    /// `None` for parameters with no column (e.g. `types` on events).
    pub column: Option<String>,
    /// How the parameter filters.
    pub kind: FilterKind,
}

/// How a list filter behaves.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", tag = "kind", content = "values")]
pub enum FilterKind {
    /// `param=value` keeps rows whose column equals value.
    Equality,
    /// Equality restricted to listed values; `all` etc. may be extra sentinel values.
    Enum(Vec<String>),
    /// `param=true|false`.
    Boolean,
    /// `param[gt|gte|lt|lte]=unix seconds or integer`, or `param=value` for exact.
    Range,
    /// `param[]=a&param[]=b` (e.g. events `types`), rows matching any value.
    Array,
}

/// The Search API of a resource.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SearchDef {
    /// `/v1/customers/search`.
    pub path: String,
    /// Fields the search language accepts, with their kind.
    pub fields: Vec<SearchField>,
}

/// One searchable field.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SearchField {
    /// Field name as written in the query (`email`, `metadata`, `created`).
    pub name: String,
    /// What operators it takes.
    pub kind: SearchFieldKind,
}

/// Operators a search field supports.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum SearchFieldKind {
    /// `field:'v'` exact and `field~'v'` substring (min 3 chars).
    String,
    /// `field:'v'` exact only (ids, enums).
    Token,
    /// `=`, `>`, `<`, `>=`, `<=` on numbers.
    Numeric,
    /// `>`, `<` etc. on unix timestamps.
    Timestamp,
    /// `metadata['key']:'value'`.
    Metadata,
}

/// A create or update endpoint and its body parameters.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WriteDef {
    /// `/v1/customers` (create) or `/v1/customers/{id}` (update).
    pub path: String,
    /// Top-level body parameters.
    pub params: Vec<ParamDef>,
}

/// One body parameter of a write or action.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ParamDef {
    /// Parameter name (`email`, `metadata`, `items`).
    pub name: String,
    /// Whether Stripe requires it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub required: bool,
    /// Shape of the value.
    pub ty: ParamType,
    /// Whether `""` unsets the field (the spec's `anyOf [..., enum [""]]`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unsettable: bool,
}

/// Shape of a body parameter (enough to validate and encode SQL values).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ParamType {
    /// Free text.
    String,
    /// One of the listed values.
    Enum { values: Vec<String> },
    /// Whole number.
    Integer,
    /// Decimal number (sent as text, e.g. `unit_amount_decimal`).
    Number,
    /// `true` / `false`.
    Boolean,
    /// Unix time (integer seconds; `now` allowed where the spec says so).
    Timestamp,
    /// `metadata`: string → string map.
    StringMap,
    /// Nested object with named fields.
    Object { fields: Vec<ParamDef> },
    /// Array of items.
    Array { items: Box<ParamType> },
    /// Anything the generator could not narrow (free-form JSON is sent as-is).
    Any,
}

/// What `DELETE FROM t` means for a table.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DeleteDef {
    /// HTTP method (`DELETE`, or `POST` for action-style cancels).
    pub method: String,
    /// `/v1/customers/{id}`, `/v1/subscriptions/{id}`.
    pub path: String,
    /// `delete` or `cancel`.
    pub meaning: DeleteMeaning,
}

/// The documented effect of a DELETE.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DeleteMeaning {
    /// The object is deleted (`{id, object, deleted: true}`).
    Delete,
    /// The object is canceled and stays listable (subscriptions).
    Cancel,
}

/// A custom action endpoint, exposed as a table-valued function `verb_object`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ActionDef {
    /// SQL function name (`capture_payment_intent`).
    pub name: String,
    /// The verb (`capture`).
    pub verb: String,
    /// HTTP method: `POST` for every spec action; `DELETE` for `cancel_subscription`.
    #[serde(default = "default_action_method")]
    pub method: String,
    /// `POST` path with `{id}` placeholder (`/v1/payment_intents/{id}/capture`), or
    /// without one when the id travels in the body (see `id_param`).
    pub path: String,
    /// When set, the id is sent as this body parameter instead of filling `{id}`
    /// (`refund_charge` → `POST /v1/refunds` with `charge=<id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_param: Option<String>,
    /// Table whose schema the result rows take (`payment_intents`).
    pub result_table: Option<String>,
    /// Stripe object type returned (`payment_intent`).
    pub returns: String,
    /// Body parameters, by name.
    pub params: Vec<ParamDef>,
}

/// Serde default of `ActionDef::method`.
/// Serde default of `TableDef::paginated`.
fn default_true() -> bool {
    true
}

/// `TableDef::paginated` is only written out when false.
fn is_true(b: &bool) -> bool {
    *b
}

fn default_action_method() -> String {
    "POST".to_string()
}
