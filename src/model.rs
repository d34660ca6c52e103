//! The domain's own vocabulary: check ids, setup paths, statuses, severities and finding codes.
//!
//! Every layer speaks these types; none of them knows the command line. `cli.rs` maps its flags
//! onto them (it implements clap's `ValueEnum` for [`CheckId`] and [`SetupPath`]), so a domain
//! module never imports clap, and a stable string (`service_user.locked_out`, `task_acls`) is
//! spelled in exactly one place.

use std::fmt;

use serde::{Serialize, Serializer};

/// Stable check ids, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CheckId {
    Instance,
    App,
    OauthApp,
    ServiceUser,
    Roles,
    TaskAcls,
    /// What breaks the integration later: privileges, login flags, API access policies, IP
    /// rules, clone preservers, MFA.
    Posture,
    Connect,
}

impl CheckId {
    pub const ALL: [CheckId; 8] = [
        CheckId::Instance,
        CheckId::App,
        CheckId::OauthApp,
        CheckId::ServiceUser,
        CheckId::Roles,
        CheckId::TaskAcls,
        CheckId::Posture,
        CheckId::Connect,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CheckId::Instance => "instance",
            CheckId::App => "app",
            CheckId::OauthApp => "oauth_app",
            CheckId::ServiceUser => "service_user",
            CheckId::Roles => "roles",
            CheckId::TaskAcls => "task_acls",
            CheckId::Posture => "posture",
            CheckId::Connect => "connect",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            CheckId::Instance => "Instance",
            CheckId::App => "incident.io app",
            CheckId::OauthApp => "OAuth application",
            CheckId::ServiceUser => "Service user",
            CheckId::Roles => "Roles",
            CheckId::TaskAcls => "Task ACLs",
            CheckId::Posture => "Posture",
            CheckId::Connect => "Connect",
        }
    }
}

impl Serialize for CheckId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The two documented ways to connect (see the setup document).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SetupPath {
    /// The incident.io Store app, its api_user role, and three ACLs on task (recommended).
    App,
    /// No app: the service user holds admin, and no ACLs are needed.
    Admin,
}

impl SetupPath {
    pub fn as_str(self) -> &'static str {
        match self {
            SetupPath::App => "app",
            SetupPath::Admin => "admin",
        }
    }
}

impl SetupPath {
    pub const ALL: [SetupPath; 2] = [SetupPath::App, SetupPath::Admin];

    /// What the path means, for help text and menus.
    pub fn describe(self) -> &'static str {
        match self {
            SetupPath::App => {
                "The incident.io Store app, its api_user role, and three ACLs on task (recommended)"
            }
            SetupPath::Admin => "No app: the service user holds admin, and no ACLs are needed",
        }
    }
}

/// The outcome of one check.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
    Skip,
}

impl Status {
    /// One character for a status in a column or a step line: ✓ ! ✗ -.
    pub fn mark(self) -> &'static str {
        match self {
            Status::Pass => "✓",
            Status::Warn => "!",
            Status::Fail => "✗",
            Status::Skip => "-",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Skip => "skip",
        }
    }
}

/// How much a finding matters: `error` fails its check, `warning` makes it warn, `note` is a
/// skip's reason or plain information.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "note",
        }
    }
}

/// Declares [`FindingCode`] with its stable string, so the two cannot drift apart.
macro_rules! finding_codes {
    ($($(#[$doc:meta])* $variant:ident => $code:literal,)*) => {
        /// Every finding a check can report. The dotted strings are part of the contract: users'
        /// CI matches on them, so a code is never renamed or reused for something else.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum FindingCode {
            $($(#[$doc])* $variant,)*
        }

        impl FindingCode {
            /// All codes, for the uniqueness test and for documentation.
            pub const ALL: &'static [FindingCode] = &[$(FindingCode::$variant,)*];

            /// The stable dotted string, e.g. `service_user.locked_out`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(FindingCode::$variant => $code,)*
                }
            }
        }
    };
}

finding_codes! {
    // instance
    /// Nothing answered at the address (DNS, refused connection).
    InstanceUnreachable => "instance.unreachable",
    /// The instance did not answer within `--timeout`.
    InstanceTimeout => "instance.timeout",
    /// The TLS handshake failed (untrusted certificate, TLS-inspecting proxy).
    InstanceTls => "instance.tls",
    /// A developer instance asleep: the hibernation page instead of the API.
    InstanceHibernating => "instance.hibernating",
    /// An HTML login or SSO page where the API should answer.
    InstanceLoginPage => "instance.login_page",
    /// Something answered, but not as a ServiceNow instance.
    InstanceNotServiceNow => "instance.not_servicenow",
    /// The admin user name and password (or token) were refused.
    InstanceAdminRejected => "instance.admin_rejected",
    /// The admin's credentials were refused on an earlier run and were not tried again.
    InstanceAdminRefusedBefore => "instance.admin_refused_before",
    /// The admin is enrolled in MFA and the instance enforces it for API logins.
    InstanceAdminMfa => "instance.admin_mfa_required",
    /// 5xx after the bounded retries.
    InstanceServerError => "instance.server_error",
    /// 429 after the bounded retries.
    InstanceRateLimited => "instance.rate_limited",
    /// Any other answer the checks cannot work with.
    InstanceUnexpected => "instance.unexpected_response",
    /// No admin credentials: only the instance's identity was checked.
    InstanceAnonymousOnly => "instance.anonymous_only",
    /// The instance's TLS certificate ends within the warning period (or already has).
    InstanceCertificateExpiring => "instance.certificate_expiring",

    // app
    AppNotInstalled => "app.not_installed",
    AppInactive => "app.inactive",
    /// The scope exists only as an app built on the instance, not as the Store app.
    AppCustomOnly => "app.custom_app_only",
    AppVersion => "app.version",
    AppUpdateAvailable => "app.update_available",
    AppCannotSee => "app.cannot_see",
    AppQueryFailed => "app.query_failed",

    // oauth_app
    OauthMissing => "oauth_app.missing",
    OauthInactive => "oauth_app.inactive",
    OauthDuplicate => "oauth_app.duplicate",
    OauthScopeMissing => "oauth_app.scope_missing",
    /// The scope mapping table could not be read, so the scope cannot be confirmed.
    OauthScopeUnverified => "oauth_app.scope_unverified",
    OauthRopcDisabled => "oauth_app.password_grant_disabled",
    OauthDisabled => "oauth_app.oauth_disabled",
    OauthClientIdMismatch => "oauth_app.client_id_mismatch",
    OauthTokenLifespans => "oauth_app.token_lifespans",
    /// A token lifespan too short for an unattended integration (warning, with the date).
    OauthTokenLifespanShort => "oauth_app.token_lifespan_short",
    OauthCannotSee => "oauth_app.cannot_see",
    OauthQueryFailed => "oauth_app.query_failed",

    // service_user
    UserMissing => "service_user.missing",
    UserInactive => "service_user.inactive",
    UserLockedOut => "service_user.locked_out",
    UserPasswordNeedsReset => "service_user.password_needs_reset",
    UserNotMachine => "service_user.not_machine",
    /// The release has no identity type field on users.
    UserIdentityTypeUnavailable => "service_user.identity_type_unavailable",
    UserFailedAttempts => "service_user.failed_attempts",
    UserCannotSee => "service_user.cannot_see",
    UserQueryFailed => "service_user.query_failed",

    // roles
    RolesMissing => "roles.missing",
    /// `x_incident_io.api_user` does not exist on the instance: the app is missing.
    RolesAppRoleAbsent => "roles.app_role_absent",
    RolesAdminSatisfies => "roles.admin_satisfies",
    RolesCannotSee => "roles.cannot_see",
    RolesQueryFailed => "roles.query_failed",
    RolesNoUser => "roles.no_user",

    // task_acls
    AclMissing => "task_acls.missing",
    AclInactive => "task_acls.inactive",
    AclDenyUnless => "task_acls.deny_unless",
    AclNoRole => "task_acls.no_role",
    AclWrongRole => "task_acls.wrong_role",
    AclAdminOverridesOff => "task_acls.admin_overrides_off",
    AclNotGlobal => "task_acls.not_global",
    AclCannotSee => "task_acls.cannot_see",
    AclQueryFailed => "task_acls.query_failed",
    AclNotNeeded => "task_acls.not_needed",

    // posture
    /// The service user holds privileged roles the path does not need (admin on the app path,
    /// security_admin, other *_admin roles).
    PosturePrivilegedRoles => "posture.privileged_roles",
    /// The service user may sign in to the UI (Web service access only unticked).
    PostureUiLogin => "posture.ui_login_allowed",
    /// Internal Integration User is ticked: not needed for REST.
    PostureInternalIntegration => "posture.internal_integration_user",
    /// MFA settings that touch the service user or integrations (information).
    PostureMfa => "posture.mfa",
    /// An active REST API access policy decides which authentication the Table API accepts on
    /// the tables incident.io uses.
    PostureApiAccessPolicy => "posture.api_access_policy",
    /// An IP access rule blocks one of incident.io's addresses.
    PostureIpBlocked => "posture.ip_blocked",
    /// Deny rules exist, and incident.io's addresses were not given to check against them.
    PostureIpUnchecked => "posture.ip_unchecked",
    /// A non-production instance with no clone preserver for the OAuth entry or the user.
    PostureCloneNotPreserved => "posture.clone_not_preserved",
    /// A posture fact could not be read: what it would have shown is unknown.
    PostureCannotCheck => "posture.could_not_check",

    // connect
    ConnectAccessDenied => "connect.access_denied",
    ConnectTokenFailed => "connect.token_failed",
    ConnectTableDenied => "connect.table_denied",
    ConnectTableHidden => "connect.table_hidden",
    ConnectScopeBlocked => "connect.scope_blocked",
    ConnectTableFailed => "connect.table_failed",
    /// Some rows of a table are hidden from the service user by row-level ACLs (a note).
    ConnectRowsPartlyHidden => "connect.rows_partly_hidden",
    /// A token minted a moment ago was refused with 401: access policies or token restrictions.
    ConnectTokenRejected => "connect.token_rejected",
    /// No token was requested: the service user is locked out, so the grant could only fail.
    ConnectNotAttemptedLocked => "connect.not_attempted_user_locked_out",
    /// No token was requested: the service user is inactive.
    ConnectNotAttemptedInactive => "connect.not_attempted_user_inactive",
    /// No token was requested: the service user does not exist.
    ConnectNotAttemptedNoUser => "connect.not_attempted_user_missing",
    /// No token was requested: no active inbound OAuth entry holds the client id given.
    ConnectNotAttemptedClientId => "connect.not_attempted_client_id_unknown",
    /// No token was requested: one more failed login would lock the service user out.
    ConnectLockoutRisk => "connect.lockout_risk",
    /// No token was requested: the same credentials were refused on an earlier run.
    ConnectRefusedBefore => "connect.refused_before",

    // reasons a check did not run
    InputAdminMissing => "input.admin_credentials_missing",
    InputServiceMissing => "input.service_credentials_missing",
    RunNotSelected => "run.not_selected",
    RunInstanceUnavailable => "run.instance_unavailable",
    RunAdminRejected => "run.admin_rejected",
}

impl fmt::Display for FindingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for FindingCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The report schema lists every code, so a consumer can tell a new code from a typo.
impl schemars::JsonSchema for FindingCode {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "FindingCode".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let codes: Vec<&str> = FindingCode::ALL.iter().map(|c| c.as_str()).collect();
        schemars::json_schema!({ "type": "string", "enum": codes })
    }
}

impl schemars::JsonSchema for CheckId {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "CheckId".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let ids: Vec<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        schemars::json_schema!({ "type": "string", "enum": ids })
    }
}

/// What can be done about a finding, decided once: by apply's plan over the same facts the finding
/// came from (see `flows::verify::attach_remedies`). The report's "or run snconnect apply" and its
/// next step follow from this value, never from searching a finding's text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Remedy {
    /// Nothing to do, or nothing snconnect knows to do (information, a skip's reason, or a
    /// finding read without admin credentials, where no plan could be made).
    #[default]
    None,
    /// `snconnect apply` makes these writes (its plan's step ids) and the finding goes away.
    Apply(Vec<String>),
    /// Only a person can do it: the titles of the plan's by-hand steps (a Store install, an ACL
    /// the platform refuses over REST, an instance-wide property).
    Manual(Vec<String>),
}

impl Remedy {
    pub fn is_apply(&self) -> bool {
        matches!(self, Remedy::Apply(_))
    }
}

/// Now, in Unix seconds (0 before 1970, which a clock this wrong makes the least of its problems).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A unix time for messages, as an HTTP date (`Wed, 02 Dec 2026 22:00:00 GMT`).
pub fn utc_timestamp(secs: u64) -> String {
    httpdate::fmt_http_date(std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs))
}

/// `1 write`, `3 writes`: a count with its noun, for messages that would otherwise say "write(s)".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn count_agrees_with_its_number() {
        assert_eq!(count(1, "write", "writes"), "1 write");
        assert_eq!(count(0, "write", "writes"), "0 writes");
        assert_eq!(count(3, "change", "changes"), "3 changes");
    }

    #[test]
    fn check_ids_have_distinct_snake_case_strings() {
        let strings: HashSet<&str> = CheckId::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(strings.len(), CheckId::ALL.len());
        assert_eq!(
            serde_json::to_string(&CheckId::OauthApp).unwrap(),
            "\"oauth_app\""
        );
    }
}
