//! `posture`: what breaks a working integration later, or makes it riskier than it needs to be.
//! Read-only, from the admin's side, in the same round as the other admin queries.
//!
//! - **Least privilege.** Privileged roles the path does not need (`admin` on the app path,
//!   `security_admin`, `impersonator`, any `*_admin`): a warning naming each role to remove.
//! - **Login flags.** Web service access only unticked lets the account sign in to the UI (a
//!   warning); Internal Integration User is not needed for REST (a note) [documented]
//!   `t_MarkSvcAcctsAsInternalIntegUsers.md`.
//! - **REST API access policies** (`sys_api_access_policy`) on the Table API for the tables
//!   incident.io uses decide which authentication it accepts; one whose profiles leave out OAuth
//!   answers incident.io's Bearer requests with 401 right after a good grant (facts sheet,
//!   Corrections 2). Which profiles a policy maps is in a second table whose field names no
//!   public source confirms, so a policy that applies is a warning to look at, never a verdict.
//! - **IP access rules** (`ip_access`): an address is blocked when an inbound (or bidirectional)
//!   Deny rule matches it and no Allow rule does [documented] `t_AccessControl.md`. incident.io
//!   publishes no egress addresses that could be found, so they are an input (`--egress-ip`);
//!   without them, active Deny rules are a warning that they could not be checked.
//! - **Clones.** On an instance that says it is not production, a clone from production
//!   overwrites the OAuth entry and the service user unless clone data preservers
//!   (`clone_data_preserver`) keep them. Preservers are defined on the *source* instance
//!   [documented] `t_CreateADataPreserver.md`; a clone brings production's preservers here, so
//!   this instance's list is read as the best available copy, and the fix says to add them on
//!   production. A preserver counts when its table matches and its condition is empty or names
//!   the record.
//! - **MFA**: the password grant is not subject to MFA [documented] `mfa-enforcement-scope.md`;
//!   MFA on the user or for integrations is reported as information, since it does reach Basic
//!   auth with the same account.
//!
//! A table that is absent on a release means the feature is not there (no policies, no IP
//! rules): that is said, and passes. A table that is present but unreadable is "could not
//! check", a warning, never a pass.

use std::net::IpAddr;

use super::{join_names, Context, FailureKind, Finding, FindingCode, Lookup, Verdict};
use crate::checks::oauth_app::Property;
use crate::checks::roles::HeldRole;
use crate::checks::service_user::User;
use crate::model::SetupPath;
use crate::requirements::{
    is_privileged, ADMIN_ROLE, OAUTH_ENTRY_NAME, PROP_MFA_FOR_INTEGRATIONS, PROP_PRODUCTION,
};
use crate::servicenow::fields;

/// One `sys_api_access_policy` row on the Table API.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct ApiPolicy {
    #[serde(deserialize_with = "fields::text")]
    pub sys_id: String,
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub name: String,
    #[serde(default, deserialize_with = "fields::flag")]
    pub apply_all_tables: Option<bool>,
    /// The tables it applies to (a comma-separated list).
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub api_tablename: String,
}

/// One `ip_access` row.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct IpRule {
    #[serde(deserialize_with = "fields::text")]
    pub sys_id: String,
    /// `allow` or `deny`.
    #[serde(rename = "type", default, deserialize_with = "fields::text_or_empty")]
    pub kind: String,
    /// `inbound`, `outbound` or `bidirectional`; empty on releases before the field (inbound).
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub direction: String,
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub range_start: String,
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub range_end: String,
}

impl IpRule {
    fn applies_inbound(&self) -> bool {
        !self.direction.eq_ignore_ascii_case("outbound")
    }

    fn is_deny(&self) -> bool {
        self.kind.eq_ignore_ascii_case("deny")
    }

    /// Whether `ip` is in the rule's range (same address family only).
    pub fn covers(&self, ip: IpAddr) -> bool {
        let (Ok(start), Ok(end)) = (
            self.range_start.trim().parse::<IpAddr>(),
            self.range_end
                .trim()
                .parse::<IpAddr>()
                .or_else(|_| self.range_start.trim().parse::<IpAddr>()),
        ) else {
            return false;
        };
        let wide = |a: IpAddr| match a {
            IpAddr::V4(v4) => (4, u128::from(u32::from(v4))),
            IpAddr::V6(v6) => (6, u128::from(v6)),
        };
        let (family, value) = wide(ip);
        let ((fs, s), (fe, e)) = (wide(start), wide(end));
        family == fs && family == fe && s <= value && value <= e
    }
}

/// One `clone_data_preserver` row for `oauth_entity` or `sys_user`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct Preserver {
    #[serde(deserialize_with = "fields::text")]
    pub sys_id: String,
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub name: String,
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub table: String,
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub condition: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub user: Option<User>,
    pub held: Lookup<HeldRole>,
    pub properties: Lookup<Property>,
    pub policies: Lookup<ApiPolicy>,
    pub ip_rules: Lookup<IpRule>,
    pub preservers: Lookup<Preserver>,
    /// The OAuth entry's sys_id, when there is one, for a preserver that names it.
    pub entry_id: Option<String>,
    /// incident.io's egress addresses, as given (`--egress-ip`).
    pub egress: Vec<IpAddr>,
}

/// The tables incident.io's requests touch: a policy on one of them applies to it.
const TABLES: [&str; 2] = ["task", "incident"];

fn property<'a>(facts: &'a Facts, name: &str) -> Option<&'a str> {
    facts
        .properties
        .rows()?
        .iter()
        .find(|p| p.name == name)
        .map(|p| p.value.as_str())
}

/// "could not check" for a lookup that gave no usable rows; `Ok(None)` when the table does not
/// exist on this release (the feature is absent), `Ok(Some(rows))` when readable.
fn usable<'a, T>(
    lookup: &'a Lookup<T>,
    what: &str,
    link: String,
) -> Result<Option<&'a [T]>, Finding> {
    match lookup {
        Lookup::Rows(rows) => Ok(Some(rows)),
        Lookup::Failed(f) if f.kind == FailureKind::InvalidTable => Ok(None),
        Lookup::Hidden { total } => Err(Finding::warning(
            FindingCode::PostureCannotCheck,
            format!("could not check {what}: {total} rows exist but ACLs hide them from the admin"),
        )
        .fix("run again with an admin who can read the table (security_admin may be needed)")
        .link(link)),
        Lookup::Failed(f) => Err(Finding::warning(
            FindingCode::PostureCannotCheck,
            format!("could not check {what}: {}", f.message),
        )
        .fix("run again with an admin who can read the table; -v shows the request")
        .link(link)),
    }
}

pub fn evaluate(facts: &Facts, ctx: &Context) -> Verdict {
    let mut findings = Vec::new();
    let name = &ctx.username;
    let user_link = facts
        .user
        .as_ref()
        .map(|u| ctx.links.record("sys_user", &u.sys_id));

    // Least privilege.
    if let Some(held) = facts.held.rows() {
        let mut privileged: Vec<&str> = held
            .iter()
            .filter(|r| r.state.as_deref().is_none_or(|s| s == "active"))
            .map(|r| r.name.as_str())
            .filter(|r| is_privileged(r))
            .filter(|r| !(ctx.path == SetupPath::Admin && *r == ADMIN_ROLE))
            .collect();
        privileged.sort();
        privileged.dedup();
        if !privileged.is_empty() {
            let inherited: Vec<&str> = held
                .iter()
                .filter(|r| r.inherited && privileged.contains(&r.name.as_str()))
                .map(|r| r.name.as_str())
                .collect();
            let mut f = Finding::warning(
                FindingCode::PosturePrivilegedRoles,
                format!(
                    "user '{name}' holds {}, which the {} path does not need: a leaked password \
                     would then open far more than incidents",
                    join_names(&privileged),
                    ctx.path.as_str()
                ),
            )
            .fix(if inherited.is_empty() {
                format!(
                    "remove {} from the user's Roles list",
                    join_names(&privileged)
                )
            } else {
                format!(
                    "remove {} from the user's Roles, and take the user out of the group that \
                     grants {}",
                    join_names(&privileged),
                    join_names(&inherited)
                )
            });
            if let Some(link) = &user_link {
                f = f.link(link.clone());
            }
            findings.push(f);
        }
    }

    // Login flags.
    if let Some(user) = &facts.user {
        let link = user_link.clone().unwrap_or_default();
        // A user that is not a Machine identity is already reported by `service_user`, whose fix
        // (make it Machine) ticks Web service access only too: said once, there.
        let not_machine = crate::checks::service_user::account_problems(user)
            .contains(&FindingCode::UserNotMachine);
        if user.web_service_access_only == Some(false) && !not_machine {
            findings.push(
                Finding::warning(
                    FindingCode::PostureUiLogin,
                    format!(
                        "user '{name}' can sign in to the ServiceNow UI with its password: Web \
                         service access only is unticked"
                    ),
                )
                .fix("open the user and tick Web service access only (API logins keep working)")
                .link(link.clone()),
            );
        }
        if user.internal_integration_user == Some(true) {
            findings.push(
                Finding::note(
                    FindingCode::PostureInternalIntegration,
                    format!(
                        "user '{name}' is an Internal Integration User, which only SOAP, MID \
                         Server and ODBC traffic needs, not REST"
                    ),
                )
                .link(link.clone()),
            );
        }
        let mfa_user = user.enable_multifactor_authn == Some(true);
        let mfa_integrations = property(facts, PROP_MFA_FOR_INTEGRATIONS) == Some("true");
        if mfa_user || mfa_integrations {
            let what = match (mfa_user, mfa_integrations) {
                (true, true) => format!(
                    "user '{name}' is enrolled in MFA and {PROP_MFA_FOR_INTEGRATIONS} is true, so \
                     Basic-auth API logins with it need MFA"
                ),
                (true, false) => format!("user '{name}' is enrolled in MFA"),
                _ => format!("{PROP_MFA_FOR_INTEGRATIONS} is true for MFA-enrolled users"),
            };
            findings.push(
                Finding::note(
                    FindingCode::PostureMfa,
                    format!(
                        "{what}; the password grant incident.io uses is not subject to MFA, so \
                         this does not block it"
                    ),
                )
                .link(link),
            );
        }
    }

    // REST API access policies on the tables incident.io uses.
    let policies_link = ctx.links.list(
        "sys_api_access_policy",
        "active=true^api_pathSTARTSWITHnow/table",
    );
    match usable(
        &facts.policies,
        "the REST API access policies (sys_api_access_policy)",
        policies_link.clone(),
    ) {
        Err(f) => findings.push(f),
        Ok(None) => {}
        Ok(Some(policies)) => {
            for p in policies {
                let tables: Vec<&str> = p
                    .api_tablename
                    .split(',')
                    .map(str::trim)
                    .filter(|t| TABLES.contains(t))
                    .collect();
                let applies = p.apply_all_tables == Some(true)
                    || !tables.is_empty()
                    || p.api_tablename.trim().is_empty();
                if !applies {
                    continue;
                }
                let on = if tables.is_empty() {
                    "every table".to_string()
                } else {
                    join_names(&tables)
                };
                findings.push(
                    Finding::warning(
                        FindingCode::PostureApiAccessPolicy,
                        format!(
                            "REST API access policy '{}' decides which logins the Table API \
                             accepts on {on}: if none of its authentication profiles is OAuth, \
                             incident.io's requests are refused with 401 right after a good token",
                            p.name
                        ),
                    )
                    .fix(
                        "open the policy and make sure an OAuth inbound authentication profile is \
                         among its profiles",
                    )
                    .link(ctx.links.record("sys_api_access_policy", &p.sys_id)),
                );
            }
        }
    }

    // IP access rules.
    let ip_link = ctx.links.list("ip_access", "active=true");
    match usable(
        &facts.ip_rules,
        "the IP access rules (ip_access)",
        ip_link.clone(),
    ) {
        Err(f) => findings.push(f),
        Ok(None) => {}
        Ok(Some(rules)) => {
            let inbound: Vec<&IpRule> = rules.iter().filter(|r| r.applies_inbound()).collect();
            let denies = inbound.iter().filter(|r| r.is_deny()).count();
            if facts.egress.is_empty() {
                if denies > 0 {
                    findings.push(
                        Finding::warning(
                            FindingCode::PostureIpUnchecked,
                            format!(
                                "{} active, and incident.io's addresses were not given, so \
                                 whether they are blocked is unknown",
                                crate::ui::count(
                                    denies,
                                    "inbound IP deny rule is",
                                    "inbound IP deny rules are"
                                )
                            ),
                        )
                        .fix(
                            "pass incident.io's egress addresses with --egress-ip (ask incident.io \
                             support for them) and run again",
                        )
                        .link(ip_link),
                    );
                }
            } else {
                for ip in &facts.egress {
                    let deny = inbound.iter().find(|r| r.is_deny() && r.covers(*ip));
                    let allowed = inbound.iter().any(|r| !r.is_deny() && r.covers(*ip));
                    if let (Some(rule), false) = (deny, allowed) {
                        findings.push(
                            Finding::error(
                                FindingCode::PostureIpBlocked,
                                format!(
                                    "incident.io's address {ip} is blocked: IP deny rule {}-{} \
                                     matches it and no allow rule does",
                                    rule.range_start, rule.range_end
                                ),
                            )
                            .fix(format!(
                                "add an inbound Allow rule for {ip} under System Security > IP \
                                 Address Access Control"
                            ))
                            .link(ctx.links.record("ip_access", &rule.sys_id)),
                        );
                    }
                }
            }
        }
    }

    // Clones from production.
    let preservers_link = ctx
        .links
        .list("clone_data_preserver", "tableINoauth_entity,sys_user");
    if property(facts, PROP_PRODUCTION) == Some("false") {
        match usable(
            &facts.preservers,
            "the clone data preservers (clone_data_preserver)",
            preservers_link.clone(),
        ) {
            Err(f) => findings.push(f),
            Ok(rows) => {
                let rows = rows.unwrap_or_default();
                let names = |table: &str, marks: &[&str]| {
                    rows.iter().any(|p| {
                        p.table == table
                            && (p.condition.trim().is_empty()
                                || marks
                                    .iter()
                                    .any(|m| !m.is_empty() && p.condition.contains(m)))
                    })
                };
                let entry_id = facts.entry_id.clone().unwrap_or_default();
                let user_id = facts
                    .user
                    .as_ref()
                    .map(|u| u.sys_id.clone())
                    .unwrap_or_default();
                let mut missing = Vec::new();
                if !names("oauth_entity", &[OAUTH_ENTRY_NAME, &entry_id]) {
                    missing.push(format!("the OAuth entry '{OAUTH_ENTRY_NAME}'"));
                }
                if !names("sys_user", &[name, &user_id]) {
                    missing.push(format!("the user '{name}'"));
                }
                if !missing.is_empty() {
                    findings.push(
                        Finding::warning(
                            FindingCode::PostureCloneNotPreserved,
                            format!(
                                "this is not a production instance, and no clone data preserver \
                                 keeps {}: the next clone from production overwrites them and \
                                 the connection breaks",
                                missing.join(" or ")
                            ),
                        )
                        .fix(format!(
                            "on the production instance (preservers are defined on the clone's \
                             source), add preservers under Clone Admin Console > Definitions > \
                             Preservers: oauth_entity where Name is {OAUTH_ENTRY_NAME}, and \
                             sys_user where User ID is {name}"
                        ))
                        .link(preservers_link),
                    );
                }
            }
        }
    }
    Verdict::from_findings(findings)
}

#[cfg(test)]
#[path = "posture_tests.rs"]
mod tests;
