//! The sandbox's data dictionary: every table it serves, its display column and its columns, and
//! the values a fresh record gets. Data only; the behaviour is in `db.rs`.

use super::db::FieldKind;
use FieldKind::{Bool, Int, Password, Ref, Secret, Text};

/// The columns every table has.
pub(crate) const SYSTEM_FIELDS: &[(&str, FieldKind)] = &[
    ("sys_id", Text),
    ("sys_created_on", Text),
    ("sys_created_by", Text),
    ("sys_updated_on", Text),
    ("sys_updated_by", Text),
    ("sys_mod_count", Int),
];

/// Columns that the Table API does not let a caller write.
pub(crate) const READ_ONLY_FIELDS: &[&str] = &[
    "sys_id",
    "sys_created_on",
    "sys_created_by",
    "sys_updated_on",
    "sys_updated_by",
    "sys_mod_count",
];

pub(crate) type TableDef = (
    &'static str,
    &'static str,
    &'static [(&'static str, FieldKind)],
);

/// The dictionary: table, display column, columns (besides the system ones).
pub(crate) const TABLES: &[TableDef] = &[
    (
        "sys_scope",
        "name",
        &[
            ("scope", Text),
            ("name", Text),
            ("version", Text),
            ("active", Bool),
            ("vendor", Text),
            ("short_description", Text),
            ("sys_class_name", Text),
        ],
    ),
    (
        "sys_store_app",
        "name",
        &[
            ("scope", Text),
            ("name", Text),
            ("version", Text),
            ("latest_version", Text),
            ("active", Bool),
            ("update_available", Bool),
            ("vendor", Text),
            ("short_description", Text),
        ],
    ),
    (
        "sys_app",
        "name",
        &[
            ("scope", Text),
            ("name", Text),
            ("version", Text),
            ("active", Bool),
            ("vendor", Text),
            ("short_description", Text),
        ],
    ),
    (
        "oauth_entity",
        "name",
        &[
            ("name", Text),
            ("client_id", Text),
            ("client_secret", Secret),
            ("type", Text),
            ("active", Bool),
            ("access_token_lifespan", Int),
            ("refresh_token_lifespan", Int),
            ("redirect_url", Text),
            ("default_grant_type", Text),
            ("client_type", Text),
            ("token_format", Text),
            ("public_client", Bool),
            ("scope_restriction_status", Text),
            ("comments", Text),
            ("sys_scope", Ref("sys_scope")),
        ],
    ),
    (
        "sys_auth_scope",
        "name",
        &[
            ("name", Text),
            ("short_description", Text),
            ("active", Bool),
        ],
    ),
    (
        "oauth_entity_auth_scope_mapping",
        "sys_id",
        &[
            ("oauth_entity", Ref("oauth_entity")),
            ("auth_scope", Ref("sys_auth_scope")),
        ],
    ),
    (
        "sys_api_access_scope",
        "name",
        &[
            ("name", Text),
            ("active", Bool),
            ("api_path", Text),
            ("http_method", Text),
            ("auth_scope", Ref("sys_auth_scope")),
            ("apply_all_methods", Bool),
            ("apply_all_resources", Bool),
        ],
    ),
    (
        "sys_properties",
        "name",
        &[
            ("name", Text),
            ("value", Text),
            ("type", Text),
            ("description", Text),
        ],
    ),
    (
        "sys_user",
        "name",
        &[
            ("user_name", Text),
            ("name", Text),
            ("first_name", Text),
            ("last_name", Text),
            ("email", Text),
            ("active", Bool),
            ("locked_out", Bool),
            ("password_needs_reset", Bool),
            ("identity_type", Text),
            ("web_service_access_only", Bool),
            ("internal_integration_user", Bool),
            ("enable_multifactor_authn", Bool),
            ("failed_attempts", Int),
            ("user_password", Password),
            ("last_login_time", Text),
        ],
    ),
    (
        "sys_user_role",
        "name",
        &[
            ("name", Text),
            ("description", Text),
            ("suffix", Text),
            ("elevated_privilege", Bool),
        ],
    ),
    (
        "sys_user_group",
        "name",
        &[
            ("name", Text),
            ("description", Text),
            ("active", Bool),
            ("email", Text),
        ],
    ),
    (
        "sys_user_grmember",
        "sys_id",
        &[("user", Ref("sys_user")), ("group", Ref("sys_user_group"))],
    ),
    (
        "sys_group_has_role",
        "sys_id",
        &[
            ("group", Ref("sys_user_group")),
            ("role", Ref("sys_user_role")),
            ("inherits", Bool),
        ],
    ),
    (
        "sys_user_has_role",
        "sys_id",
        &[
            ("user", Ref("sys_user")),
            ("role", Ref("sys_user_role")),
            ("inherited", Bool),
            ("state", Text),
            ("granted_by", Ref("sys_user_group")),
            ("inh_count", Int),
        ],
    ),
    ("sys_security_operation", "name", &[("name", Text)]),
    ("sys_security_type", "name", &[("name", Text)]),
    (
        "sys_security_acl",
        "name",
        &[
            ("name", Text),
            ("operation", Ref("sys_security_operation")),
            ("type", Ref("sys_security_type")),
            ("active", Bool),
            ("admin_overrides", Bool),
            ("decision_type", Text),
            ("advanced", Bool),
            ("condition", Text),
            ("script", Text),
            ("description", Text),
            ("sys_scope", Ref("sys_scope")),
        ],
    ),
    (
        "sys_security_acl_role",
        "sys_id",
        &[
            ("sys_security_acl", Ref("sys_security_acl")),
            ("sys_user_role", Ref("sys_user_role")),
        ],
    ),
    // The posture check's tables (see `checks::posture` for their sources).
    (
        "sys_api_access_policy",
        "name",
        &[
            ("name", Text),
            ("active", Bool),
            ("api_path", Text),
            ("apply_all_tables", Bool),
            ("api_tablename", Text),
            ("http_method", Text),
            ("apply_all_methods", Bool),
        ],
    ),
    (
        "ip_access",
        "description",
        &[
            ("type", Text),
            ("direction", Text),
            ("active", Bool),
            ("range_start", Text),
            ("range_end", Text),
            ("description", Text),
        ],
    ),
    (
        "clone_data_preserver",
        "name",
        &[
            ("name", Text),
            ("table", Text),
            ("condition", Text),
            ("theme", Bool),
        ],
    ),
    (
        "incident",
        "number",
        &[
            ("number", Text),
            ("short_description", Text),
            ("state", Int),
            ("priority", Int),
            ("active", Bool),
            ("caller_id", Ref("sys_user")),
            ("cmdb_ci", Ref("cmdb_ci")),
            ("assignment_group", Ref("sys_user_group")),
        ],
    ),
    (
        "task",
        "number",
        &[
            ("number", Text),
            ("short_description", Text),
            ("state", Int),
            ("priority", Int),
            ("active", Bool),
            ("sys_class_name", Text),
            ("assignment_group", Ref("sys_user_group")),
        ],
    ),
    (
        "cmdb_ci",
        "name",
        &[
            ("name", Text),
            ("sys_class_name", Text),
            ("operational_status", Int),
            ("install_status", Int),
        ],
    ),
];

/// Values a fresh record gets when the insert does not say otherwise.
pub(crate) fn table_defaults(table: &str) -> &'static [(&'static str, &'static str)] {
    match table {
        "sys_user" => &[
            ("active", "true"),
            ("locked_out", "false"),
            ("password_needs_reset", "false"),
            ("web_service_access_only", "false"),
            ("internal_integration_user", "false"),
            ("enable_multifactor_authn", "false"),
            // Empty, not 0, on a user who never failed a login (facts sheet, Corrections 5).
            ("failed_attempts", ""),
        ],
        "oauth_entity" => &[
            ("type", "client"),
            ("active", "true"),
            ("access_token_lifespan", "1800"),
            ("refresh_token_lifespan", "8640000"),
            ("token_format", "opaque"),
            ("public_client", "false"),
            ("sys_scope", "global"),
        ],
        "sys_user_has_role" => &[
            ("inherited", "false"),
            ("state", "active"),
            ("inh_count", "0"),
        ],
        "sys_group_has_role" => &[("inherits", "true")],
        // incident's out-of-box defaults: New, active, impact and urgency 3 - Low, so priority
        // 5 - Planning.
        "incident" | "task" => &[
            ("active", "true"),
            ("state", "1"),
            ("impact", "3"),
            ("urgency", "3"),
            ("priority", "5"),
        ],
        "sys_security_acl" => &[
            ("type", "record"),
            ("active", "true"),
            ("admin_overrides", "true"),
            ("decision_type", "allow"),
            ("advanced", "false"),
            ("sys_scope", "global"),
        ],
        "sys_scope" | "sys_store_app" | "sys_app" => &[("active", "true")],
        "sys_auth_scope" | "sys_api_access_scope" | "sys_user_group" => &[("active", "true")],
        "sys_user_role" => &[("elevated_privilege", "false")],
        _ => &[],
    }
}
