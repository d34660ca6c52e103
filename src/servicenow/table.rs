//! Table API types: list requests, pages, records, and the `Link` header.
//!
//! ServiceNow returns every value as a string (`"active":"true"`), references as
//! `{"link","value"}` objects (or `{"display_value",…}` with `sysparm_display_value`), and hides
//! rows the caller may not read while still counting them in `X-Total-Count`. [`Record`]'s
//! accessors absorb the value shapes; [`Page::hidden_rows`] names the ACL case so that callers
//! never read an empty page as "does not exist".

use serde_json::{Map, Value};

/// `sysparm_display_value`: raw values, display values, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisplayValue {
    False,
    True,
    All,
}

impl DisplayValue {
    pub(crate) fn as_param(self) -> &'static str {
        match self {
            DisplayValue::False => "false",
            DisplayValue::True => "true",
            DisplayValue::All => "all",
        }
    }
}

/// The parameters of a Table API list request.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListRequest {
    /// `sysparm_query`, an encoded query (build it with [`super::Query`]).
    pub query: Option<String>,
    /// `sysparm_fields`; dot-walks such as `role.name` are allowed. Empty means all fields.
    pub fields: Vec<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    pub display_value: Option<DisplayValue>,
    pub exclude_reference_link: bool,
}

impl ListRequest {
    pub fn new() -> ListRequest {
        ListRequest::default()
    }

    /// Accepts a [`super::Query`] or a string.
    pub fn query(mut self, q: impl Into<String>) -> ListRequest {
        let q = q.into();
        self.query = (!q.is_empty()).then_some(q);
        self
    }

    pub fn fields(mut self, fields: &[&str]) -> ListRequest {
        self.fields = fields.iter().map(|f| f.to_string()).collect();
        self
    }

    pub fn limit(mut self, limit: u32) -> ListRequest {
        self.limit = Some(limit);
        self
    }

    pub fn offset(mut self, offset: u32) -> ListRequest {
        self.offset = Some(offset);
        self
    }

    pub fn display_value(mut self, dv: DisplayValue) -> ListRequest {
        self.display_value = Some(dv);
        self
    }

    pub fn exclude_reference_link(mut self, yes: bool) -> ListRequest {
        self.exclude_reference_link = yes;
        self
    }

    /// The `sysparm_*` query parameters, in a stable order.
    pub(crate) fn params(&self) -> Vec<(String, String)> {
        let mut p = Vec::new();
        if let Some(q) = &self.query {
            p.push(("sysparm_query".to_string(), q.clone()));
        }
        if !self.fields.is_empty() {
            p.push(("sysparm_fields".to_string(), self.fields.join(",")));
        }
        if let Some(l) = self.limit {
            p.push(("sysparm_limit".to_string(), l.to_string()));
        }
        if let Some(o) = self.offset {
            p.push(("sysparm_offset".to_string(), o.to_string()));
        }
        if let Some(dv) = self.display_value {
            p.push((
                "sysparm_display_value".to_string(),
                dv.as_param().to_string(),
            ));
        }
        if self.exclude_reference_link {
            p.push((
                "sysparm_exclude_reference_link".to_string(),
                "true".to_string(),
            ));
        }
        p
    }
}

/// One page of a list (or every page, from `list_all`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub records: Vec<Record>,
    /// `X-Total-Count`: rows matching the query *before* ACLs hide any (measured ACL-blind).
    pub total_count: Option<u64>,
    /// `sysparm_offset` of the next page, from `Link: <…>;rel="next"`; `None` on the last page.
    pub next_offset: Option<u64>,
}

impl Page {
    /// No rows came back although the instance counts some: ACLs hide them from this account.
    /// Report that as "cannot see", never as "missing".
    pub fn hidden_rows(&self) -> bool {
        self.records.is_empty() && self.total_count.is_some_and(|n| n > 0)
    }
}

/// Options for create and update.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// `sysparm_input_display_value=true`: values are display values (a reference by name), and
    /// password fields such as `user_password` are hashed as the UI would.
    pub input_display_value: bool,
}

/// One Table API record, as the JSON object ServiceNow returned.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Record(pub Map<String, Value>);

impl Record {
    /// The record as a typed struct (derive `Deserialize`, with the [`super::fields`]
    /// decoders); `None` when a field the struct requires is missing or unreadable.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_value(Value::Object(self.0.clone())).ok()
    }

    pub fn sys_id(&self) -> Option<&str> {
        self.str("sys_id")
    }

    /// A field's raw value: a plain string, or a reference's `value` (also from
    /// `display_value=all`). Dot-walked fields are looked up by their full name (`role.name`).
    pub fn str(&self, field: &str) -> Option<&str> {
        match self.0.get(field)? {
            Value::String(s) => Some(s),
            Value::Object(o) => o.get("value").and_then(Value::as_str),
            _ => None,
        }
    }

    /// A field's display value: `display_value` of an object, else the plain string (which *is*
    /// the display value when the request asked for `sysparm_display_value=true`).
    pub fn display(&self, field: &str) -> Option<&str> {
        match self.0.get(field)? {
            Value::String(s) => Some(s),
            Value::Object(o) => o.get("display_value").and_then(Value::as_str),
            _ => None,
        }
    }

    /// ServiceNow booleans arrive as `"true"`/`"false"` (JSON booleans accepted too); an empty
    /// string or anything else is `None`.
    pub fn bool(&self, field: &str) -> Option<bool> {
        if let Some(Value::Bool(b)) = self.0.get(field) {
            return Some(*b);
        }
        match self.str(field)? {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }

    /// Integers arrive as strings (`"1800"`), sometimes with thousands separators in display
    /// values (`"1,800"`).
    pub fn u64(&self, field: &str) -> Option<u64> {
        if let Some(Value::Number(n)) = self.0.get(field) {
            return n.as_u64();
        }
        let s = self.str(field)?.trim();
        s.parse().ok().or_else(|| s.replace(',', "").parse().ok())
    }

    /// Whether the field came back at all (ServiceNow silently drops unknown fields).
    pub fn has(&self, field: &str) -> bool {
        self.0.contains_key(field)
    }
}

/// Finds the `rel="next"` target in a `Link` header:
/// `<https://…?sysparm_offset=10&sysparm_limit=10>;rel="next",<…>;rel="last"`.
///
/// Entries are split at commas outside `<…>` (URLs may contain commas, e.g. in `sysparm_fields`),
/// and `rel` may be quoted or bare and may list several relations.
pub fn link_next(header: &str) -> Option<String> {
    let mut entries = Vec::new();
    let mut depth = false;
    let mut start = 0;
    for (i, c) in header.char_indices() {
        match c {
            '<' => depth = true,
            '>' => depth = false,
            ',' if !depth => {
                entries.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    entries.push(&header[start..]);

    for entry in entries {
        let entry = entry.trim();
        let Some(open) = entry.find('<') else {
            continue;
        };
        let Some(close) = entry[open..].find('>').map(|c| c + open) else {
            continue;
        };
        let target = &entry[open + 1..close];
        let is_next = entry[close + 1..].split(';').any(|param| {
            let mut kv = param.splitn(2, '=');
            let key = kv.next().unwrap_or("").trim();
            let value = kv.next().unwrap_or("").trim().trim_matches('"');
            key.eq_ignore_ascii_case("rel")
                && value
                    .split_whitespace()
                    .any(|r| r.eq_ignore_ascii_case("next"))
        });
        if is_next {
            return Some(target.to_string());
        }
    }
    None
}

/// `sysparm_offset` from a next-page URL (absolute, or relative to the instance).
pub fn offset_of(link: &str) -> Option<u64> {
    let query = link.split_once('?')?.1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "sysparm_offset")
        .and_then(|(_, v)| v.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rec(v: Value) -> Record {
        Record(v.as_object().unwrap().clone())
    }

    #[test]
    fn record_reads_every_value_shape() {
        let r = rec(json!({
            "sys_id": "abc",
            "active": "true",
            "locked_out": "false",
            "web_service_access_only": true,
            "empty": "",
            "user": {"link": "https://x/api/now/table/sys_user/u1", "value": "u1"},
            "role": {"display_value": "admin", "link": "https://x"},
            "both": {"display_value": "Admin", "value": "r1"},
            "role.name": "itil",
            "lifespan": "1800",
            "big": "8,640,000",
            "n": 42
        }));
        assert_eq!(r.sys_id(), Some("abc"));
        assert_eq!(r.bool("active"), Some(true));
        assert_eq!(r.bool("locked_out"), Some(false));
        assert_eq!(r.bool("web_service_access_only"), Some(true));
        assert_eq!(r.bool("empty"), None);
        assert_eq!(r.bool("missing"), None);
        assert_eq!(r.str("user"), Some("u1"));
        assert_eq!(r.str("role"), None);
        assert_eq!(r.display("role"), Some("admin"));
        assert_eq!(r.str("both"), Some("r1"));
        assert_eq!(r.display("both"), Some("Admin"));
        assert_eq!(r.str("role.name"), Some("itil"));
        assert_eq!(r.u64("lifespan"), Some(1800));
        assert_eq!(r.u64("big"), Some(8_640_000));
        assert_eq!(r.u64("n"), Some(42));
        assert!(r.has("empty") && !r.has("nope"));
    }

    #[test]
    fn hidden_rows_only_when_counted_but_empty() {
        let p = |n: usize, total: Option<u64>| Page {
            records: vec![Record::default(); n],
            total_count: total,
            next_offset: None,
        };
        assert!(p(0, Some(24)).hidden_rows());
        assert!(!p(0, Some(0)).hidden_rows());
        assert!(!p(0, None).hidden_rows());
        assert!(!p(1, Some(24)).hidden_rows());
    }

    #[test]
    fn link_header_as_servicenow_sends_it() {
        let h = "<https://acme.service-now.com/api/now/table/cmdb_ci_server?sysparm_limit=1000&sysparm_offset=0>;rel=\"first\",<https://acme.service-now.com/api/now/table/cmdb_ci_server?sysparm_limit=1000&sysparm_offset=1000>;rel=\"next\",<https://acme.service-now.com/api/now/table/cmdb_ci_server?sysparm_limit=1000&sysparm_offset=28000>;rel=\"last\"";
        let next = link_next(h).unwrap();
        assert!(next.ends_with("sysparm_offset=1000"), "{next}");
        assert_eq!(offset_of(&next), Some(1000));
    }

    #[test]
    fn link_header_variants() {
        // Spaces, bare rel, commas inside the URL, several relations in one rel.
        let h = r#"<https://x/api?sysparm_fields=a,b&sysparm_offset=20> ; rel="prev", <https://x/api?sysparm_fields=a,b&sysparm_offset=40>; rel=next"#;
        assert_eq!(link_next(h).and_then(|l| offset_of(&l)), Some(40));
        let h = r#"</api/now/table/t?sysparm_offset=5>; rel="last next""#;
        assert_eq!(link_next(h).and_then(|l| offset_of(&l)), Some(5));
        let last_page = r#"<https://x/api?sysparm_offset=0>;rel="first",<https://x/api?sysparm_offset=10>;rel="prev",<https://x/api?sysparm_offset=10>;rel="last""#;
        assert_eq!(link_next(last_page), None);
        assert_eq!(link_next(""), None);
        assert_eq!(link_next("garbage"), None);
        assert_eq!(offset_of("https://x/api?sysparm_limit=5"), None);
    }

    #[test]
    fn list_params_in_stable_order() {
        let req = ListRequest::new()
            .query(crate::servicenow::Query::new().eq("user.user_name", "incident.io"))
            .fields(&["role.name", "inherited"])
            .limit(1)
            .offset(2)
            .display_value(DisplayValue::All)
            .exclude_reference_link(true);
        let p = req.params();
        let keys: Vec<&str> = p.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "sysparm_query",
                "sysparm_fields",
                "sysparm_limit",
                "sysparm_offset",
                "sysparm_display_value",
                "sysparm_exclude_reference_link"
            ]
        );
        assert_eq!(p[0].1, "user.user_name=incident.io");
        assert_eq!(p[1].1, "role.name,inherited");
        assert!(ListRequest::new().query("").query.is_none());
    }
}
