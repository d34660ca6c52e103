//! The sandbox's tables: schemas, rows stored as strings (as the Table API returns them), and the
//! platform behaviour that belongs to the data rather than to HTTP: defaults on insert, the role
//! engine that materialises group-inherited roles, passwords hashed one way, client secrets
//! encrypted at rest.
//!
//! Why one file of about 800 lines: it is one type, [`Db`], whose methods share its invariants
//! (every row's columns come from its schema, secrets never stored in the clear, derived role rows
//! kept in step with their sources); the data dictionary lives apart in `schema.rs`.

use super::schema::{table_defaults, READ_ONLY_FIELDS, SYSTEM_FIELDS, TABLES};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use FieldKind::{Ref, Secret};

use rand::Rng;
use sha2::{Digest, Sha256};

use super::faults::Faults;
use super::query::{self, Resolver};

/// A stored record: every value is a string, as the Table API reports them.
pub type Row = BTreeMap<String, String>;

/// What a column holds, which decides how it is written and rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    Bool,
    Int,
    /// A reference to a row of the named table (stored as its sys_id).
    Ref(&'static str),
    /// One-way hashed (`sys_user.user_password`).
    Password,
    /// Two-way encrypted; reads return ciphertext (`oauth_entity.client_secret`).
    Secret,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub kind: FieldKind,
}

/// A table's dictionary: its columns and the column that names a record (its display value).
#[derive(Clone, Debug)]
pub struct TableSchema {
    pub name: String,
    pub display: &'static str,
    pub fields: Vec<Field>,
}

impl TableSchema {
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Why the data layer refused a write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbError {
    InvalidTable(String),
    NotFound {
        table: String,
        sys_id: String,
    },
    /// A platform rule aborted the write: (rule name, what was wrong).
    BusinessRule {
        table: String,
        rule: String,
        detail: String,
    },
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbError::InvalidTable(t) => write!(f, "Invalid table {t}"),
            DbError::NotFound { table, sys_id } => write!(f, "no record {sys_id} in {table}"),
            DbError::BusinessRule {
                table,
                rule,
                detail,
            } => write!(
                f,
                "Operation against file '{table}' was aborted by Business Rule '{rule}': {detail}"
            ),
        }
    }
}

impl std::error::Error for DbError {}

/// An OAuth token the token endpoint minted.
#[derive(Clone, Debug)]
pub struct Token {
    /// sys_id of the user the token acts as.
    pub user: String,
    /// sys_id of the oauth_entity that minted it.
    pub entity: String,
    pub expires: Instant,
}

/// The whole simulated instance state. Tests reach it through `Sandbox::with_db` to "fix by hand".
pub struct Db {
    schemas: BTreeMap<String, TableSchema>,
    rows: BTreeMap<String, Vec<Row>>,
    /// Faults injected into the next requests; flip them at runtime through `with_db`.
    pub faults: Faults,
    /// Let REST inserts into ACL tables succeed (real instances need security_admin elevation).
    pub allow_acl_insert: bool,
    /// Failed logins before `locked_out` becomes true.
    pub lockout_threshold: u32,
    /// Added to every request before it is answered.
    pub latency: Duration,
    /// Hide `sys_security_acl` even from admin, as on instances that keep it security_admin-only.
    pub acl_hidden: bool,
    /// Roles that grant read on a table to a non-admin caller (`admin` always reads).
    pub read_roles: BTreeMap<String, Vec<String>>,
    /// Records a non-admin may not read although it may read their table (row-level ACLs, e.g.
    /// restricted incidents), by sys_id. A list page is cut to `sysparm_limit` first and these
    /// are taken out after, as on a real instance (facts sheet, Corrections 1).
    pub restricted_rows: std::collections::BTreeSet<String>,
    /// A REST API access policy that admits only Basic authentication to the Table API: bearer
    /// tokens, though minted, are refused with 401 (facts sheet, Corrections 2).
    pub basic_only_policy: bool,
    pub(crate) access_tokens: HashMap<String, Token>,
    pub(crate) refresh_tokens: HashMap<String, Token>,
    /// Key for the at-rest encryption of secret columns.
    secret_key: [u8; 32],
}

/// Lower-case hex of some bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new random sys_id: 32 lower-case hex characters, like the platform's GUIDs.
pub fn new_sys_id() -> String {
    hex(&rand::rng().random::<[u8; 16]>())
}

/// A random string of letters and digits, for tokens and generated secrets.
pub fn random_token(len: usize) -> String {
    rand::rng()
        .sample_iter(rand::distr::Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// The current time as the Table API prints it (`YYYY-MM-DD hh:mm:ss`, UTC).
pub fn now_timestamp() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format_timestamp(secs)
}

/// Formats seconds since the epoch as a UTC date-time (civil-from-days, proleptic Gregorian).
pub fn format_timestamp(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Prefix of a password the sandbox hashed; anything else in `user_password` is a raw value
/// that no login can match (what happens when a client writes it without
/// `sysparm_input_display_value=true`).
const HASH_PREFIX: &str = "$s256$";

/// One-way salted SHA-256 of a password, in the form stored in `user_password`.
pub fn hash_password(plain: &str) -> String {
    let salt = hex(&rand::rng().random::<[u8; 8]>());
    let digest = Sha256::digest(format!("{salt}:{plain}").as_bytes());
    format!("{HASH_PREFIX}{salt}${}", hex(&digest))
}

/// Whether `plain` is the password whose hash is `stored`. A raw (unhashed) value never matches.
pub fn verify_password(stored: &str, plain: &str) -> bool {
    let Some(rest) = stored.strip_prefix(HASH_PREFIX) else {
        return false;
    };
    let Some((salt, digest)) = rest.split_once('$') else {
        return false;
    };
    hex(&Sha256::digest(format!("{salt}:{plain}").as_bytes())) == digest
}

impl Default for Db {
    fn default() -> Self {
        Db::new()
    }
}

impl Db {
    /// An instance with every table of the dictionary and no rows.
    pub fn new() -> Db {
        let mut schemas = BTreeMap::new();
        for (name, display, fields) in TABLES {
            let fields = SYSTEM_FIELDS
                .iter()
                .chain(fields.iter())
                .map(|(n, k)| Field {
                    name: n.to_string(),
                    kind: *k,
                })
                .collect();
            schemas.insert(
                name.to_string(),
                TableSchema {
                    name: name.to_string(),
                    display,
                    fields,
                },
            );
        }
        let read_roles = [
            (
                "incident",
                &["itil", "incident_manager", "x_incident_io.api_user"][..],
            ),
            (
                "task",
                &["itil", "incident_manager", "x_incident_io.api_user"][..],
            ),
            ("cmdb_ci", &["cmdb_read", "itil"][..]),
            ("sys_user", &["sn_cmdb_user", "itil"][..]),
            ("sys_user_group", &["sn_cmdb_user", "itil"][..]),
            ("sys_user_has_role", &["itil"][..]),
            ("sys_user_grmember", &["itil"][..]),
        ]
        .into_iter()
        .map(|(t, roles)| (t.to_string(), roles.iter().map(|r| r.to_string()).collect()))
        .collect();
        Db {
            schemas,
            rows: BTreeMap::new(),
            faults: Faults::default(),
            allow_acl_insert: false,
            lockout_threshold: 5,
            restricted_rows: std::collections::BTreeSet::new(),
            basic_only_policy: false,
            latency: Duration::ZERO,
            acl_hidden: false,
            read_roles,
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            secret_key: rand::rng().random(),
        }
    }

    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        self.schemas.keys().map(String::as_str)
    }

    pub fn schema(&self, table: &str) -> Option<&TableSchema> {
        self.schemas.get(table)
    }

    /// Removes a column from a table, as on a release that does not have it (e.g.
    /// `sys_user.identity_type` before Xanadu): queries on it are then dropped and reads omit it.
    pub fn remove_field(&mut self, table: &str, field: &str) {
        if let Some(schema) = self.schemas.get_mut(table) {
            schema.fields.retain(|f| f.name != field);
        }
        if let Some(rows) = self.rows.get_mut(table) {
            for row in rows {
                row.remove(field);
            }
        }
    }

    /// Removes the rows matching a query and returns how many went. The HTTP API never deletes;
    /// this is for building scenarios and for tests that change state by hand.
    pub fn remove_where(&mut self, table: &str, encoded_query: &str) -> usize {
        let doomed: Vec<String> = self
            .find(table, encoded_query)
            .into_iter()
            .filter_map(|r| r.get("sys_id").cloned())
            .collect();
        if let Some(rows) = self.rows.get_mut(table) {
            rows.retain(|r| !r.get("sys_id").is_some_and(|id| doomed.contains(id)));
        }
        doomed.len()
    }

    /// Sets columns on every row matching a query; returns how many rows changed.
    pub fn update_where(
        &mut self,
        table: &str,
        encoded_query: &str,
        values: &[(&str, &str)],
    ) -> usize {
        let ids: Vec<String> = self
            .find(table, encoded_query)
            .into_iter()
            .filter_map(|r| r.get("sys_id").cloned())
            .collect();
        for id in &ids {
            let _ = self.update(table, id, values);
        }
        ids.len()
    }

    /// Sets a column as the platform would, read-only and system columns too (`sys_created_on`):
    /// for faults that stand for something another client did earlier.
    pub fn set_raw(&mut self, table: &str, sys_id: &str, field: &str, value: &str) {
        if let Some(row) = self.rows.get_mut(table).and_then(|rows| {
            rows.iter_mut()
                .find(|r| r.get("sys_id").map(String::as_str) == Some(sys_id))
        }) {
            row.insert(field.to_string(), value.to_string());
        }
    }

    /// Every row of a table, in insertion order.
    pub fn rows(&self, table: &str) -> &[Row] {
        self.rows.get(table).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn get(&self, table: &str, sys_id: &str) -> Option<&Row> {
        self.rows(table)
            .iter()
            .find(|r| r.get("sys_id").map(String::as_str) == Some(sys_id))
    }

    /// Rows matching an encoded query, with no visibility rule applied.
    pub fn find(&self, table: &str, encoded_query: &str) -> Vec<&Row> {
        self.find_as(table, encoded_query, None)
    }

    /// Like [`Db::find`], with `javascript:gs.getUserID()` resolving to `caller`.
    pub fn find_as(&self, table: &str, encoded_query: &str, caller: Option<&str>) -> Vec<&Row> {
        let resolver = TableResolver { db: self, table };
        query::parse(encoded_query).apply(&resolver, self.rows(table), caller)
    }

    /// The first row matching an encoded query.
    pub fn find_one(&self, table: &str, encoded_query: &str) -> Option<&Row> {
        self.find(table, encoded_query).into_iter().next()
    }

    /// The sys_id of the first row matching a query.
    pub fn id_of(&self, table: &str, encoded_query: &str) -> Option<String> {
        self.find_one(table, encoded_query)
            .and_then(|r| r.get("sys_id").cloned())
    }

    /// Validates a (possibly dot-walked) field path from `table`: every segment but the last must
    /// be a reference. Returns the table the last segment lives in and its field.
    pub fn resolve_path(&self, table: &str, path: &str) -> Option<(&TableSchema, &Field)> {
        let mut schema = self.schemas.get(table)?;
        let mut segments = path.split('.').peekable();
        while let Some(segment) = segments.next() {
            let field = schema.field(segment)?;
            if segments.peek().is_none() {
                return Some((schema, field));
            }
            match field.kind {
                Ref(target) => schema = self.schemas.get(target)?,
                _ => return None,
            }
        }
        None
    }

    /// The raw value at a field path of a row; `""` when any reference on the way is empty or
    /// dangling.
    pub fn value_at(&self, table: &str, row: &Row, path: &str) -> String {
        let mut current_table = table;
        let mut current = row;
        let mut segments = path.split('.').peekable();
        while let Some(segment) = segments.next() {
            let value = current.get(segment).cloned().unwrap_or_default();
            if segments.peek().is_none() {
                return value;
            }
            let Some(Ref(target)) = self
                .schemas
                .get(current_table)
                .and_then(|s| s.field(segment))
                .map(|f| f.kind)
            else {
                return String::new();
            };
            match self.get(target, &value) {
                Some(next) => {
                    current = next;
                    current_table = target;
                }
                None => return String::new(),
            }
        }
        String::new()
    }

    /// The display value of the record a reference points at (`""` when it dangles).
    pub fn display_of(&self, table: &str, sys_id: &str) -> String {
        let Some(schema) = self.schemas.get(table) else {
            return String::new();
        };
        self.get(table, sys_id)
            .and_then(|r| r.get(schema.display))
            .cloned()
            .unwrap_or_default()
    }

    /// Inserts a record as the system user. See [`Db::insert_as`].
    pub fn insert(&mut self, table: &str, values: &[(&str, &str)]) -> Result<String, DbError> {
        let owned: Vec<(String, String)> = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.insert_as(table, owned, "system")
    }

    /// Inserts a record and runs the platform's rules for it. Unknown columns are ignored, as the
    /// Table API ignores them; system columns are set by the platform. Values for secret columns
    /// are plaintext (stored encrypted); `user_password` is stored exactly as given, so callers
    /// that want a usable password pass [`hash_password`]'s output or use [`Db::set_password`].
    pub fn insert_as(
        &mut self,
        table: &str,
        values: Vec<(String, String)>,
        actor: &str,
    ) -> Result<String, DbError> {
        let schema = self
            .schemas
            .get(table)
            .ok_or_else(|| DbError::InvalidTable(table.to_string()))?
            .clone();
        let now = now_timestamp();
        let mut row: Row = schema
            .fields
            .iter()
            .map(|f| (f.name.clone(), String::new()))
            .collect();
        for (k, v) in table_defaults(table) {
            if row.contains_key(*k) {
                row.insert(k.to_string(), v.to_string());
            }
        }
        for (k, v) in &values {
            if schema.field(k).is_some() && !READ_ONLY_FIELDS.contains(&k.as_str()) {
                row.insert(k.clone(), v.clone());
            }
        }
        // Task-family records get their number from the table's counter, as the platform's
        // number maintenance gives them: prefix, then seven digits (INC0010001).
        if row.get("number").is_some_and(String::is_empty) {
            if let Some(prefix) = number_prefix(table) {
                let taken = self.rows.get(table).map(|rows| rows.len()).unwrap_or(0);
                row.insert("number".into(), format!("{prefix}{:07}", 10_001 + taken));
            }
        }
        // The platform accepts a caller-chosen sys_id on insert; fixtures use it for the records
        // whose sys_id is a word on real instances (`global`, the ACL operations `read`, …).
        let sys_id = values
            .iter()
            .find(|(k, _)| k == "sys_id")
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty() && self.get(table, v).is_none())
            .unwrap_or_else(new_sys_id);
        row.insert("sys_id".into(), sys_id.clone());
        row.insert("sys_created_on".into(), now.clone());
        row.insert("sys_updated_on".into(), now);
        row.insert("sys_created_by".into(), actor.to_string());
        row.insert("sys_updated_by".into(), actor.to_string());
        row.insert("sys_mod_count".into(), "0".into());

        self.before_insert(table, &mut row)?;
        self.encrypt_secret_fields(&schema, &mut row);
        self.rows
            .entry(table.to_string())
            .or_default()
            .push(row.clone());
        self.after_insert(table, &row, actor);
        Ok(sys_id)
    }

    /// Table-specific validation and generated values.
    fn before_insert(&self, table: &str, row: &mut Row) -> Result<(), DbError> {
        match table {
            "oauth_entity" => {
                if row.get("client_id").is_none_or(|v| v.is_empty()) {
                    row.insert("client_id".into(), new_sys_id());
                }
                if row.get("client_secret").is_none_or(|v| v.is_empty()) {
                    // Generated secrets are plaintext here and encrypted with the supplied ones.
                    row.insert("client_secret".into(), random_token(16));
                }
            }
            // sys_user.user_name is a unique field on real instances (facts sheet, Corrections 8),
            // so a second insert of the same name fails; oauth_entity names are not unique, and a
            // race there makes a duplicate, as it would on an instance.
            "sys_user" => {
                let name = row.get("user_name").cloned().unwrap_or_default();
                if !name.is_empty() && self.user_by_name(&name).is_some() {
                    return Err(DbError::BusinessRule {
                        table: table.to_string(),
                        rule: "Unique Key violation detected by database".to_string(),
                        detail: format!("user_name '{name}' already exists"),
                    });
                }
            }
            "sys_user_has_role" => {
                self.check_reference(table, row, "user", "sys_user", "Validate user role")?;
                self.check_reference(table, row, "role", "sys_user_role", "Validate user role")?;
            }
            "sys_user_grmember" => {
                self.check_reference(table, row, "user", "sys_user", "Validate group member")?;
                self.check_reference(
                    table,
                    row,
                    "group",
                    "sys_user_group",
                    "Validate group member",
                )?;
            }
            "sys_group_has_role" => {
                self.check_reference(table, row, "group", "sys_user_group", "Validate group role")?;
                self.check_reference(table, row, "role", "sys_user_role", "Validate group role")?;
            }
            _ => {}
        }
        Ok(())
    }

    fn check_reference(
        &self,
        table: &str,
        row: &Row,
        field: &str,
        target: &str,
        rule: &str,
    ) -> Result<(), DbError> {
        let value = row.get(field).map(String::as_str).unwrap_or("");
        if value.is_empty() || self.get(target, value).is_none() {
            return Err(DbError::BusinessRule {
                table: table.to_string(),
                rule: rule.to_string(),
                detail: format!("{field} '{value}' is not a record in {target}"),
            });
        }
        Ok(())
    }

    /// The role engine and the application hierarchy, run after a row is stored.
    fn after_insert(&mut self, table: &str, row: &Row, actor: &str) {
        let id = |f: &str| row.get(f).cloned().unwrap_or_default();
        match table {
            // Store and custom applications are also rows of their parent table, sys_scope.
            "sys_store_app" | "sys_app" => {
                let mut scope_row: Row = self.schemas["sys_scope"]
                    .fields
                    .iter()
                    .map(|f| {
                        let value = row.get(&f.name).cloned().unwrap_or_default();
                        (f.name.clone(), value)
                    })
                    .collect();
                scope_row.insert("sys_class_name".into(), table.to_string());
                self.rows
                    .entry("sys_scope".into())
                    .or_default()
                    .push(scope_row);
            }
            "sys_user_grmember" => {
                let (user, group) = (id("user"), id("group"));
                let roles: Vec<String> = self
                    .find("sys_group_has_role", &format!("group={group}"))
                    .into_iter()
                    .filter_map(|r| r.get("role").cloned())
                    .collect();
                for role in roles {
                    self.grant_inherited(&user, &role, &group, actor);
                }
            }
            "sys_group_has_role" => {
                let (group, role) = (id("group"), id("role"));
                let members: Vec<String> = self
                    .find("sys_user_grmember", &format!("group={group}"))
                    .into_iter()
                    .filter_map(|r| r.get("user").cloned())
                    .collect();
                for user in members {
                    self.grant_inherited(&user, &role, &group, actor);
                }
            }
            _ => {}
        }
    }

    /// Materialises a role a user gets through a group, as the role engine does.
    fn grant_inherited(&mut self, user: &str, role: &str, group: &str, actor: &str) {
        let values = vec![
            ("user".to_string(), user.to_string()),
            ("role".to_string(), role.to_string()),
            ("inherited".to_string(), "true".to_string()),
            ("granted_by".to_string(), group.to_string()),
            ("inh_count".to_string(), "1".to_string()),
        ];
        // References were validated by the insert that triggered this; an error cannot arise.
        let _ = self.insert_as("sys_user_has_role", values, actor);
    }

    /// Updates a record's writable columns; the same value rules as [`Db::insert_as`].
    pub fn update_as(
        &mut self,
        table: &str,
        sys_id: &str,
        values: Vec<(String, String)>,
        actor: &str,
    ) -> Result<(), DbError> {
        let schema = self
            .schemas
            .get(table)
            .ok_or_else(|| DbError::InvalidTable(table.to_string()))?
            .clone();
        let mut encrypted = Vec::new();
        for (k, v) in &values {
            if schema.field(k).map(|f| f.kind) == Some(Secret) {
                encrypted.push((k.clone(), self.encrypt(v)));
            }
        }
        let row = self
            .rows
            .get_mut(table)
            .and_then(|rows| {
                rows.iter_mut()
                    .find(|r| r.get("sys_id").map(String::as_str) == Some(sys_id))
            })
            .ok_or_else(|| DbError::NotFound {
                table: table.to_string(),
                sys_id: sys_id.to_string(),
            })?;
        for (k, v) in values {
            if schema.field(&k).is_some() && !READ_ONLY_FIELDS.contains(&k.as_str()) {
                row.insert(k, v);
            }
        }
        for (k, v) in encrypted {
            row.insert(k, v);
        }
        let count = row
            .get("sys_mod_count")
            .and_then(|c| c.parse::<u64>().ok())
            .unwrap_or(0);
        row.insert("sys_mod_count".into(), (count + 1).to_string());
        row.insert("sys_updated_on".into(), now_timestamp());
        row.insert("sys_updated_by".into(), actor.to_string());
        Ok(())
    }

    /// Updates a record as the system user.
    pub fn update(
        &mut self,
        table: &str,
        sys_id: &str,
        values: &[(&str, &str)],
    ) -> Result<(), DbError> {
        let owned = values
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.update_as(table, sys_id, owned, "system")
    }

    /// Every access and refresh token minted so far (expired ones too), for tests that scan a
    /// run's output for leaked tokens.
    pub fn minted_tokens(&self) -> Vec<String> {
        self.access_tokens
            .keys()
            .chain(self.refresh_tokens.keys())
            .cloned()
            .collect()
    }

    /// Sets a user's password the way the platform stores it (hashed), so it works for logins.
    pub fn set_password(&mut self, user_sys_id: &str, plain: &str) -> Result<(), DbError> {
        let hashed = hash_password(plain);
        self.update("sys_user", user_sys_id, &[("user_password", &hashed)])
    }

    /// A system property's value, if the property exists.
    pub fn property(&self, name: &str) -> Option<String> {
        self.find_one("sys_properties", &format!("name={}", escape(name)))
            .and_then(|r| r.get("value").cloned())
    }

    /// Creates or changes a system property.
    pub fn set_property(&mut self, name: &str, value: &str) {
        match self.id_of("sys_properties", &format!("name={}", escape(name))) {
            Some(id) => {
                let _ = self.update("sys_properties", &id, &[("value", value)]);
            }
            None => {
                let _ = self.insert(
                    "sys_properties",
                    &[("name", name), ("value", value), ("type", "string")],
                );
            }
        }
    }

    /// The sys_user row with this user_name.
    pub fn user_by_name(&self, user_name: &str) -> Option<&Row> {
        self.rows("sys_user")
            .iter()
            .find(|r| r.get("user_name").map(String::as_str) == Some(user_name))
    }

    /// Names of the roles a user holds, directly or through groups (active grants only).
    pub fn roles_of(&self, user_sys_id: &str) -> BTreeSet<String> {
        self.rows("sys_user_has_role")
            .iter()
            .filter(|r| {
                r.get("user").map(String::as_str) == Some(user_sys_id)
                    && r.get("state").map(String::as_str) == Some("active")
            })
            .filter_map(|r| {
                let role = r.get("role")?;
                self.get("sys_user_role", role)?.get("name").cloned()
            })
            .collect()
    }

    /// The oauth_entity row with this client id.
    pub fn entity_by_client_id(&self, client_id: &str) -> Option<&Row> {
        self.rows("oauth_entity")
            .iter()
            .find(|r| r.get("client_id").map(String::as_str) == Some(client_id))
    }

    /// The plaintext of an encrypted column, or `None` when what is stored is not a ciphertext
    /// this instance produced.
    pub fn decrypt_field(&self, row: &Row, field: &str) -> Option<String> {
        self.decrypt(row.get(field)?)
    }

    fn encrypt_secret_fields(&self, schema: &TableSchema, row: &mut Row) {
        for field in &schema.fields {
            if field.kind == Secret {
                if let Some(plain) = row.get(&field.name).filter(|v| !v.is_empty()).cloned() {
                    let cipher = self.encrypt(&plain);
                    row.insert(field.name.clone(), cipher);
                }
            }
        }
    }

    /// A keystream from SHA-256 over (key, nonce, block counter).
    fn keystream(&self, nonce: &[u8], len: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(len);
        let mut counter: u32 = 0;
        while out.len() < len {
            let mut h = Sha256::new();
            h.update(self.secret_key);
            h.update(nonce);
            h.update(counter.to_be_bytes());
            out.extend_from_slice(&h.finalize());
            counter += 1;
        }
        out.truncate(len);
        out
    }

    /// Encrypts a secret column's value. The result is opaque text, never the plaintext.
    fn encrypt(&self, plain: &str) -> String {
        use base64::Engine;
        let nonce: [u8; 12] = rand::rng().random();
        let stream = self.keystream(&nonce, plain.len());
        let mut bytes = nonce.to_vec();
        bytes.extend(plain.bytes().zip(stream).map(|(p, k)| p ^ k));
        format!(
            "enc1:{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        )
    }

    fn decrypt(&self, stored: &str) -> Option<String> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(stored.strip_prefix("enc1:")?)
            .ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let (nonce, body) = bytes.split_at(12);
        let stream = self.keystream(nonce, body.len());
        String::from_utf8(body.iter().zip(stream).map(|(c, k)| c ^ k).collect()).ok()
    }

    /// Records a failed login and locks the account at the threshold.
    pub fn record_failed_login(&mut self, user_sys_id: &str) {
        let Some(row) = self.get("sys_user", user_sys_id) else {
            return;
        };
        let attempts = row
            .get("failed_attempts")
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
            + 1;
        let attempts_text = attempts.to_string();
        let mut values = vec![("failed_attempts", attempts_text.as_str())];
        // As a real instance: glide.user.max_unlock_attempts when set, else the default.
        let threshold = self
            .property(LOCKOUT_PROPERTY)
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(self.lockout_threshold);
        if threshold > 0 && attempts >= threshold {
            values.push(("locked_out", "true"));
        }
        let _ = self.update("sys_user", user_sys_id, &values);
    }

    /// A successful login clears the failed-attempt count.
    pub fn record_successful_login(&mut self, user_sys_id: &str) {
        let now = now_timestamp();
        let _ = self.update(
            "sys_user",
            user_sys_id,
            &[("failed_attempts", "0"), ("last_login_time", &now)],
        );
    }
}

/// The number prefix of a table with number maintenance.
fn number_prefix(table: &str) -> Option<&'static str> {
    match table {
        "incident" => Some("INC"),
        "task" => Some("TASK"),
        _ => None,
    }
}

/// The property that holds the lockout threshold (facts sheet, Corrections 7).
pub const LOCKOUT_PROPERTY: &str = "glide.user.max_unlock_attempts";

/// Escapes a value for an encoded query (`^` becomes `^^`).
pub fn escape(value: &str) -> String {
    value.replace('^', "^^")
}

/// The query engine's view of one table of the db.
pub struct TableResolver<'a> {
    pub db: &'a Db,
    pub table: &'a str,
}

impl Resolver for TableResolver<'_> {
    type Row = Row;

    fn is_valid(&self, path: &str) -> bool {
        self.db.resolve_path(self.table, path).is_some()
    }

    fn value(&self, row: &Row, path: &str) -> String {
        self.db.value_at(self.table, row, path)
    }
}

#[cfg(test)]
#[path = "db_tests.rs"]
mod tests;
