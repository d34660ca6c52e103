//! A builder for ServiceNow encoded queries (`sysparm_query`).
//!
//! Encoded queries are a string language: `name=incident.io^active=true^ORuser_name=x`. Building
//! them by `format!` invites two bugs: a value holding `^` silently splits the condition (and can
//! add conditions nobody wrote), and dot-walked conditions get hard to read. The builder escapes
//! `^` in values as `^^` and keeps one method per operator; field names, including dot-walks such
//! as `user.user_name`, are passed as they are.
//!
//! ServiceNow ignores conditions on unknown fields (unless `glide.invalid_query.returns_no_rows` is
//! set), so a misspelt field matches every row: callers should still check returned values.

use std::fmt;

/// How a condition joins the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Join {
    And,
    Or,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Cond(Join, String),
    NewQuery,
    OrderBy(String, bool),
}

/// An encoded query under construction; `build()` (or `to_string()`) gives the `sysparm_query`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    parts: Vec<Part>,
}

/// Escapes a value for an encoded query: `^` is the condition separator, doubled to stay literal.
pub fn escape_value(value: &str) -> String {
    value.replace('^', "^^")
}

impl Query {
    pub fn new() -> Query {
        Query::default()
    }

    fn push(mut self, join: Join, cond: String) -> Query {
        self.parts.push(Part::Cond(join, cond));
        self
    }

    fn op(self, join: Join, field: &str, op: &str, value: &str) -> Query {
        let cond = format!("{field}{op}{}", escape_value(value));
        self.push(join, cond)
    }

    /// `field=value`
    pub fn eq(self, field: &str, value: &str) -> Query {
        self.op(Join::And, field, "=", value)
    }

    /// `field!=value`
    pub fn ne(self, field: &str, value: &str) -> Query {
        self.op(Join::And, field, "!=", value)
    }

    /// `fieldSTARTSWITHvalue`
    pub fn starts_with(self, field: &str, value: &str) -> Query {
        self.op(Join::And, field, "STARTSWITH", value)
    }

    /// `fieldENDSWITHvalue`
    pub fn ends_with(self, field: &str, value: &str) -> Query {
        self.op(Join::And, field, "ENDSWITH", value)
    }

    /// `fieldLIKEvalue` (contains).
    pub fn like(self, field: &str, value: &str) -> Query {
        self.op(Join::And, field, "LIKE", value)
    }

    /// `fieldINa,b,c`. ServiceNow has no escape for a comma inside an `IN` value, so values must
    /// not contain one (names and sys_ids never do).
    pub fn is_in(self, field: &str, values: &[&str]) -> Query {
        let list: Vec<String> = values.iter().map(|v| escape_value(v)).collect();
        self.push(Join::And, format!("{field}IN{}", list.join(",")))
    }

    /// `fieldNOT INa,b,c`; the same comma caveat as [`Query::is_in`].
    pub fn not_in(self, field: &str, values: &[&str]) -> Query {
        let list: Vec<String> = values.iter().map(|v| escape_value(v)).collect();
        self.push(Join::And, format!("{field}NOT IN{}", list.join(",")))
    }

    /// `fieldISEMPTY`
    pub fn is_empty(self, field: &str) -> Query {
        self.push(Join::And, format!("{field}ISEMPTY"))
    }

    /// `fieldISNOTEMPTY`
    pub fn is_not_empty(self, field: &str) -> Query {
        self.push(Join::And, format!("{field}ISNOTEMPTY"))
    }

    /// `^ORfield=value`: ORed with the condition before it (ServiceNow binds OR tighter than AND).
    pub fn or_eq(self, field: &str, value: &str) -> Query {
        self.op(Join::Or, field, "=", value)
    }

    /// `^ORfieldSTARTSWITHvalue`
    pub fn or_starts_with(self, field: &str, value: &str) -> Query {
        self.op(Join::Or, field, "STARTSWITH", value)
    }

    /// `^ORfieldENDSWITHvalue`
    pub fn or_ends_with(self, field: &str, value: &str) -> Query {
        self.op(Join::Or, field, "ENDSWITH", value)
    }

    /// `^NQ`: starts a second query whose rows are added to the first's.
    pub fn new_query(mut self) -> Query {
        self.parts.push(Part::NewQuery);
        self
    }

    /// `ORDERBYfield`
    pub fn order_by(mut self, field: &str) -> Query {
        self.parts.push(Part::OrderBy(field.to_string(), false));
        self
    }

    /// `ORDERBYDESCfield`
    pub fn order_by_desc(mut self, field: &str) -> Query {
        self.parts.push(Part::OrderBy(field.to_string(), true));
        self
    }

    pub fn is_blank(&self) -> bool {
        self.parts.is_empty()
    }

    /// The encoded query string.
    pub fn build(&self) -> String {
        let mut out = String::new();
        let mut at_start = true;
        for part in &self.parts {
            match part {
                Part::Cond(join, cond) => {
                    if !at_start {
                        out.push_str(match join {
                            Join::And => "^",
                            Join::Or => "^OR",
                        });
                    }
                    out.push_str(cond);
                    at_start = false;
                }
                Part::NewQuery => {
                    out.push_str("^NQ");
                    at_start = true;
                }
                Part::OrderBy(field, desc) => {
                    if !out.is_empty() && !at_start {
                        out.push('^');
                    }
                    out.push_str(if *desc { "ORDERBYDESC" } else { "ORDERBY" });
                    out.push_str(field);
                    at_start = false;
                }
            }
        }
        out
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.build())
    }
}

impl From<Query> for String {
    fn from(q: Query) -> String {
        q.build()
    }
}

impl From<&Query> for String {
    fn from(q: &Query) -> String {
        q.build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_join_with_caret() {
        let q = Query::new()
            .eq("name", "incident.io")
            .eq("active", "true")
            .build();
        assert_eq!(q, "name=incident.io^active=true");
    }

    #[test]
    fn dot_walked_conditions_read_naturally() {
        let q = Query::new()
            .eq("user.user_name", "incident.io")
            .is_in(
                "role.name",
                &["x_incident_io.api_user", "cmdb_read", "admin"],
            )
            .eq("state", "active")
            .build();
        assert_eq!(
            q,
            "user.user_name=incident.io^role.nameINx_incident_io.api_user,cmdb_read,admin^state=active"
        );
    }

    #[test]
    fn caret_in_values_is_escaped() {
        let q = Query::new().eq("name", "a^b").build();
        assert_eq!(q, "name=a^^b");
        let q = Query::new().eq("name", "x^ORactive=false").build();
        assert_eq!(q, "name=x^^ORactive=false");
        let q = Query::new().is_in("name", &["a^b", "c"]).build();
        assert_eq!(q, "nameINa^^b,c");
    }

    #[test]
    fn every_operator() {
        let q = Query::new()
            .ne("a", "1")
            .starts_with("b", "task.")
            .ends_with("c", "x")
            .like("d", "mid")
            .not_in("e", &["p", "q"])
            .is_empty("f")
            .is_not_empty("g")
            .build();
        assert_eq!(
            q,
            "a!=1^bSTARTSWITHtask.^cENDSWITHx^dLIKEmid^eNOT INp,q^fISEMPTY^gISNOTEMPTY"
        );
    }

    #[test]
    fn or_new_query_and_ordering() {
        let q = Query::new()
            .eq("name", "task")
            .or_starts_with("name", "task.")
            .or_eq("name", "incident")
            .new_query()
            .eq("name", "cmdb_ci")
            .order_by("name")
            .order_by_desc("sys_updated_on")
            .build();
        assert_eq!(
            q,
            "name=task^ORnameSTARTSWITHtask.^ORname=incident^NQname=cmdb_ci^ORDERBYname^ORDERBYDESCsys_updated_on"
        );
        assert_eq!(Query::new().order_by("name").build(), "ORDERBYname");
        assert!(Query::new().is_blank());
        assert_eq!(Query::new().build(), "");
    }

    #[test]
    fn converts_to_string() {
        let s: String = Query::new().eq("a", "b").into();
        assert_eq!(s, "a=b");
        assert_eq!(Query::new().eq("a", "b").to_string(), "a=b");
    }
}
