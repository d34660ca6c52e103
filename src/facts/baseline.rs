//! What changed since the last good run (issue 15): after a healthy run the facts that matter
//! are kept per profile in the state directory; when a later run fails, the report names each
//! record and field that differs, old -> new.
//!
//! A baseline is records (`oauth_entity 'incident.io'`, `sys_user 'incident.io'`, `task ACL
//! read`, …), each a map of field -> value as text. Only what the admin side read goes in: without
//! admin facts there is no baseline, and a lookup that failed or was hidden leaves its records
//! out, so a failure to read is never reported as a change.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::Facts;
use crate::checks::Lookup;

/// The facts that matter, by record.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Baseline {
    /// When it was taken (Unix seconds).
    pub taken_at: u64,
    pub records: BTreeMap<String, BTreeMap<String, String>>,
}

/// One field of one record that differs from the baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Change {
    pub record: String,
    pub field: String,
    /// `None`: the record or field was not there.
    pub old: Option<String>,
    pub new: Option<String>,
    /// Who changed the record and when, as the instance says, for a field of the record itself
    /// (not for its roles or scopes, whose rows live in other tables).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
}

/// The key that keeps a record's `sys_updated_by`/`on` beside its fields; never compared.
const UPDATED: &str = "_updated";

/// Fields that gather rows of other tables: the record's own update stamp says nothing of them.
const GATHERED: [&str; 2] = ["roles", "auth scopes"];

/// What changed since a baseline, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Changes {
    /// When the baseline was taken (Unix seconds).
    pub since: u64,
    pub changes: Vec<Change>,
}

fn flag(value: Option<bool>) -> String {
    match value {
        Some(true) => "true".into(),
        Some(false) => "false".into(),
        None => "(empty)".into(),
    }
}

fn rows<T>(lookup: &Lookup<T>) -> Option<&[T]> {
    match lookup {
        Lookup::Rows(rows) => Some(rows),
        _ => None,
    }
}

impl Baseline {
    /// The baseline of `facts`, or `None` when the admin side was not read.
    pub fn of(facts: &Facts, username: &str, taken_at: u64) -> Option<Baseline> {
        if !facts.admin_ok() {
            return None;
        }
        let mut records: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        if let Some(entries) = rows(&facts.entries) {
            for e in entries.iter().filter(|e| e.is_incident_io()) {
                let record = records
                    .entry(format!("oauth_entity '{}' ({})", e.name, e.sys_id))
                    .or_default();
                if let Some(by) = e.updated.describe() {
                    record.insert(UPDATED.into(), by);
                }
                record.insert("active".into(), flag(e.active));
                record.insert(
                    "client_id".into(),
                    e.client_id.clone().unwrap_or_else(|| "(empty)".into()),
                );
                if let Some(mappings) = rows(&facts.mappings) {
                    let mut scopes: Vec<String> = mappings
                        .iter()
                        .filter(|m| m.oauth_entity == e.sys_id)
                        .map(|m| m.auth_scope_name.clone().unwrap_or(m.auth_scope.clone()))
                        .collect();
                    scopes.sort();
                    record.insert("auth scopes".into(), scopes.join(", "));
                }
            }
        }
        if let Some([user]) = rows(&facts.user) {
            let record = records.entry(format!("sys_user '{username}'")).or_default();
            if let Some(by) = user.updated.describe() {
                record.insert(UPDATED.into(), by);
            }
            record.insert("active".into(), flag(user.active));
            record.insert("locked_out".into(), flag(user.locked_out));
            record.insert(
                "password_needs_reset".into(),
                flag(user.password_needs_reset),
            );
            if let Some(held) = rows(&facts.held) {
                let mut names: Vec<String> = held
                    .iter()
                    .filter(|h| h.state.as_deref().is_none_or(|s| s == "active"))
                    .map(|h| h.name.clone())
                    .collect();
                names.sort();
                names.dedup();
                record.insert("roles".into(), names.join(", "));
            }
        }
        if let (Some(acls), Some(links)) = (rows(&facts.acls), rows(&facts.acl_roles)) {
            for acl in acls {
                let record = records
                    .entry(format!("task ACL {} ({})", acl.operation, acl.sys_id))
                    .or_default();
                if let Some(by) = acl.updated.describe() {
                    record.insert(UPDATED.into(), by);
                }
                record.insert("active".into(), flag(acl.active));
                record.insert("admin_overrides".into(), flag(acl.admin_overrides));
                record.insert(
                    "decision_type".into(),
                    acl.decision_type.clone().unwrap_or_else(|| "allow".into()),
                );
                let mut roles: Vec<String> = links
                    .iter()
                    .filter(|l| l.acl == acl.sys_id)
                    .filter_map(|l| l.role.clone())
                    .collect();
                roles.sort();
                record.insert("roles".into(), roles.join(", "));
            }
        }
        Some(Baseline { taken_at, records })
    }

    /// What differs in `now`, record by record and field by field.
    pub fn changes_to(&self, now: &Baseline) -> Changes {
        let mut changes = Vec::new();
        let names: std::collections::BTreeSet<&String> =
            self.records.keys().chain(now.records.keys()).collect();
        for name in names {
            let (old, new) = (self.records.get(name), now.records.get(name));
            let fields: std::collections::BTreeSet<&String> = old
                .into_iter()
                .flat_map(|r| r.keys())
                .chain(new.into_iter().flat_map(|r| r.keys()))
                .collect();
            for field in fields.into_iter().filter(|f| f.as_str() != UPDATED) {
                let before = old.and_then(|r| r.get(field)).cloned();
                let after = new.and_then(|r| r.get(field)).cloned();
                if before != after {
                    let by = new
                        .filter(|_| !GATHERED.contains(&field.as_str()))
                        .and_then(|r| r.get(UPDATED))
                        .cloned();
                    changes.push(Change {
                        record: name.clone(),
                        field: field.clone(),
                        old: before,
                        new: after,
                        by,
                    });
                }
            }
        }
        Changes {
            since: self.taken_at,
            changes,
        }
    }
}

fn path(state_dir: &Path, profile: &str) -> PathBuf {
    state_dir.join("baselines").join(format!("{profile}.json"))
}

/// The last good run's baseline of `profile`, if one was kept.
pub fn load(state_dir: &Path, profile: &str) -> Option<Baseline> {
    let text = crate::localfile::read_small_text(&path(state_dir, profile), 1 << 20).ok()?;
    serde_json::from_str(&text).ok()
}

/// Keeps `baseline` as the last good run's. Losing it only loses the comparison.
pub fn save(state_dir: &Path, profile: &str, baseline: &Baseline) {
    if let Ok(text) = serde_json::to_string_pretty(baseline) {
        let _ = crate::credentials::fsutil::write_private_atomically(
            &path(state_dir, profile),
            text.as_bytes(),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(records: &[(&str, &[(&str, &str)])]) -> Baseline {
        Baseline {
            taken_at: 1,
            records: records
                .iter()
                .map(|(r, fields)| {
                    (
                        r.to_string(),
                        fields
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn a_changed_field_a_gone_record_and_a_new_one_are_each_named() {
        let before = base(&[
            (
                "sys_user 'incident.io'",
                &[("roles", "a, b"), ("active", "true")],
            ),
            ("task ACL read (1)", &[("active", "true")]),
        ]);
        let after = base(&[
            (
                "sys_user 'incident.io'",
                &[("roles", "a"), ("active", "true")],
            ),
            ("task ACL write (2)", &[("active", "true")]),
        ]);
        let c = before.changes_to(&after);
        let shown: Vec<String> = c
            .changes
            .iter()
            .map(|c| format!("{} {}: {:?} -> {:?}", c.record, c.field, c.old, c.new))
            .collect();
        assert_eq!(
            shown,
            [
                "sys_user 'incident.io' roles: Some(\"a, b\") -> Some(\"a\")",
                "task ACL read (1) active: Some(\"true\") -> None",
                "task ACL write (2) active: None -> Some(\"true\")",
            ]
        );
        assert!(before.changes_to(&before).changes.is_empty());
        // The update stamp is cited, never compared, and only for the record's own fields.
        let stamped = |by: &str, active: &str| {
            base(&[(
                "sys_user 'u'",
                &[("_updated", by), ("active", active), ("roles", "a")],
            )])
        };
        let c = stamped("by x on 1", "true").changes_to(&stamped("by y on 2", "false"));
        assert_eq!(c.changes.len(), 1, "{c:?}");
        assert_eq!(c.changes[0].by.as_deref(), Some("by y on 2"));
    }
}
