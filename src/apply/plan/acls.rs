//! The three task ACLs: create, or repair the most nearly right one. Each write carries its
//! by-hand fallback, since real instances refuse ACL writes over REST without elevation.

use super::*;

impl Builder<'_> {
    pub(super) fn acls(&mut self, state: &State) {
        let links = self.links().clone();
        let (Lookup::Rows(acls), Lookup::Rows(acl_roles)) = (&state.acls, &state.acl_roles) else {
            self.manual(manual::acls_unreadable(&links));
            return;
        };
        let role_id = match &state.roles {
            Lookup::Rows(roles) => roles
                .iter()
                .find(|r| r.name == APP_ROLE)
                .map(|r| r.sys_id.clone()),
            _ => None,
        };
        for spec in acl_specs() {
            let candidates: Vec<&task_acls::Acl> = acls
                .iter()
                .filter(|a| a.operation == spec.operation)
                .collect();
            // The check's own decision: what keeps each ACL from working.
            let problems =
                |acl: &task_acls::Acl| task_acls::blocking_problems(acl, Some(acl_roles));
            let requires_app_role = |acl: &task_acls::Acl| {
                let p = problems(acl);
                !p.contains(&FindingCode::AclNoRole) && !p.contains(&FindingCode::AclWrongRole)
            };
            // The one that works, as the check picks it; its departures from the documented
            // setup are for the ACL pack.
            if let Some(working) = candidates.iter().find(|a| problems(a).is_empty()) {
                let drift = task_acls::drift(working);
                if !drift.is_empty() {
                    self.plan.acl_drift.push((working.sys_id.clone(), drift));
                }
                continue;
            }
            let Some(role_id) = role_id.clone() else {
                self.manual(manual::create_acl_after_app(&spec, &links));
                continue;
            };
            // Repair the most nearly right ACL, or create one.
            let best = candidates
                .iter()
                .max_by_key(|a| (requires_app_role(a), a.active != Some(false)))
                .copied();
            match best {
                None => self.create_acl(&spec, role_id, &links),
                Some(acl) => self.repair_acl(&spec, acl, &problems(acl), role_id, &links),
            }
        }
    }

    fn create_acl(&mut self, spec: &AclSpec, role_id: String, links: &Links) {
        let op = spec.operation;
        let fallback = Some(manual::create_acl(spec, links));
        let acl_step = format!("acl:{op}");
        let link_step = format!("acl_role:{op}");
        self.push(Step {
            id: acl_step.clone(),
            check: CheckId::TaskAcls,
            table: "sys_security_acl".into(),
            action: Action::Create,
            fields: vec![
                ("name".into(), Value::text(spec.table)),
                ("type".into(), Value::text(spec.acl_type)),
                ("operation".into(), Value::text(op)),
                ("decision_type".into(), Value::text(spec.decision_type)),
                ("admin_overrides".into(), Value::Bool(spec.admin_overrides)),
                ("active".into(), Value::Bool(false)),
                ("sys_scope".into(), Value::text(spec.scope)),
                (
                    "description".into(),
                    Value::text(format!(
                        "Lets the incident.io integration {op} task records (role {}); created by \
                         snconnect",
                        spec.role
                    )),
                ),
            ],
            natural_key: vec![
                ("name".into(), Value::text(spec.table)),
                ("type".into(), Value::text(spec.acl_type)),
                ("operation".into(), Value::text(op)),
            ],
            why: FindingCode::AclMissing,
            summary: format!(
                "create the {op} ACL on task (Allow If, Admin overrides), inactive until it \
                 requires {}",
                spec.role
            ),
            depends_on: vec![],
            confirm: false,
            input_display_value: false,
            fallback: fallback.clone(),
        });
        self.push(acl_role_step(
            spec,
            Value::CreatedBy(acl_step.clone()),
            role_id,
            vec![acl_step.clone()],
            FindingCode::AclMissing,
            false,
            fallback.clone(),
        ));
        self.push(Step {
            id: format!("acl_activate:{op}"),
            check: CheckId::TaskAcls,
            table: "sys_security_acl".into(),
            action: Action::Update(Value::CreatedBy(acl_step)),
            fields: vec![("active".into(), Value::Bool(true))],
            natural_key: vec![],
            why: FindingCode::AclMissing,
            summary: format!("activate the new {op} ACL on task"),
            depends_on: vec![link_step],
            confirm: false,
            input_display_value: false,
            fallback,
        });
    }

    /// Repairs `acl` of what [`task_acls::blocking_problems`] found, each write answering the
    /// finding the check named.
    fn repair_acl(
        &mut self,
        spec: &AclSpec,
        acl: &task_acls::Acl,
        problems: &[FindingCode],
        role_id: String,
        links: &Links,
    ) {
        let op = spec.operation;
        let role_code = if problems.contains(&FindingCode::AclWrongRole) {
            FindingCode::AclWrongRole
        } else {
            FindingCode::AclNoRole
        };
        let has_role = !problems.contains(&role_code);
        let mut todo = Vec::new();
        if !has_role {
            todo.push(format!("add {} under Requires role", spec.role));
        }
        let mut fields = Vec::new();
        let deny = problems.contains(&FindingCode::AclDenyUnless);
        if deny {
            fields.push(("decision_type".to_string(), Value::text("allow")));
            todo.push("set Decision Type to Allow If".to_string());
        }
        let inactive = problems.contains(&FindingCode::AclInactive);
        if inactive {
            fields.push(("active".to_string(), Value::Bool(true)));
            todo.push("tick Active".to_string());
        }
        let why = if deny {
            FindingCode::AclDenyUnless
        } else {
            FindingCode::AclInactive
        };
        if deny && inactive {
            self.plan.also_answers.push((
                format!("acl_repair:{op}"),
                CheckId::TaskAcls,
                FindingCode::AclInactive,
            ));
        }
        let fallback = Some(manual::repair_acl(
            spec,
            &acl.sys_id,
            &todo.join(", "),
            links,
        ));
        let mut deps = Vec::new();
        if !has_role {
            let link_step = format!("acl_role:{op}");
            self.push(acl_role_step(
                spec,
                Value::text(&acl.sys_id),
                role_id,
                vec![],
                role_code,
                true,
                fallback.clone(),
            ));
            deps.push(link_step);
        }
        if !fields.is_empty() {
            self.push(Step {
                id: format!("acl_repair:{op}"),
                check: CheckId::TaskAcls,
                table: "sys_security_acl".into(),
                action: Action::Update(Value::text(&acl.sys_id)),
                fields,
                natural_key: vec![],
                why,
                summary: format!("repair the existing {op} ACL on task: {}", todo.join(", ")),
                // Activated or switched to Allow If only once it requires the role.
                depends_on: deps,
                confirm: true,
                input_display_value: false,
                fallback,
            });
        }
    }
}

fn acl_role_step(
    spec: &AclSpec,
    acl: Value,
    role_id: String,
    depends_on: Vec<String>,
    why: FindingCode,
    existing: bool,
    fallback: Option<ManualStep>,
) -> Step {
    Step {
        id: format!("acl_role:{}", spec.operation),
        check: CheckId::TaskAcls,
        table: "sys_security_acl_role".into(),
        action: Action::Create,
        fields: vec![
            ("sys_security_acl".into(), acl.clone()),
            ("sys_user_role".into(), Value::text(&role_id)),
        ],
        natural_key: vec![
            ("sys_security_acl".into(), acl),
            ("sys_user_role".into(), Value::text(role_id)),
        ],
        why,
        summary: format!(
            "make the {} ACL on task require {}",
            spec.operation, spec.role
        ),
        depends_on,
        confirm: existing,
        input_display_value: false,
        fallback,
    }
}
