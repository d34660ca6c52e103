//! `--format json`: the contract's shape, schema version 1. Users' CI parses this; a field is
//! never renamed or removed without a new schema version.
//!
//! `fix` and `link` are `null` when a finding has none (notes, and findings with no UI page).

use serde::Serialize;

use super::{Report, Summary};
use crate::checks::CheckResult;

pub const SCHEMA_VERSION: u32 = 1;

/// What wrote a JSON document: every document snconnect writes carries it.
#[derive(Serialize, schemars::JsonSchema)]
pub(crate) struct Tool {
    name: &'static str,
    version: &'static str,
}

pub(crate) const TOOL: Tool = Tool {
    name: "snconnect",
    version: env!("CARGO_PKG_VERSION"),
};

/// A `verify` report (`--format json`). The schema in `schema/report.schema.json` is generated
/// from this type.
#[derive(Serialize, schemars::JsonSchema)]
#[schemars(rename = "Report")]
pub(crate) struct Document<'a> {
    #[schemars(extend("const" = 1))]
    schema_version: u32,
    tool: Tool,
    instance: &'a str,
    path: crate::model::SetupPath,
    ok: bool,
    summary: Summary,
    checks: &'a [CheckResult],
    /// Only when this run failed and an earlier good run left a baseline (issue 15): added,
    /// never changing the fields above, so schema version 1 still holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    changed_since_last_good: Option<&'a crate::facts::baseline::Changes>,
}

/// The JSON Schema of [`render`]'s documents, pretty-printed with a trailing newline: what
/// `schema/report.schema.json` holds (a test keeps the two equal).
pub fn schema() -> String {
    let schema = schemars::schema_for!(Document<'static>);
    let mut out = serde_json::to_string_pretty(&schema).unwrap_or_default();
    out.push('\n');
    out
}

/// The report as a pretty-printed JSON document with a trailing newline.
pub fn render(report: &Report) -> String {
    // Serialising plain structs of strings and numbers cannot fail.
    let mut out = serde_json::to_string_pretty(&document(report)).unwrap_or_default();
    out.push('\n');
    out
}

/// The report's document, for [`render`] and for documents that hold reports (a fleet run's).
pub(crate) fn document(report: &Report) -> Document<'_> {
    Document {
        schema_version: SCHEMA_VERSION,
        tool: TOOL,
        instance: &report.instance,
        path: report.path,
        ok: report.ok(),
        summary: report.summary(),
        checks: &report.checks,
        changed_since_last_good: report.changes.as_ref(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;
    use crate::report::test_support::sample;

    #[test]
    fn document_has_the_contract_shape() {
        let v: Value = serde_json::from_str(&render(&sample())).unwrap();
        assert_eq!(v["schema_version"], 1);
        assert_eq!(v["tool"]["name"], "snconnect");
        assert_eq!(v["tool"]["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["instance"], "https://acme.service-now.com");
        assert_eq!(v["path"], "app");
        assert_eq!(v["ok"], false);
        assert_eq!(
            v["summary"],
            serde_json::json!({"pass": 2, "warn": 1, "fail": 1, "skip": 1})
        );
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut want = vec![
            "schema_version",
            "tool",
            "instance",
            "path",
            "ok",
            "summary",
            "checks",
        ];
        want.sort();
        let mut got = keys.clone();
        got.sort();
        assert_eq!(got, want);

        let user = &v["checks"][2];
        assert_eq!(user["id"], "service_user");
        assert_eq!(user["title"], "Service user");
        assert_eq!(user["status"], "fail");
        assert_eq!(user["duration_ms"], 84);
        let f = &user["findings"][0];
        assert_eq!(f["code"], "service_user.locked_out");
        assert_eq!(f["severity"], "error");
        assert_eq!(f["message"], "user 'incident.io' is locked out");
        assert!(f["fix"].as_str().unwrap().contains("Locked out"));
        assert!(f["link"].as_str().unwrap().contains("sys_user.do"));

        let note = &v["checks"][1]["findings"][0];
        assert_eq!(note["severity"], "note");
        assert!(note["fix"].is_null());
        assert_eq!(v["checks"][4]["status"], "skip");
    }
}
