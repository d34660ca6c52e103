//! `oauth_app`: exactly one active OAuth registry entry named `incident.io`, with the `useraccount`
//! auth scope; the password grant not disabled on the instance; the client id given matches it.
//!
//! The client secret cannot be checked here: the Table API returns it encrypted. `connect` proves
//! it by minting a token.

use super::{join_names, unusable, Context, Finding, FindingCode, Lookup, Verdict};
use crate::requirements::{
    AUTH_SCOPE, DOCS_URL, OAUTH_ENTRY_NAME, PROP_OAUTH_ACTIVE, PROP_ROPC_DISABLED,
    PROP_USERACCOUNT_SCOPE_ID,
};
use crate::servicenow::fields;

/// One `oauth_entity` row named `incident.io`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct Entry {
    #[serde(deserialize_with = "fields::text")]
    pub sys_id: String,
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub name: String,
    #[serde(default, deserialize_with = "fields::non_empty")]
    pub client_id: Option<String>,
    #[serde(default, deserialize_with = "fields::flag")]
    pub active: Option<bool>,
    #[serde(default, deserialize_with = "fields::count")]
    pub access_token_lifespan: Option<u64>,
    #[serde(default, deserialize_with = "fields::count")]
    pub refresh_token_lifespan: Option<u64>,
    /// `client` for an inbound client application (an outside client calls the instance),
    /// `oauth_provider` for an outbound one (the instance calls a third party); both live in
    /// this table and the same registry list (facts sheet, Corrections 3).
    #[serde(rename = "type", default, deserialize_with = "fields::non_empty")]
    pub kind: Option<String>,
    #[serde(default, flatten)]
    pub updated: crate::checks::Updated,
}

impl Entry {
    /// An inbound client entry: what a password grant is judged against. A missing `type` (a
    /// release or a reader that does not return it) counts as inbound, as it did before the
    /// field was read; only a stated other type (`oauth_provider`) is left out.
    pub fn is_inbound(&self) -> bool {
        self.kind.as_deref().is_none_or(|k| k == "client")
    }

    /// The incident.io entry by name, inbound: the entries the setup guide asks for.
    pub fn is_incident_io(&self) -> bool {
        self.name == OAUTH_ENTRY_NAME && self.is_inbound()
    }
}

/// One `oauth_entity_auth_scope_mapping` row: an entry linked to an auth scope.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
pub struct ScopeMapping {
    /// sys_id of the `oauth_entity`.
    #[serde(deserialize_with = "fields::text")]
    pub oauth_entity: String,
    /// sys_id of the `sys_auth_scope`.
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub auth_scope: String,
    /// The scope's name, dot-walked.
    #[serde(
        rename = "auth_scope.name",
        default,
        deserialize_with = "fields::opt_text"
    )]
    pub auth_scope_name: Option<String>,
}

/// A `sys_properties` row.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Property {
    #[serde(deserialize_with = "fields::text")]
    pub name: String,
    #[serde(default, deserialize_with = "fields::text_or_empty")]
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// `oauth_entity?name=incident.io`
    pub entries: Lookup<Entry>,
    /// `oauth_entity_auth_scope_mapping?oauth_entity.name=incident.io`
    pub mappings: Lookup<ScopeMapping>,
    /// `sys_properties?nameIN…` (the OAuth switches)
    pub properties: Lookup<Property>,
    /// Now, in Unix seconds: when a token issued now would end.
    pub now: u64,
}

pub fn entry_query() -> String {
    format!("name={OAUTH_ENTRY_NAME}")
}

/// The client id of the single active entry named incident.io: what the integration uses once
/// apply (or a person) created it. `None` when there is none, or several (ambiguous: [`evaluate`]
/// reports that), or the entries could not be read.
pub fn active_client_id(entries: &Lookup<Entry>) -> Option<String> {
    let active: Vec<&Entry> = entries
        .rows()?
        .iter()
        .filter(|e| e.is_incident_io() && e.active == Some(true))
        .collect();
    match active.as_slice() {
        [one] => one.client_id.clone().filter(|id| !id.is_empty()),
        _ => None,
    }
}

/// The entry incident.io will use among those named incident.io (inbound): the one with the
/// given client id, else the first active one, else the first. `None` when there is none.
pub fn entry_in_use<'a>(entries: &[&'a Entry], client_id: Option<&str>) -> Option<&'a Entry> {
    let by_client_id = client_id.and_then(|id| {
        entries
            .iter()
            .copied()
            .find(|e| e.client_id.as_deref() == Some(id))
    });
    by_client_id
        .or_else(|| entries.iter().copied().find(|e| e.active == Some(true)))
        .or_else(|| entries.first().copied())
}

/// The sys_id the property `glide.oauth.token.scope.useraccount` pins the `useraccount` scope to,
/// when it is set (the scope record was re-created): the token endpoint then looks the scope up by
/// that sys_id, not by name.
pub fn pinned_useraccount_scope(properties: &Lookup<Property>) -> Option<&str> {
    properties
        .rows()?
        .iter()
        .find(|p| p.name == PROP_USERACCOUNT_SCOPE_ID)
        .map(|p| p.value.trim())
        .filter(|v| !v.is_empty())
}

/// Whether the entry `entry_sys_id` carries the `useraccount` scope the token endpoint will use:
/// the pinned sys_id when a property pins one (another record merely named `useraccount` does
/// not count then), else the scope by name. The one decision verify reports and apply acts on.
pub fn has_useraccount(
    mappings: &[ScopeMapping],
    entry_sys_id: &str,
    pinned: Option<&str>,
) -> bool {
    mappings
        .iter()
        .filter(|m| m.oauth_entity == entry_sys_id)
        .any(|m| match pinned {
            Some(id) => m.auth_scope == id,
            None => m.auth_scope_name.as_deref() == Some(AUTH_SCOPE),
        })
}

pub fn evaluate(facts: &Facts, ctx: &Context) -> Verdict {
    let mut findings = Vec::new();
    let entries_list = ctx.links.list("oauth_entity", &entry_query());
    findings.extend(property_findings(facts, ctx));

    if let Some(f) = unusable(
        &facts.entries,
        "the OAuth application registry (oauth_entity)",
        FindingCode::OauthCannotSee,
        FindingCode::OauthQueryFailed,
        entries_list.clone(),
    ) {
        findings.push(f);
        return Verdict::from_findings(findings);
    }
    let entries: Vec<&Entry> = facts
        .entries
        .rows()
        .unwrap_or_default()
        .iter()
        .filter(|e| e.is_incident_io())
        .collect();
    if entries.is_empty() {
        findings.push(
            Finding::error(
                FindingCode::OauthMissing,
                format!("no OAuth application registry entry is named '{OAUTH_ENTRY_NAME}'"),
            )
            .fix(format!(
                "create it (System OAuth > Application Registry > New Inbound Integration \
                 Experience > OAuth - Resource owner password credential grant, name \
                 '{OAUTH_ENTRY_NAME}', auth scope '{AUTH_SCOPE}')"
            ))
            .link(entries_list),
        );
        return Verdict::from_findings(findings);
    }

    let active: Vec<&Entry> = entries
        .iter()
        .copied()
        .filter(|e| e.active == Some(true))
        .collect();
    let given = ctx.client_id.as_deref();
    let by_client_id = given.and_then(|id| {
        entries
            .iter()
            .copied()
            .find(|e| e.client_id.as_deref() == Some(id))
    });
    let Some(entry) = entry_in_use(&entries, given) else {
        return Verdict::from_findings(findings);
    };

    if entries.len() > 1 {
        let message = format!(
            "{} OAuth registry entries are named '{OAUTH_ENTRY_NAME}' ({} active)",
            entries.len(),
            active.len()
        );
        let fix = "keep one entry named incident.io: rename or delete the others, so the client \
                   id given to incident.io is unambiguous";
        findings.push(if active.len() > 1 {
            Finding::error(FindingCode::OauthDuplicate, message)
                .fix(fix)
                .link(entries_list.clone())
        } else {
            Finding::warning(FindingCode::OauthDuplicate, message)
                .fix(fix)
                .link(entries_list.clone())
        });
    }

    let entry_link = ctx.links.record("oauth_entity", &entry.sys_id);
    if entry.active != Some(true) {
        findings.push(
            Finding::error(
                FindingCode::OauthInactive,
                format!(
                    "OAuth registry entry '{}' ({}) is not active",
                    entry.name,
                    client_id_label(entry)
                ),
            )
            .fix("open the entry and tick Active")
            .link(entry_link.clone()),
        );
    }

    if let (Some(given), None) = (given, by_client_id) {
        findings.push(
            Finding::error(
                FindingCode::OauthClientIdMismatch,
                format!(
                    "the client id given ({given}) matches no entry named '{OAUTH_ENTRY_NAME}'; \
                     the entry's is {}",
                    entry.client_id.as_deref().unwrap_or("not readable")
                ),
            )
            .fix(
                "copy the Client ID from the entry into incident.io and into --client-id / \
                 SNCONNECT_CLIENT_ID",
            )
            .link(entry_link.clone()),
        );
    }

    findings.extend(scope_findings(facts, ctx, entry, &entry_link));

    if let Some(short) = short_lifespan(entry, facts.now) {
        findings.push(
            Finding::warning(FindingCode::OauthTokenLifespanShort, short)
                .fix(format!(
                    "open the entry and set Access Token Lifespan to at least {MIN_ACCESS_LIFESPAN} \
                     s and Refresh Token Lifespan to at least {} days (the defaults are 1800 s \
                     and 100 days)",
                    MIN_REFRESH_LIFESPAN / 86_400
                ))
                .link(entry_link.clone()),
        );
    } else if entry.access_token_lifespan.is_some() || entry.refresh_token_lifespan.is_some() {
        findings.push(
            Finding::note(
                FindingCode::OauthTokenLifespans,
                format!(
                    "'{}' issues access tokens that live {} and refresh tokens that live {}",
                    entry.name,
                    lifespan(entry.access_token_lifespan),
                    lifespan(entry.refresh_token_lifespan)
                ),
            )
            .link(entry_link),
        );
    }
    Verdict::from_findings(findings)
}

/// Below this an access token can lapse between incident.io's requests of one sync, so every
/// sync starts with a token request. A choice of snconnect's: incident.io does not publish how
/// long a sync runs or how often it asks for a token.
pub const MIN_ACCESS_LIFESPAN: u64 = 300;

/// Below this a refresh token runs out between two of incident.io's syncs on a quiet day. Whether
/// incident.io then signs in again with the stored password or needs the admin to reconnect is
/// not published; both are covered by warning, since in the second case the connection breaks on
/// the date the warning names.
pub const MIN_REFRESH_LIFESPAN: u64 = 86_400;

/// The warning for lifespans too short for an unattended integration, with the moment a token
/// issued now would stop working (`now` in Unix seconds). `None` when both are long enough or
/// not readable.
fn short_lifespan(entry: &Entry, now: u64) -> Option<String> {
    let access = entry.access_token_lifespan;
    let refresh = entry.refresh_token_lifespan;
    let mut problems = Vec::new();
    if let Some(a) = access.filter(|a| *a < MIN_ACCESS_LIFESPAN) {
        problems.push(format!(
            "access tokens live only {}, so incident.io needs a new token during most syncs",
            lifespan(Some(a))
        ));
    }
    let refresh_short = match (refresh, access) {
        (Some(r), Some(a)) if r < a => Some(format!(
            "refresh tokens ({}) end before the access tokens they renew ({})",
            lifespan(Some(r)),
            lifespan(Some(a))
        )),
        (Some(r), _) if r < MIN_REFRESH_LIFESPAN => {
            Some(format!("refresh tokens live only {}", lifespan(Some(r))))
        }
        _ => None,
    };
    if let Some(problem) = refresh_short {
        // Both tokens of a sign-in made now have ended by then: from that moment only a new
        // password grant connects.
        let ends = refresh.into_iter().chain(access).max().unwrap_or(0);
        problems.push(format!(
            "{problem}: a connection made now stops working at {} unless incident.io signs in \
             with the password again",
            crate::model::utc_timestamp(now.saturating_add(ends))
        ));
    }
    if problems.is_empty() {
        return None;
    }
    Some(format!("'{}': {}", entry.name, problems.join("; ")))
}

fn client_id_label(entry: &Entry) -> String {
    match &entry.client_id {
        Some(id) => format!("client id {id}"),
        None => "client id not readable".to_string(),
    }
}

fn lifespan(seconds: Option<u64>) -> String {
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    match seconds {
        None => "an unknown time".to_string(),
        Some(s) if s >= 86_400 && s % 86_400 == 0 => {
            format!("{s} s ({})", plural(s / 86_400, "day"))
        }
        Some(s) if s >= 3_600 => format!("{s} s (about {})", plural(s / 3_600, "hour")),
        Some(s) if s >= 60 => format!("{s} s (about {})", plural(s / 60, "minute")),
        Some(s) => format!("{s} s"),
    }
}

fn property_findings(facts: &Facts, ctx: &Context) -> Vec<Finding> {
    let names = [PROP_ROPC_DISABLED, PROP_OAUTH_ACTIVE];
    let list = ctx
        .links
        .list("sys_properties", &format!("nameIN{}", names.join(",")));
    if let Some(f) = unusable(
        &facts.properties,
        "the OAuth system properties (sys_properties)",
        FindingCode::OauthCannotSee,
        FindingCode::OauthQueryFailed,
        list,
    ) {
        return vec![f];
    }
    let props = facts.properties.rows().unwrap_or_default();
    let value = |name: &str| {
        props
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.value.trim().to_ascii_lowercase())
    };
    let mut findings = Vec::new();
    if value(PROP_OAUTH_ACTIVE).as_deref() == Some("false") {
        findings.push(
            Finding::error(
                FindingCode::OauthDisabled,
                format!("OAuth is switched off on the instance: {PROP_OAUTH_ACTIVE} is false"),
            )
            .fix(format!("set system property {PROP_OAUTH_ACTIVE} to true"))
            .link(
                ctx.links
                    .list("sys_properties", &format!("name={PROP_OAUTH_ACTIVE}")),
            ),
        );
    }
    if value(PROP_ROPC_DISABLED).as_deref() == Some("true") {
        findings.push(
            Finding::error(
                FindingCode::OauthRopcDisabled,
                format!(
                    "the password grant incident.io uses is disabled: {PROP_ROPC_DISABLED} is true"
                ),
            )
            .fix(format!(
                "set system property {PROP_ROPC_DISABLED} to false (ServiceNow's hardening guide \
                 turns it on; incident.io's connection needs it off)"
            ))
            .link(
                ctx.links
                    .list("sys_properties", &format!("name={PROP_ROPC_DISABLED}")),
            ),
        );
    }
    findings
}

fn scope_findings(facts: &Facts, ctx: &Context, entry: &Entry, entry_link: &str) -> Vec<Finding> {
    let list = ctx.links.list(
        "oauth_entity_auth_scope_mapping",
        &format!("oauth_entity={}", entry.sys_id),
    );
    if let Lookup::Failed(failure) = &facts.mappings {
        if failure.kind == super::FailureKind::InvalidTable {
            return vec![Finding::warning(
                FindingCode::OauthScopeUnverified,
                format!(
                    "this release has no oauth_entity_auth_scope_mapping table, so the \
                     '{AUTH_SCOPE}' auth scope of '{}' cannot be confirmed",
                    entry.name
                ),
            )
            .fix(format!(
                "open the entry and check '{AUTH_SCOPE}' is listed under Auth Scopes; `connect` \
                 will show whether tokens work"
            ))
            .link(entry_link.to_string())];
        }
    }
    if let Some(f) = unusable(
        &facts.mappings,
        "the OAuth entry's auth scopes (oauth_entity_auth_scope_mapping)",
        FindingCode::OauthCannotSee,
        FindingCode::OauthQueryFailed,
        list,
    ) {
        return vec![f];
    }
    let all = facts.mappings.rows().unwrap_or_default();
    if has_useraccount(
        all,
        &entry.sys_id,
        pinned_useraccount_scope(&facts.properties),
    ) {
        return vec![];
    }
    let mappings: Vec<&ScopeMapping> = all
        .iter()
        .filter(|m| m.oauth_entity == entry.sys_id)
        .collect();
    let others: Vec<&str> = mappings
        .iter()
        .filter_map(|m| m.auth_scope_name.as_deref())
        .collect();
    let has = if others.is_empty() {
        "has no auth scope".to_string()
    } else {
        format!("has only {}", join_names(&others))
    };
    vec![Finding::error(
        FindingCode::OauthScopeMissing,
        format!(
            "OAuth registry entry '{}' {has}: it needs the '{AUTH_SCOPE}' auth scope",
            entry.name
        ),
    )
    .fix(format!(
        "open the entry and add '{AUTH_SCOPE}' under Auth Scopes (see {DOCS_URL})"
    ))
    .link(entry_link.to_string())]
}

#[cfg(test)]
#[path = "oauth_app_tests.rs"]
mod tests;
