//! Who is calling: Basic and Bearer authentication, failed-login counting and lockout, MFA for
//! integrations, and the OAuth token endpoint with ServiceNow's single opaque failure.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{json, Value};

use super::db::{random_token, verify_password, Db, Token};

/// An authenticated caller.
#[derive(Clone, Debug)]
pub struct Caller {
    pub sys_id: String,
    pub user_name: String,
    /// The oauth_entity sys_id when the caller presented a bearer token.
    pub entity: Option<String>,
    pub roles: BTreeSet<String>,
}

impl Caller {
    /// How the request log names the caller: the user name, or `token:<user>` for bearer tokens.
    pub fn label(&self) -> String {
        match self.entity {
            Some(_) => format!("token:{}", self.user_name),
            None => self.user_name.clone(),
        }
    }

    pub fn is_admin(&self) -> bool {
        self.roles.contains("admin")
    }

    pub fn holds_any(&self, roles: &[String]) -> bool {
        roles.iter().any(|r| self.roles.contains(r))
    }
}

/// Why a request was not authenticated. All of them are a 401 to the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthFailure {
    /// No (usable) Authorization header.
    Missing,
    /// Wrong user, wrong password, inactive or locked user, unknown or expired token.
    Rejected,
    /// The password was right but the user is MFA-enrolled and MFA is enforced for integrations.
    MfaRequired,
}

/// The property that makes MFA-enrolled users fail Basic auth on the REST API.
pub const MFA_FOR_INTEGRATIONS: &str = "glide.authenticate.multifactor.for_integrations";
/// When `false`, the instance issues no OAuth tokens at all.
pub const OAUTH_ACTIVE: &str = "com.snc.platform.security.oauth.is.active";
/// When `true`, the password (ROPC) grant is refused.
pub const ROPC_DISABLED: &str = "glide.oauth.inbound.ropc.grant_type.disabled";
/// Holds the sys_id of the `useraccount` auth scope when the record was re-created.
pub const USERACCOUNT_SCOPE_PROPERTY: &str = "glide.oauth.token.scope.useraccount";

fn user_caller(db: &Db, row: &super::db::Row, entity: Option<String>) -> Caller {
    let sys_id = row.get("sys_id").cloned().unwrap_or_default();
    Caller {
        roles: db.roles_of(&sys_id),
        user_name: row.get("user_name").cloned().unwrap_or_default(),
        sys_id,
        entity,
    }
}

fn is_true(row: &super::db::Row, field: &str) -> bool {
    row.get(field).map(String::as_str) == Some("true")
}

/// Authenticates a request from its `Authorization` header. A wrong password counts as a failed
/// login and may lock the account; a successful one clears the count.
pub fn authenticate(db: &mut Db, authorization: Option<&str>) -> Result<Caller, AuthFailure> {
    let header = authorization.ok_or(AuthFailure::Missing)?.trim();
    let (scheme, credentials) = header.split_once(' ').ok_or(AuthFailure::Missing)?;
    let credentials = credentials.trim();
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(credentials)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or(AuthFailure::Missing)?;
        let (user_name, password) = decoded.split_once(':').ok_or(AuthFailure::Missing)?;
        basic(db, user_name, password)
    } else if scheme.eq_ignore_ascii_case("bearer") {
        bearer(db, credentials)
    } else {
        Err(AuthFailure::Missing)
    }
}

/// Client credentials sent to the token endpoint in a Basic `Authorization` header, as RFC 6749
/// section 2.3.1 describes (each part form-urlencoded, then `id:secret` in base64): what
/// requests-oauthlib, and so pysnc's password flow, sends. ServiceNow accepts them there as well
/// as in the form body.
pub fn client_credentials_header(authorization: Option<&str>) -> Option<(String, String)> {
    let (scheme, credentials) = authorization?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(credentials.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())?;
    let (id, secret) = decoded.split_once(':')?;
    let unescape = |part: &str| -> String {
        url::form_urlencoded::parse(format!("x={part}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((unescape(id), unescape(secret)))
}

fn basic(db: &mut Db, user_name: &str, password: &str) -> Result<Caller, AuthFailure> {
    let row = db
        .user_by_name(user_name)
        .ok_or(AuthFailure::Rejected)?
        .clone();
    let sys_id = row.get("sys_id").cloned().unwrap_or_default();
    if !is_true(&row, "active") || is_true(&row, "locked_out") {
        return Err(AuthFailure::Rejected);
    }
    let stored = row.get("user_password").map(String::as_str).unwrap_or("");
    if !verify_password(stored, password) {
        db.record_failed_login(&sys_id);
        return Err(AuthFailure::Rejected);
    }
    if db.property(MFA_FOR_INTEGRATIONS).as_deref() == Some("true")
        && is_true(&row, "enable_multifactor_authn")
    {
        return Err(AuthFailure::MfaRequired);
    }
    db.record_successful_login(&sys_id);
    Ok(user_caller(db, &row, None))
}

fn bearer(db: &mut Db, token: &str) -> Result<Caller, AuthFailure> {
    if db.basic_only_policy {
        return Err(AuthFailure::Rejected);
    }
    let minted = db
        .access_tokens
        .get(token)
        .filter(|t| t.expires > Instant::now())
        .cloned()
        .ok_or(AuthFailure::Rejected)?;
    let row = db
        .get("sys_user", &minted.user)
        .filter(|r| is_true(r, "active") && !is_true(r, "locked_out"))
        .ok_or(AuthFailure::Rejected)?
        .clone();
    Ok(user_caller(db, &row, Some(minted.entity)))
}

/// The sys_id of the `useraccount` auth scope: the property when set, else the record by name.
pub fn useraccount_scope_id(db: &Db) -> Option<String> {
    db.property(USERACCOUNT_SCOPE_PROPERTY)
        .filter(|v| !v.is_empty())
        .or_else(|| db.id_of("sys_auth_scope", "name=useraccount"))
}

/// sys_ids of the auth scopes mapped to an OAuth entity.
pub fn entity_scopes(db: &Db, entity: &str) -> Vec<String> {
    db.find(
        "oauth_entity_auth_scope_mapping",
        &format!("oauth_entity={entity}"),
    )
    .into_iter()
    .filter_map(|r| r.get("auth_scope").cloned())
    .filter(|scope| db.get("sys_auth_scope", scope).is_some())
    .collect()
}

/// The body every token-endpoint failure gets, whatever the cause.
pub fn access_denied_body() -> Value {
    json!({"error_description": "access_denied", "error": "server_error"})
}

/// Why a grant was refused. Never shown to the client (which only sees `access_denied`); kept for
/// the sandbox's own tests and for the request log's readers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantDenied {
    OAuthOff,
    RopcDisabled,
    UnknownClient,
    InactiveClient,
    BadClientSecret,
    NoAuthScope,
    UnknownUser,
    UserInactiveOrLocked,
    BadPassword,
    BadRefreshToken,
    UnsupportedGrant,
}

/// A successful grant: the response body and the user it was for.
pub struct Granted {
    pub body: Value,
    pub user_name: String,
}

/// The body holds live tokens: never print it.
impl std::fmt::Debug for Granted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Granted")
            .field("user_name", &self.user_name)
            .field("body", &"<tokens redacted>")
            .finish()
    }
}

/// Runs `/oauth_token.do` for a form-decoded body.
pub fn token_grant(db: &mut Db, form: &HashMap<String, String>) -> Result<Granted, GrantDenied> {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or("");
    if db.property(OAUTH_ACTIVE).as_deref() == Some("false") {
        return Err(GrantDenied::OAuthOff);
    }
    let entity = db
        .entity_by_client_id(field("client_id"))
        .filter(|_| !field("client_id").is_empty())
        .ok_or(GrantDenied::UnknownClient)?
        .clone();
    if !is_true(&entity, "active") {
        return Err(GrantDenied::InactiveClient);
    }
    if db.decrypt_field(&entity, "client_secret").as_deref() != Some(field("client_secret")) {
        return Err(GrantDenied::BadClientSecret);
    }
    let entity_id = entity.get("sys_id").cloned().unwrap_or_default();
    let scopes = entity_scopes(db, &entity_id);
    if scopes.is_empty() {
        return Err(GrantDenied::NoAuthScope);
    }
    let scope_text = if useraccount_scope_id(db).is_some_and(|ua| scopes.contains(&ua)) {
        "useraccount".to_string()
    } else {
        scopes
            .iter()
            .map(|s| db.display_of("sys_auth_scope", s))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let lifespan = |f: &str, default: u64| {
        entity
            .get(f)
            .and_then(|v| v.parse::<u64>().ok())
            .filter(|v| *v > 1)
            .unwrap_or(default)
    };
    let access_lifespan = lifespan("access_token_lifespan", 1800);
    let refresh_lifespan = lifespan("refresh_token_lifespan", 8_640_000);

    match field("grant_type") {
        "password" => {
            if db.property(ROPC_DISABLED).as_deref() == Some("true") {
                return Err(GrantDenied::RopcDisabled);
            }
            let user = db
                .user_by_name(field("username"))
                .filter(|_| !field("username").is_empty())
                .ok_or(GrantDenied::UnknownUser)?
                .clone();
            let user_id = user.get("sys_id").cloned().unwrap_or_default();
            if !is_true(&user, "active") || is_true(&user, "locked_out") {
                return Err(GrantDenied::UserInactiveOrLocked);
            }
            let stored = user.get("user_password").map(String::as_str).unwrap_or("");
            if !verify_password(stored, field("password")) {
                db.record_failed_login(&user_id);
                return Err(GrantDenied::BadPassword);
            }
            db.record_successful_login(&user_id);
            let (access, expires_in) =
                current_or_new_access_token(db, &user_id, &entity_id, access_lifespan);
            let refresh = random_token(86);
            db.refresh_tokens.insert(
                refresh.clone(),
                Token {
                    user: user_id,
                    entity: entity_id,
                    expires: Instant::now() + Duration::from_secs(refresh_lifespan),
                },
            );
            Ok(Granted {
                body: json!({
                    "access_token": access,
                    "refresh_token": refresh,
                    "scope": scope_text,
                    "token_type": "Bearer",
                    "expires_in": expires_in,
                }),
                user_name: field("username").to_string(),
            })
        }
        "refresh_token" => {
            let minted = db
                .refresh_tokens
                .get(field("refresh_token"))
                .filter(|t| t.entity == entity_id && t.expires > Instant::now())
                .cloned()
                .ok_or(GrantDenied::BadRefreshToken)?;
            let user = db
                .get("sys_user", &minted.user)
                .ok_or(GrantDenied::UnknownUser)?
                .clone();
            if !is_true(&user, "active") || is_true(&user, "locked_out") {
                return Err(GrantDenied::UserInactiveOrLocked);
            }
            // A refresh hands out a new access token (the password grant re-serves a live one).
            let access = random_token(86);
            db.access_tokens.insert(
                access.clone(),
                Token {
                    user: minted.user.clone(),
                    entity: entity_id.clone(),
                    expires: Instant::now() + Duration::from_secs(access_lifespan),
                },
            );
            let expires_in = access_lifespan - 1;
            Ok(Granted {
                body: json!({
                    "access_token": access,
                    "scope": scope_text,
                    "token_type": "Bearer",
                    "expires_in": expires_in,
                }),
                user_name: user.get("user_name").cloned().unwrap_or_default(),
            })
        }
        _ => Err(GrantDenied::UnsupportedGrant),
    }
}

/// ServiceNow re-serves a still-valid access token for the same client and user instead of
/// minting another; a fresh one reports one second less than its lifespan, as the samples do.
fn current_or_new_access_token(
    db: &mut Db,
    user: &str,
    entity: &str,
    lifespan: u64,
) -> (String, u64) {
    let now = Instant::now();
    if let Some((token, t)) = db
        .access_tokens
        .iter()
        .find(|(_, t)| t.user == user && t.entity == entity && t.expires > now)
    {
        let remaining = t.expires.duration_since(now).as_secs();
        return (token.clone(), remaining.max(1));
    }
    let token = random_token(86);
    db.access_tokens.insert(
        token.clone(),
        Token {
            user: user.to_string(),
            entity: entity.to_string(),
            expires: now + Duration::from_secs(lifespan),
        },
    );
    (token, lifespan - 1)
}
