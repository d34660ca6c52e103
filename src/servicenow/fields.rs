//! Serde field decoders for the Table API's wire format, so records decode with
//! `#[derive(Deserialize)]` into typed structs ([`Record::decode`]).
//!
//! ServiceNow sends every value as a string by default (`"true"`, `"1800"`, `""` for empty), a
//! reference as its sys_id or, with `sysparm_display_value=all`, as `{"value", "display_value"}`,
//! and JSON booleans and numbers only when a caller asked for them. Each decoder here accepts all
//! of those shapes; an unreadable value decodes as absent (`None`), never as an error, because a
//! check must judge an odd value, not lose the whole row over it.
//!
//! [`Record::decode`]: super::Record::decode

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A field's raw text: a string, a reference's `value`, or a number or boolean as text.
fn raw(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("value").and_then(raw),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Text; a missing or null field is an error (for the fields that identify a row).
pub fn text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    raw(&Value::deserialize(d)?).ok_or_else(|| serde::de::Error::custom("not text"))
}

/// Text, or empty when missing or unreadable (with `#[serde(default)]`).
pub fn text_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(raw(&Value::deserialize(d)?).unwrap_or_default())
}

/// Text as sent, empty kept (with `#[serde(default)]`: `None` only when missing or unreadable).
pub fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(raw(&Value::deserialize(d)?))
}

/// Text, empty as `None` (with `#[serde(default)]` for a field that may not come back).
pub fn non_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(raw(&Value::deserialize(d)?).filter(|s| !s.is_empty()))
}

/// `true`/`false` (also `1`/`0` and JSON booleans); anything else, empty included, is `None`.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Bool(b) => Some(b),
        other => match raw(&other).as_deref() {
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            _ => None,
        },
    })
}

/// [`flag`], with anything but a clear `true` as `false`.
pub fn truthy<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(flag(d)?.unwrap_or(false))
}

/// A count: `"1800"`, `"1,800"` (display values) or a JSON number; empty or unreadable is `None`.
pub fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_u64(),
        other => raw(&other).and_then(|s| {
            let s = s.trim();
            s.parse().ok().or_else(|| s.replace(',', "").parse().ok())
        }),
    })
}

/// A field whose *presence* matters: `Absent` when the key did not come back (the release has
/// no such column; ServiceNow silently drops unknown fields), `Empty`, or the value. Use with
/// `#[serde(default)]`, so a missing key takes the default, `Absent`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Presence {
    #[default]
    Absent,
    Empty,
    Value(String),
}

impl<'de> Deserialize<'de> for Presence {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(match raw(&Value::deserialize(d)?) {
            Some(v) if !v.is_empty() => Presence::Value(v),
            _ => Presence::Empty,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;
    use serde_json::json;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Row {
        #[serde(deserialize_with = "text")]
        sys_id: String,
        #[serde(default, deserialize_with = "flag")]
        active: Option<bool>,
        #[serde(default, deserialize_with = "count")]
        lifespan: Option<u64>,
        #[serde(default, deserialize_with = "non_empty")]
        version: Option<String>,
        #[serde(default)]
        kind: Presence,
    }

    fn row(v: serde_json::Value) -> Result<Row, serde_json::Error> {
        serde_json::from_value(v)
    }

    #[test]
    fn every_wire_shape_decodes() {
        let r = row(
            json!({"sys_id": {"value": "a1", "display_value": "A"}, "active": "true",
            "lifespan": "1,800", "version": "", "kind": ""}),
        )
        .unwrap();
        assert_eq!(r.sys_id, "a1");
        assert_eq!(r.active, Some(true));
        assert_eq!(r.lifespan, Some(1800));
        assert_eq!(r.version, None);
        assert_eq!(r.kind, Presence::Empty);

        let r = row(json!({"sys_id": "a2", "active": false, "lifespan": 7, "kind": "machine"}))
            .unwrap();
        assert_eq!((r.active, r.lifespan), (Some(false), Some(7)));
        assert_eq!(r.kind, Presence::Value("machine".into()));

        let r = row(json!({"sys_id": "a3", "active": "maybe", "lifespan": ""})).unwrap();
        assert_eq!(
            (r.active, r.lifespan, r.kind),
            (None, None, Presence::Absent)
        );
    }

    #[test]
    fn a_row_without_its_identifying_field_does_not_decode() {
        assert!(row(json!({"active": "true"})).is_err());
        assert!(row(json!({"sys_id": null})).is_err());
    }
}
