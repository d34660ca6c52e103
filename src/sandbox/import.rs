//! Importing an update-set file, as an admin elevated to `security_admin` does on an instance:
//! load it, preview it, commit it (`POST /__sandbox/import_update_set`, or
//! [`Db::import_update_set`] in tests).
//!
//! The preview is modelled on the problems a real one reports before anything is committed: a
//! table the instance does not have, and a reference to a record that is not there ("Could not
//! find a record in sys_user_role for column sys_user_role referenced in this update"). Either
//! stops the import with nothing changed. The commit then writes each record by its sys_id:
//! inserted when new, updated when it differs, left alone when it already holds those values,
//! so importing the same file twice changes nothing the second time.

use serde::Serialize;

use super::db::{Db, FieldKind};
use crate::updateset::{self, Record};

/// What a commit did, by `<table>_<sys_id>` change name.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    pub update_set: String,
    pub inserted: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
}

/// Fields the platform keeps for itself; an update's values for them are not written.
const BOOKKEEPING: &[&str] = &["sys_class_name", "sys_update_name", "sys_id"];

fn values_of(record: &Record) -> Vec<(String, String)> {
    record
        .fields
        .iter()
        .filter(|f| !BOOKKEEPING.contains(&f.name.as_str()))
        .map(|f| (f.name.clone(), f.value.clone()))
        .collect()
}

impl Db {
    /// The preview's problems for `set`: one line each, empty when it can be committed.
    pub fn preview_update_set(&self, set: &updateset::UpdateSet) -> Vec<String> {
        let mut problems = Vec::new();
        for record in &set.records {
            let Some(schema) = self.schema(&record.table) else {
                problems.push(format!(
                    "{}: the table {} does not exist on this instance",
                    record.update_name(),
                    record.table
                ));
                continue;
            };
            for (name, value) in values_of(record) {
                let Some(FieldKind::Ref(target)) = schema.field(&name).map(|f| f.kind) else {
                    continue;
                };
                // A reference to a record the same update set brings is fine.
                let brought = set
                    .records
                    .iter()
                    .any(|r| r.table == target && r.sys_id == value);
                if !value.is_empty() && !brought && self.get(target, &value).is_none() {
                    problems.push(format!(
                        "{}: Could not find a record in {target} for column {name} referenced \
                         in this update ({value})",
                        record.update_name()
                    ));
                }
            }
        }
        problems
    }

    /// Loads, previews and commits an update-set file as `actor`. A file that does not parse or
    /// whose preview finds problems changes nothing.
    pub fn import_update_set(&mut self, xml: &str, actor: &str) -> Result<ImportOutcome, String> {
        let set = updateset::parse(xml).map_err(|e| format!("could not load the file: {e}"))?;
        let problems = self.preview_update_set(&set);
        if !problems.is_empty() {
            return Err(format!(
                "the preview found problems, nothing was committed:\n{}",
                problems.join("\n")
            ));
        }
        let mut outcome = ImportOutcome {
            update_set: set.name.clone(),
            ..ImportOutcome::default()
        };
        // References first: ACLs before the role links that point at them.
        let mut records: Vec<&Record> = set.records.iter().collect();
        records.sort_by_key(|r| r.table == "sys_security_acl_role");
        for record in records {
            let values = values_of(record);
            let name = record.update_name();
            match self.get(&record.table, &record.sys_id) {
                Some(row) => {
                    let same = values
                        .iter()
                        .filter(|(k, _)| row.contains_key(k))
                        .all(|(k, v)| row.get(k) == Some(v));
                    if same {
                        outcome.unchanged.push(name);
                    } else {
                        self.update_as(&record.table, &record.sys_id, values, actor)
                            .map_err(|e| format!("{name}: {e}"))?;
                        outcome.updated.push(name);
                    }
                }
                None => {
                    let mut with_id = values;
                    with_id.push(("sys_id".into(), record.sys_id.clone()));
                    self.insert_as(&record.table, with_id, actor)
                        .map_err(|e| format!("{name}: {e}"))?;
                    outcome.inserted.push(name);
                }
            }
        }
        Ok(outcome)
    }
}
