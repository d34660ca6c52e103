//! The OAuth step of the plan: the registry entry, its secret and its `useraccount` scope; the
//! instance-wide switches are by-hand steps.

use super::*;

impl Builder<'_> {
    pub(super) fn oauth(&mut self, state: &State) {
        let links = self.links().clone();
        // Instance-wide switches: a person's decision, never changed by apply.
        if let Lookup::Rows(props) = &state.properties {
            let value = |name: &str| {
                props
                    .iter()
                    .find(|p| p.name == name)
                    .map(|p| p.value.trim().to_ascii_lowercase())
            };
            if value(PROP_OAUTH_ACTIVE).as_deref() == Some("false") {
                self.manual(manual::property(
                    PROP_OAUTH_ACTIVE,
                    "true",
                    FindingCode::OauthDisabled,
                    &links,
                ));
            }
            if value(PROP_ROPC_DISABLED).as_deref() == Some("true") {
                self.manual(manual::property(
                    PROP_ROPC_DISABLED,
                    "false",
                    FindingCode::OauthRopcDisabled,
                    &links,
                ));
            }
        }

        let entries_list = links.list("oauth_entity", &oauth_app::entry_query());
        let Lookup::Rows(rows) = &state.entries else {
            self.manual(manual::unreadable(
                CheckId::OauthApp,
                FindingCode::OauthCannotSee,
                "the OAuth application registry (oauth_entity)",
                entries_list,
            ));
            return;
        };
        let entries: Vec<&oauth_app::Entry> = rows.iter().filter(|e| e.is_incident_io()).collect();
        let scope_id = useraccount_scope_id(state);

        if entries.is_empty() {
            let mut fields = vec![
                ("name".to_string(), Value::text(OAUTH_ENTRY_NAME)),
                ("type".to_string(), Value::text("client")),
                ("active".to_string(), Value::Bool(false)),
                (
                    "comments".to_string(),
                    Value::text(
                        "incident.io integration (resource owner password grant); created by \
                         snconnect",
                    ),
                ),
            ];
            if let Some(id) = &self.inputs.client_id {
                fields.push(("client_id".to_string(), Value::text(id)));
            }
            self.push(Step {
                id: STEP_ENTRY.into(),
                check: CheckId::OauthApp,
                table: "oauth_entity".into(),
                action: Action::Create,
                fields,
                natural_key: vec![("name".into(), Value::text(OAUTH_ENTRY_NAME))],
                why: FindingCode::OauthMissing,
                summary: format!(
                    "create the OAuth application registry entry '{OAUTH_ENTRY_NAME}', inactive \
                     until its client secret is set"
                ),
                depends_on: vec![],
                confirm: false,
                input_display_value: false,
                fallback: None,
            });
            self.push(Step {
                id: STEP_ENTRY_SECRET.into(),
                check: CheckId::OauthApp,
                table: "oauth_entity".into(),
                action: Action::Update(Value::CreatedBy(STEP_ENTRY.into())),
                fields: vec![
                    (
                        "client_secret".into(),
                        Value::Secret(SecretKind::ClientSecret),
                    ),
                    ("active".into(), Value::Bool(true)),
                ],
                natural_key: vec![],
                why: FindingCode::OauthMissing,
                summary: format!("set the client secret of '{OAUTH_ENTRY_NAME}' and activate it"),
                depends_on: vec![STEP_ENTRY.into()],
                confirm: false,
                input_display_value: true,
                fallback: None,
            });
            match scope_id {
                Some(scope) => self.push(scope_step(Value::CreatedBy(STEP_ENTRY.into()), scope)),
                None => self.manual(manual::no_useraccount_scope(&links)),
            }
            return;
        }

        let active: Vec<&&oauth_app::Entry> =
            entries.iter().filter(|e| e.active == Some(true)).collect();
        if active.len() > 1 {
            self.manual(manual::duplicate_entries(&links));
            return;
        }
        // The entry incident.io uses, chosen as the oauth_app check chooses it.
        let by_client_id = self
            .inputs
            .client_id
            .as_deref()
            .and_then(|id| entries.iter().find(|e| e.client_id.as_deref() == Some(id)));
        let entry = by_client_id
            .or(active.first().copied())
            .unwrap_or(&entries[0]);
        if let (Some(given), None) = (&self.inputs.client_id, by_client_id) {
            self.note(format!(
                "the client id given ({given}) matches no entry named '{OAUTH_ENTRY_NAME}'; apply \
                 works on the entry with client id {} — give that id to incident.io",
                entry.client_id.as_deref().unwrap_or("(not readable)")
            ));
        }

        if entry.active != Some(true) {
            let mut fields = Vec::new();
            if self.inputs.client_secret_held {
                fields.push((
                    "client_secret".to_string(),
                    Value::Secret(SecretKind::ClientSecret),
                ));
            } else {
                self.note(format!(
                    "entry '{OAUTH_ENTRY_NAME}' keeps its current client secret, which the API \
                     cannot read back: supply it (SNCONNECT_CLIENT_SECRET) so that verify can \
                     test the connection, or copy it from the entry"
                ));
            }
            fields.push(("active".to_string(), Value::Bool(true)));
            let with_secret = fields.len() == 2;
            self.push(Step {
                id: STEP_ENTRY_SECRET.into(),
                check: CheckId::OauthApp,
                table: "oauth_entity".into(),
                action: Action::Update(Value::text(&entry.sys_id)),
                fields,
                natural_key: vec![],
                why: FindingCode::OauthInactive,
                summary: if with_secret {
                    format!(
                        "set the client secret of the existing entry '{OAUTH_ENTRY_NAME}' to the \
                         one supplied, and activate it"
                    )
                } else {
                    format!("activate the existing entry '{OAUTH_ENTRY_NAME}'")
                },
                depends_on: vec![],
                confirm: true,
                input_display_value: with_secret,
                fallback: None,
            });
        }

        let has_scope = state.mappings.rows().map(|maps| {
            oauth_app::has_useraccount(
                maps,
                &entry.sys_id,
                oauth_app::pinned_useraccount_scope(&state.properties),
            )
        });
        match (has_scope, scope_id) {
            (Some(true), _) => {}
            (Some(false), Some(scope)) => {
                let mut step = scope_step(Value::text(&entry.sys_id), scope);
                step.why = FindingCode::OauthScopeMissing;
                self.push(step);
            }
            (Some(false), None) => self.manual(manual::no_useraccount_scope(&links)),
            (None, _) => self.manual(manual::unreadable(
                CheckId::OauthApp,
                FindingCode::OauthScopeUnverified,
                "the auth scopes of the OAuth entry (oauth_entity_auth_scope_mapping)",
                links.record("oauth_entity", &entry.sys_id),
            )),
        }
    }
}

/// The `useraccount` auth scope's sys_id: the property that pins it when the record was
/// re-created, else the record found by name.
fn useraccount_scope_id(state: &State) -> Option<&str> {
    oauth_app::pinned_useraccount_scope(&state.properties).or_else(|| match &state.auth_scopes {
        Lookup::Rows(rows) => rows
            .iter()
            .find(|r| r.name == AUTH_SCOPE)
            .map(|r| r.sys_id.as_str()),
        _ => None,
    })
}

fn scope_step(entry: Value, scope_id: &str) -> Step {
    let depends_on = match &entry {
        Value::CreatedBy(step) => vec![step.clone()],
        _ => vec![],
    };
    Step {
        id: STEP_SCOPE.into(),
        check: CheckId::OauthApp,
        table: "oauth_entity_auth_scope_mapping".into(),
        action: Action::Create,
        fields: vec![
            ("oauth_entity".into(), entry.clone()),
            ("auth_scope".into(), Value::text(scope_id)),
        ],
        natural_key: vec![
            ("oauth_entity".into(), entry),
            ("auth_scope".into(), Value::text(scope_id)),
        ],
        why: FindingCode::OauthMissing,
        summary: format!("add the '{AUTH_SCOPE}' auth scope to '{OAUTH_ENTRY_NAME}'"),
        depends_on,
        confirm: false,
        input_display_value: false,
        fallback: None,
    }
}
