//! What a caller may read and write: a simple model of ACLs and REST API auth scopes.
//!
//! Reads are all-or-nothing per table: `admin` reads everything (except an ACL table kept
//! security_admin-only), others read a table when they hold one of the roles in
//! [`Db::read_roles`], and for `task` also pass a record ACL in `sys_security_acl`. Denied list
//! reads are not errors: the server answers 200 with an empty result and an ACL-blind count.

use super::auth::{entity_scopes, useraccount_scope_id, Caller};
use super::db::Db;

/// A record operation, named as in `sys_security_operation`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Read,
    Create,
    Write,
    Delete,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Create => "create",
            Operation::Write => "write",
            Operation::Delete => "delete",
        }
    }

    /// The word the platform uses in "ACL Exception <word> Failed".
    pub fn exception_word(self) -> &'static str {
        match self {
            Operation::Read => "Read",
            Operation::Create => "Insert",
            Operation::Write => "Update",
            Operation::Delete => "Delete",
        }
    }
}

/// Tables whose ACLs are evaluated from the records in the db (the integration's ACL step).
const ACL_EVALUATED: &[&str] = &["task"];
/// Tables whose rows a non-admin may write when they can read them (and pass the ACL).
const DATA_TABLES: &[&str] = &["incident", "task", "cmdb_ci"];
/// Tables that need security_admin elevation to write, which a REST session cannot carry.
const ACL_TABLES: &[&str] = &["sys_security_acl", "sys_security_acl_role"];

/// Whether the record ACLs on `table` for `op` let the caller through.
///
/// An active Allow If ACL passes when it requires no role or one the caller holds; an active Deny
/// Unless ACL with roles the caller lacks vetoes. No passing Allow If ACL means denied.
pub fn acl_allows(db: &Db, caller: &Caller, table: &str, op: Operation) -> bool {
    let acls = db.find(
        "sys_security_acl",
        &format!(
            "name={table}^operation={}^type=record^active=true",
            op.name()
        ),
    );
    let roles_of_acl = |acl_id: &str| -> Vec<String> {
        db.find(
            "sys_security_acl_role",
            &format!("sys_security_acl={acl_id}"),
        )
        .into_iter()
        .map(|r| db.value_at("sys_security_acl_role", r, "sys_user_role.name"))
        .filter(|n| !n.is_empty())
        .collect()
    };
    let mut allowed = false;
    for acl in acls {
        let id = acl.get("sys_id").map(String::as_str).unwrap_or("");
        let roles = roles_of_acl(id);
        let passes = roles.is_empty() || caller.holds_any(&roles);
        match acl.get("decision_type").map(String::as_str) {
            Some("deny") if !passes => return false,
            Some("deny") => {}
            _ => allowed |= passes,
        }
    }
    allowed
}

/// Whether the caller sees a table's rows.
pub fn can_read(db: &Db, caller: &Caller, table: &str) -> bool {
    if table == "sys_security_acl" && db.acl_hidden {
        return false;
    }
    if caller.is_admin() {
        return true;
    }
    let Some(roles) = db.read_roles.get(table) else {
        return false;
    };
    if !caller.holds_any(roles) {
        return false;
    }
    !ACL_EVALUATED.contains(&table) || acl_allows(db, caller, table, Operation::Read)
}

/// Whether the caller may create or update rows of a table.
pub fn can_write(db: &Db, caller: &Caller, table: &str, op: Operation) -> bool {
    if ACL_TABLES.contains(&table) {
        return db.allow_acl_insert && caller.is_admin();
    }
    if caller.is_admin() {
        return true;
    }
    DATA_TABLES.contains(&table)
        && can_read(db, caller, table)
        && (!ACL_EVALUATED.contains(&table) || acl_allows(db, caller, table, op))
}

/// Whether REST API auth scopes block this caller from the Table API.
///
/// Only bearer tokens are subject to them (Basic auth never is). They apply when the check is on
/// (`com.glide.rest.api.auth.scope.check.enable`, default true) and an active
/// `sys_api_access_scope` covers the Table API; the token's entity then needs `useraccount` or
/// the auth scope that record names.
pub fn api_scope_blocks(db: &Db, caller: &Caller) -> bool {
    let Some(entity) = caller.entity.as_deref() else {
        return false;
    };
    if db
        .property("com.glide.rest.api.auth.scope.check.enable")
        .as_deref()
        == Some("false")
    {
        return false;
    }
    let restrictions = db.find(
        "sys_api_access_scope",
        "active=true^api_path=now/table^ORapi_pathISEMPTY",
    );
    if restrictions.is_empty() {
        return false;
    }
    let held = entity_scopes(db, entity);
    if useraccount_scope_id(db).is_some_and(|ua| held.contains(&ua)) {
        return false;
    }
    !restrictions.iter().any(|r| {
        r.get("auth_scope")
            .is_some_and(|needed| held.contains(needed))
    })
}
