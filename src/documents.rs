//! Validation of the JSON documents the app (or the server) hands the engine. The engine
//! keeps each document whole and copies out only the fields it indexes; this module checks
//! those fields and turns every problem into an `InvalidInput` that names the field.

use crate::error::{Error, Result};
use crate::protocol::{self, limits::MAX_PAYLOAD_BYTES};
use serde_json::{Map, Value};

/// Longest id, SKU, barcode or similar key the engine accepts.
pub const MAX_KEY_CHARS: usize = 128;

/// A validated document: the value, its canonical JSON text and its checksum.
#[derive(Debug, Clone)]
pub struct Document {
    pub value: Value,
    pub canonical: String,
    pub checksum: String,
}

impl Document {
    pub fn new(value: Value) -> Result<Document> {
        let canonical = protocol::canonical_json(&value);
        if canonical.len() > MAX_PAYLOAD_BYTES {
            return Err(Error::PayloadTooLarge(format!(
                "the document is {} bytes, the limit is {MAX_PAYLOAD_BYTES}; store large data elsewhere and reference it",
                canonical.len()
            )));
        }
        // Hash the text at hand rather than canonicalise the document a second time.
        let checksum = protocol::canonical_checksum(&canonical);
        Ok(Document {
            value,
            canonical,
            checksum,
        })
    }

    pub fn object(&self) -> &Map<String, Value> {
        self.value.as_object().expect("validated as an object")
    }

    pub fn str_field(&self, key: &str) -> Option<&str> {
        self.object().get(key).and_then(Value::as_str)
    }
}

/// Parses the app's JSON text for a `kind` of document ("sale", "customer", ...), which must
/// be a JSON object within the size limit.
pub fn parse_object(kind: &str, json: &str) -> Result<Document> {
    if json.len() > MAX_PAYLOAD_BYTES * 2 {
        // Refuse before parsing, so a huge string costs nothing.
        return Err(Error::PayloadTooLarge(format!(
            "the {kind} JSON is {} bytes, the limit is {MAX_PAYLOAD_BYTES}",
            json.len()
        )));
    }
    let value: Value = serde_json::from_str(json)
        .map_err(|e| Error::invalid(format!("the {kind} is not valid JSON: {e}")))?;
    object_document(kind, value)
}

/// Checks that an already parsed value is an object within the size limit.
pub fn object_document(kind: &str, value: Value) -> Result<Document> {
    expect_object(kind, &value)?;
    Document::new(value)
}

/// Checks that a document (or a value about to become one) is a JSON object.
pub fn expect_object(kind: &str, value: &Value) -> Result<()> {
    if !value.is_object() {
        return Err(Error::invalid(format!(
            "the {kind} must be a JSON object, got {}",
            type_name(value)
        )));
    }
    Ok(())
}

/// "a string", "an array", …: what the app sent, for error messages.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A required non-empty string key such as `id`.
pub fn required_key(kind: &str, obj: &Map<String, Value>, field: &str) -> Result<String> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(Error::invalid_field(
            field,
            format!("the {kind} has no '{field}'"),
        )),
        Some(Value::String(s)) => check_key(kind, field, s).map(str::to_owned),
        Some(other) => Err(Error::invalid_field(
            field,
            format!(
                "the {kind}'s '{field}' must be a string, got {}",
                type_name(other)
            ),
        )),
    }
}

/// An optional string key; `null` counts as absent.
pub fn optional_key(kind: &str, obj: &Map<String, Value>, field: &str) -> Result<Option<String>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) => check_key(kind, field, s).map(|s| Some(s.to_owned())),
        Some(other) => Err(Error::invalid_field(
            field,
            format!(
                "the {kind}'s '{field}' must be a string, got {}",
                type_name(other)
            ),
        )),
    }
}

/// An optional free-text field such as a name (longer than a key, still bounded by the
/// document limit).
pub fn optional_text(kind: &str, obj: &Map<String, Value>, field: &str) -> Result<Option<String>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Error::invalid_field(
            field,
            format!(
                "the {kind}'s '{field}' must be a string, got {}",
                type_name(other)
            ),
        )),
    }
}

/// Checks a key-like string: not blank, bounded, no control characters.
pub fn check_key<'a>(kind: &str, field: &str, s: &'a str) -> Result<&'a str> {
    if s.trim().is_empty() {
        return Err(Error::invalid_field(
            field,
            format!("the {kind}'s '{field}' is empty"),
        ));
    }
    if s.chars().count() > MAX_KEY_CHARS {
        return Err(Error::invalid_field(
            field,
            format!("the {kind}'s '{field}' is longer than {MAX_KEY_CHARS} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(Error::invalid_field(
            field,
            format!("the {kind}'s '{field}' contains control characters"),
        ));
    }
    Ok(s)
}

/// A required finite number.
pub fn required_number(kind: &str, obj: &Map<String, Value>, field: &str) -> Result<f64> {
    match obj.get(field) {
        None | Some(Value::Null) => Err(Error::invalid_field(
            field,
            format!("the {kind} has no '{field}'"),
        )),
        Some(Value::Number(n)) => n.as_f64().filter(|f| f.is_finite()).ok_or_else(|| {
            Error::invalid_field(
                field,
                format!("the {kind}'s '{field}' is not a finite number"),
            )
        }),
        Some(other) => Err(Error::invalid_field(
            field,
            format!(
                "the {kind}'s '{field}' must be a number, got {}",
                type_name(other)
            ),
        )),
    }
}

/// An optional whole number (money in minor units, epoch milliseconds).
pub fn optional_integer(kind: &str, obj: &Map<String, Value>, field: &str) -> Result<Option<i64>> {
    match obj.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(|| {
            Error::invalid_field(field, format!(
                "the {kind}'s '{field}' must be a whole number (money in minor units, times in epoch milliseconds)"
            ))
        }),
        Some(other) => Err(Error::invalid_field(field, format!(
            "the {kind}'s '{field}' must be a whole number, got {}",
            type_name(other)
        ))),
    }
}

/// A sale: `id`, a non-empty `lines` array whose lines each have `product_id` and
/// `quantity`; `customer_id` and `total` are optional.
pub struct Sale {
    pub id: String,
    pub customer_id: Option<String>,
    pub total: Option<f64>,
    pub doc: Document,
}

pub fn sale(json: &str) -> Result<Sale> {
    let doc = parse_object("sale", json)?;
    let obj = doc.object();
    let id = required_key("sale", obj, "id")?;
    let lines = match obj.get("lines") {
        Some(Value::Array(lines)) if !lines.is_empty() => lines,
        Some(Value::Array(_)) => {
            return Err(Error::invalid_field("lines", "the sale has no lines"))
        }
        None | Some(Value::Null) => {
            return Err(Error::invalid_field("lines", "the sale has no 'lines'"))
        }
        Some(other) => {
            return Err(Error::invalid_field(
                "lines",
                format!(
                    "the sale's 'lines' must be an array, got {}",
                    type_name(other)
                ),
            ))
        }
    };
    for (i, line) in lines.iter().enumerate() {
        let kind = format!("sale line {}", i + 1);
        let path = format!("lines[{i}]");
        let line = line
            .as_object()
            .ok_or_else(|| Error::invalid_field(&path, format!("{kind} must be an object")))?;
        required_key(&kind, line, "product_id").map_err(|e| e.within(&path))?;
        required_number(&kind, line, "quantity").map_err(|e| e.within(&path))?;
    }
    let customer_id = optional_key("sale", obj, "customer_id")?;
    let total = match obj.get("total") {
        None | Some(Value::Null) => None,
        Some(_) => Some(required_number("sale", obj, "total")?),
    };
    Ok(Sale {
        id,
        customer_id,
        total,
        doc,
    })
}

/// A stock adjustment: `id`, `product_id`, and a numeric `quantity_delta`.
pub struct StockAdjustment {
    pub id: String,
    pub product_id: String,
    pub quantity_delta: f64,
    pub doc: Document,
}

pub fn stock_adjustment(json: &str) -> Result<StockAdjustment> {
    let doc = parse_object("stock adjustment", json)?;
    let obj = doc.object();
    Ok(StockAdjustment {
        id: required_key("stock adjustment", obj, "id")?,
        product_id: required_key("stock adjustment", obj, "product_id")?,
        quantity_delta: required_number("stock adjustment", obj, "quantity_delta")?,
        doc,
    })
}

/// The indexed fields of a product: `id` required; `sku`, `barcode`, `name` optional.
pub struct ProductFields {
    pub id: String,
    pub sku: Option<String>,
    pub barcode: Option<String>,
    pub name: String,
}

pub fn product_fields(doc: &Document) -> Result<ProductFields> {
    let obj = doc.object();
    Ok(ProductFields {
        id: required_key("product", obj, "id")?,
        sku: optional_key("product", obj, "sku")?,
        barcode: optional_key("product", obj, "barcode")?,
        name: optional_text("product", obj, "name")?.unwrap_or_default(),
    })
}

/// A price list entry: `id`, `product_id`, `amount` in minor units; optional `currency`
/// and `valid_from` (epoch milliseconds).
pub struct PriceFields {
    pub id: String,
    pub product_id: String,
    pub amount: i64,
    pub currency: Option<String>,
    pub valid_from: i64,
}

pub fn price_fields(doc: &Document) -> Result<PriceFields> {
    let obj = doc.object();
    let amount = optional_integer("price", obj, "amount")?
        .ok_or_else(|| Error::invalid_field("amount", "the price has no 'amount'"))?;
    Ok(PriceFields {
        id: required_key("price", obj, "id")?,
        product_id: required_key("price", obj, "product_id")?,
        amount,
        currency: optional_key("price", obj, "currency")?,
        valid_from: optional_integer("price", obj, "valid_from")?.unwrap_or(0),
    })
}

/// The indexed fields of a customer: `id` and `name` required; `phone`, `email` optional.
pub struct CustomerFields {
    pub id: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

pub fn customer_fields(doc: &Document) -> Result<CustomerFields> {
    let obj = doc.object();
    let name = optional_text("customer", obj, "name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or_else(|| Error::invalid_field("name", "the customer has no 'name'"))?;
    Ok(CustomerFields {
        id: required_key("customer", obj, "id")?,
        name,
        phone: optional_key("customer", obj, "phone")?,
        email: optional_key("customer", obj, "email")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(r: Result<impl Sized>) -> String {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    /// The checksum is hashed from the canonical text the document already holds: the same
    /// as the payload checksum of its value, whatever the key order and nesting.
    #[test]
    fn a_documents_checksum_is_its_payload_checksum() {
        for value in [
            serde_json::json!({"b": 1, "a": {"z": [1, 2.5, "x\u{1}"], "y": null}, "é": true}),
            serde_json::json!([{"id": "p1"}, 3]),
            serde_json::json!("text"),
        ] {
            let doc = Document::new(value.clone()).unwrap();
            assert_eq!(doc.checksum, protocol::payload_checksum(&value));
            assert_eq!(doc.canonical, protocol::canonical_json(&value));
        }
    }

    #[test]
    fn invalid_documents_name_the_offending_field() {
        let field = |r: Result<Sale>| match r {
            Err(Error::InvalidInput { field, .. }) => field,
            _ => panic!("expected InvalidInput"),
        };
        assert_eq!(field(sale(r#"{"id":"s1"}"#)).as_deref(), Some("lines"));
        assert_eq!(field(sale(r#"{"lines":[]}"#)).as_deref(), Some("id"));
        let second_line_bad = r#"{"id":"s1","lines":[{"product_id":"p1","quantity":1},{"product_id":"p2","quantity":"2"}]}"#;
        assert_eq!(
            field(sale(second_line_bad)).as_deref(),
            Some("lines[1].quantity")
        );
        assert_eq!(field(sale("{not json")), None);
    }

    #[test]
    fn sale_validation_names_the_problem() {
        let ok =
            sale(r#"{"id":"s1","lines":[{"product_id":"p1","quantity":2}],"total":3.5}"#).unwrap();
        assert_eq!(ok.id, "s1");
        assert_eq!(ok.total, Some(3.5));
        let cases = [
            ("{not json", "not valid JSON"),
            ("[1,2]", "must be a JSON object, got an array"),
            (
                r#"{"lines":[{"product_id":"p","quantity":1}]}"#,
                "has no 'id'",
            ),
            (r#"{"id":"s","lines":[]}"#, "has no lines"),
            (r#"{"id":"s"}"#, "has no 'lines'"),
            (r#"{"id":7,"lines":[]}"#, "'id' must be a string"),
            (
                r#"{"id":"s","lines":[{"quantity":1}]}"#,
                "sale line 1 has no 'product_id'",
            ),
            (
                r#"{"id":"s","lines":[{"product_id":"p","quantity":"2"}]}"#,
                "'quantity' must be a number",
            ),
            (
                r#"{"id":"   ","lines":[{"product_id":"p","quantity":1}]}"#,
                "'id' is empty",
            ),
        ];
        for (json, expected) in cases {
            let msg = err(sale(json));
            assert!(msg.contains(expected), "{json}: {msg}");
            assert!(msg.starts_with("invalid input"), "{msg}");
        }
    }

    #[test]
    fn oversized_documents_are_refused_with_their_own_error() {
        let big = format!(r#"{{"id":"s","note":"{}"}}"#, "x".repeat(MAX_PAYLOAD_BYTES));
        match sale(&big) {
            Err(Error::PayloadTooLarge(msg)) => assert!(msg.contains("limit")),
            other => panic!("expected PayloadTooLarge, got {:?}", other.err()),
        }
    }

    #[test]
    fn keys_are_bounded_and_free_of_control_characters() {
        let long = format!(
            r#"{{"id":"{}","product_id":"p","quantity_delta":1}}"#,
            "a".repeat(200)
        );
        assert!(err(stock_adjustment(&long)).contains("longer than 128"));
        let ctl = r#"{"id":"a\u0000b","product_id":"p","quantity_delta":1}"#;
        assert!(err(stock_adjustment(ctl)).contains("control characters"));
    }

    #[test]
    fn prices_need_integer_minor_units() {
        let doc = object_document(
            "price",
            serde_json::json!({"id":"pr","product_id":"p","amount":1.5}),
        )
        .unwrap();
        assert!(err(price_fields(&doc)).contains("whole number"));
    }
}
