//! The service user and its roles: create or repair the account, set its password, grant the
//! roles its path needs.

use super::*;

impl Builder<'_> {
    /// Plans the service user; returns how later steps refer to it.
    pub(super) fn user(&mut self, state: &State) -> UserRef {
        let name = self.inputs.username.clone();
        let list = self
            .links()
            .list("sys_user", &service_user::user_query(&name));
        let Lookup::Rows(rows) = &state.user else {
            self.manual(manual::unreadable(
                CheckId::ServiceUser,
                FindingCode::UserCannotSee,
                &format!("user '{name}' (sys_user)"),
                list,
            ));
            return UserRef::Unknown;
        };
        let Some(user) = rows.iter().find(|u| u.user_name == name) else {
            let email = self
                .inputs
                .email
                .clone()
                .unwrap_or_else(|| default_email(&name));
            let mut fields = vec![
                ("user_name".to_string(), Value::text(&name)),
                ("first_name".to_string(), Value::text(&name)),
                ("last_name".to_string(), Value::text("integration")),
                ("email".to_string(), Value::text(email)),
                ("active".to_string(), Value::Bool(false)),
                ("locked_out".to_string(), Value::Bool(false)),
                ("password_needs_reset".to_string(), Value::Bool(false)),
                ("web_service_access_only".to_string(), Value::Bool(true)),
            ];
            if state.identity_type_field {
                fields.push(("identity_type".to_string(), Value::text(MACHINE_IDENTITY)));
            } else {
                self.note(
                    "this release has no Identity type on users; the new user is made \
                     web-service only instead",
                );
            }
            self.push(Step {
                id: STEP_USER.into(),
                check: CheckId::ServiceUser,
                table: "sys_user".into(),
                action: Action::Create,
                fields,
                natural_key: vec![("user_name".into(), Value::text(&name))],
                why: FindingCode::UserMissing,
                summary: format!(
                    "create the service user '{name}' (machine identity, web-service only), \
                     inactive until its password is set"
                ),
                depends_on: vec![],
                confirm: false,
                input_display_value: false,
                fallback: None,
            });
            self.push(password_step(
                &name,
                Value::CreatedBy(STEP_USER.into()),
                FindingCode::UserMissing,
                vec![STEP_USER.into()],
                false,
            ));
            return UserRef::Created;
        };

        // Repairs of an existing account: each is a change to a record that existed before.
        let mut fields = Vec::new();
        let mut what = Vec::new();
        let mut reasons: Vec<FindingCode> = Vec::new();
        let mut reason = |code: FindingCode| reasons.push(code);
        // The check's own decision about the account.
        let problems = service_user::account_problems(user);
        if problems.contains(&FindingCode::UserLockedOut) {
            fields.push(("locked_out".to_string(), Value::Bool(false)));
            fields.push(("failed_attempts".to_string(), Value::Int(0)));
            what.push("unlock it (and reset its failed login count)");
            reason(FindingCode::UserLockedOut);
        }
        if problems.contains(&FindingCode::UserPasswordNeedsReset) {
            fields.push(("password_needs_reset".to_string(), Value::Bool(false)));
            what.push("clear Password needs reset");
            reason(FindingCode::UserPasswordNeedsReset);
        }
        if state.identity_type_field && problems.contains(&FindingCode::UserNotMachine) {
            fields.push(("identity_type".to_string(), Value::text(MACHINE_IDENTITY)));
            fields.push(("web_service_access_only".to_string(), Value::Bool(true)));
            what.push("make it a machine identity (web-service only)");
            reason(FindingCode::UserNotMachine);
        }
        let inactive = problems.contains(&FindingCode::UserInactive);
        // An inactive user is activated together with its password when one is held: that is
        // also how a creation interrupted before its password was set gets finished.
        let activate_with_password = inactive && self.inputs.password_held;
        if inactive && !activate_with_password {
            fields.push(("active".to_string(), Value::Bool(true)));
            what.push("activate it");
            reason(FindingCode::UserInactive);
        }
        if !fields.is_empty() {
            let why = reasons.first().copied();
            for code in reasons.iter().skip(1) {
                self.plan
                    .also_answers
                    .push((STEP_USER_REPAIR.into(), CheckId::ServiceUser, *code));
            }
            self.push(Step {
                id: STEP_USER_REPAIR.into(),
                check: CheckId::ServiceUser,
                table: "sys_user".into(),
                action: Action::Update(Value::text(&user.sys_id)),
                fields,
                natural_key: vec![],
                why: why.unwrap_or(FindingCode::UserInactive),
                summary: format!("repair the existing user '{name}': {}", what.join(", ")),
                depends_on: vec![],
                confirm: true,
                input_display_value: false,
                fallback: None,
            });
        }
        if activate_with_password {
            let deps = if self.plan.step(STEP_USER_REPAIR).is_some() {
                vec![STEP_USER_REPAIR.to_string()]
            } else {
                vec![]
            };
            self.push(password_step(
                &name,
                Value::text(&user.sys_id),
                FindingCode::UserInactive,
                deps,
                true,
            ));
        } else {
            self.note(format!(
                "the existing user '{name}' keeps its password; apply never changes the password \
                 of an active account"
            ));
        }
        UserRef::Existing(user.sys_id.clone())
    }

    /// Plans the role grants; returns whether the user holds (or will hold) `admin`.
    pub(super) fn roles(&mut self, state: &State, user: &UserRef) -> bool {
        let name = self.inputs.username.clone();
        let Some(user_value) = user.value() else {
            return false;
        };
        let held: BTreeSet<String> = match (&state.held, user) {
            (_, UserRef::Created) => BTreeSet::new(),
            (Lookup::Rows(rows), _) => roles::held_names(rows)
                .into_iter()
                .map(str::to_string)
                .collect(),
            _ => {
                self.manual(manual::unreadable(
                    CheckId::Roles,
                    FindingCode::RolesCannotSee,
                    &format!("the roles of user '{name}' (sys_user_has_role)"),
                    self.links()
                        .list("sys_user_has_role", &roles::held_query(&name)),
                ));
                return false;
            }
        };
        if held.contains(ADMIN_ROLE) {
            return true;
        }
        let missing: Vec<&str> = roles_for(self.inputs.path)
            .iter()
            .copied()
            .filter(|r| !held.contains(*r))
            .collect();
        if missing.is_empty() {
            return false;
        }
        let Lookup::Rows(existing) = &state.roles else {
            self.manual(manual::unreadable(
                CheckId::Roles,
                FindingCode::RolesCannotSee,
                "the roles on the instance (sys_user_role)",
                self.links().list("sys_user_role", &roles::existing_query()),
            ));
            return false;
        };
        let user_dep: Vec<String> = match user {
            UserRef::Created => vec![STEP_USER.into()],
            _ => vec![],
        };
        let mut grants_admin = false;
        for role in missing {
            let Some(record) = existing.iter().find(|r| r.name == role) else {
                let step = if role == APP_ROLE {
                    manual::app_role_absent(&format!("grant {APP_ROLE} to '{name}'"))
                } else {
                    manual::role_absent(role, self.links())
                };
                self.manual(step);
                continue;
            };
            grants_admin |= role == ADMIN_ROLE;
            self.push(Step {
                id: format!("grant:{role}"),
                check: CheckId::Roles,
                table: "sys_user_has_role".into(),
                action: Action::Create,
                fields: vec![
                    ("user".into(), user_value.clone()),
                    ("role".into(), Value::text(&record.sys_id)),
                ],
                natural_key: vec![
                    ("user".into(), user_value.clone()),
                    ("role".into(), Value::text(&record.sys_id)),
                ],
                // A user this plan creates has no roles yet: the roles check said "no user".
                why: match user {
                    UserRef::Created => FindingCode::RolesNoUser,
                    _ => FindingCode::RolesMissing,
                },
                summary: format!("grant role '{role}' to '{name}'"),
                depends_on: user_dep.clone(),
                // Granting admin hands over the whole instance: always confirmed.
                confirm: role == ADMIN_ROLE,
                input_display_value: false,
                fallback: None,
            });
        }
        grants_admin
    }
}

fn password_step(
    name: &str,
    user: Value,
    why: FindingCode,
    depends_on: Vec<String>,
    existing: bool,
) -> Step {
    Step {
        id: STEP_USER_PASSWORD.into(),
        check: CheckId::ServiceUser,
        table: "sys_user".into(),
        action: Action::Update(user),
        fields: vec![
            ("user_password".into(), Value::Secret(SecretKind::Password)),
            ("active".into(), Value::Bool(true)),
        ],
        natural_key: vec![],
        why,
        summary: if existing {
            format!("set the password of the inactive user '{name}' to the one supplied, and activate it")
        } else {
            format!("set the password of '{name}' and activate it")
        },
        depends_on,
        confirm: existing,
        input_display_value: true,
        fallback: None,
    }
}
