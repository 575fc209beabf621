//! docs/openapi.yaml, loaded once, and JSON Schema validators for its request and response
//! schemas. Every response the conformance suite receives is checked against the schema
//! documented for its operation and status code: an undocumented status fails the test.

use jsonschema::Validator;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// An operation: (lower-case method, path template as written in the document).
pub type Op = (&'static str, &'static str);

/// At most `n` characters of a JSON value, for failure messages.
pub fn short(v: &Value) -> String {
    let text = v.to_string();
    if text.len() <= 600 {
        return text;
    }
    let cut: String = text.chars().take(600).collect();
    format!("{cut}... ({} bytes)", text.len())
}

fn short_str(s: &str) -> String {
    if s.len() <= 300 {
        s.to_string()
    } else {
        format!("{}...", s.chars().take(300).collect::<String>())
    }
}

pub struct Spec {
    pub doc: Value,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

pub fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.yaml");
        let text = std::fs::read_to_string(path).expect("docs/openapi.yaml is readable");
        let doc: Value = serde_norway::from_str(&text).expect("docs/openapi.yaml is valid YAML");
        Spec {
            doc,
            validators: Mutex::new(HashMap::new()),
        }
    })
}

impl Spec {
    /// Follows local `$ref`s (`#/a/b`) until a node without one.
    pub fn resolve<'a>(&'a self, mut node: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match node.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let pointer = r
                        .strip_prefix('#')
                        .unwrap_or_else(|| panic!("non-local $ref {r}"));
                    node = self
                        .doc
                        .pointer(pointer)
                        .unwrap_or_else(|| panic!("$ref {r} points nowhere"));
                }
                None => return node,
            }
        }
        panic!("$ref chain too long")
    }

    /// A 2020-12 validator for `schema`, whose `#/components/...` refs resolve in this document.
    pub fn validator(&self, key: &str, schema: &Value) -> Arc<Validator> {
        let mut cache = self.validators.lock().unwrap();
        if let Some(v) = cache.get(key) {
            return v.clone();
        }
        let root = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        let validator = Arc::new(
            jsonschema::draft202012::new(&root)
                .unwrap_or_else(|e| panic!("schema for {key} does not compile: {e}")),
        );
        cache.insert(key.to_string(), validator.clone());
        validator
    }

    /// The validator of `#/components/schemas/{name}`.
    pub fn component(&self, name: &str) -> Arc<Validator> {
        assert!(
            self.doc["components"]["schemas"].get(name).is_some(),
            "openapi.yaml has no schema {name}"
        );
        self.validator(
            &format!("schema:{name}"),
            &json!({ "$ref": format!("#/components/schemas/{name}") }),
        )
    }

    /// Errors of `instance` against `validator`, in words; empty when valid.
    pub fn errors(validator: &Validator, instance: &Value) -> Vec<String> {
        validator
            .iter_errors(instance)
            .map(|e| format!("{} at {}", short_str(&e.to_string()), e.instance_path()))
            .collect()
    }

    pub fn operation(&self, op: Op) -> &Value {
        let (method, path) = op;
        let node = &self.doc["paths"][path][method];
        assert!(
            node.is_object(),
            "openapi.yaml does not document {method} {path}"
        );
        node
    }

    /// Panics unless `body` matches the response schema documented for `op` and `status`.
    /// `op = None` (a path the document does not list) must answer an `ErrorBody`.
    pub fn check_response(&self, op: Option<Op>, status: u16, body: &Value) {
        let (key, validator) = match op {
            Some(op) => {
                let responses = &self.operation(op)["responses"];
                let response = responses
                    .get(status.to_string())
                    .map(|r| self.resolve(r))
                    .unwrap_or_else(|| {
                        panic!(
                            "{} {} answered {status}, which openapi.yaml does not document: {}",
                            op.0,
                            op.1,
                            short(body)
                        )
                    });
                let schema = &response["content"]["application/json"]["schema"];
                assert!(
                    schema.is_object(),
                    "{} {} {status}: no JSON schema documented",
                    op.0,
                    op.1
                );
                let key = format!("{} {} {status}", op.0, op.1);
                let validator = self.validator(&key, schema);
                (key, validator)
            }
            None => {
                assert!(status >= 400, "an undocumented path answered {status}");
                ("undocumented path".to_string(), self.component("ErrorBody"))
            }
        };
        let errors = Self::errors(&validator, body);
        assert!(
            errors.is_empty(),
            "response of {key} does not match openapi.yaml: {errors:?}\nbody: {}",
            short(body)
        );
    }

    /// Panics unless `body` matches the request schema documented for `op`.
    pub fn check_request(&self, op: Op, body: &Value) {
        let schema = &self.operation(op)["requestBody"]["content"]["application/json"]["schema"];
        assert!(
            schema.is_object(),
            "{} {}: no request schema documented",
            op.0,
            op.1
        );
        let key = format!("request {} {}", op.0, op.1);
        let validator = self.validator(&key, schema);
        let errors = Self::errors(&validator, body);
        assert!(
            errors.is_empty(),
            "request of {key} does not match openapi.yaml: {errors:?}\nbody: {}",
            short(body)
        );
    }
}
