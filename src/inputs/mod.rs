//! The inputs of a run, resolved once: the instance, the path, who signs in, and the secrets.
//!
//! [`resolve`] fills them from flags, stdin, the environment, the keyring and the terminal;
//! everything after that (the flows, the wizard, the checks' plans) receives these values and
//! never reads a source itself. Skip reasons name the flag and the variable that supply an input,
//! so the names of the inputs live here beside the values.

use secrecy::SecretString;

pub mod resolve;

pub use resolve::{interactive, Prompter, Sources, StoredSecrets};

use crate::instance::Instance;
use crate::model::SetupPath;
use crate::servicenow::Auth;

/// The three secrets a run may need, in the order `--*-stdin` lines are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secret {
    AdminPassword,
    ClientSecret,
    Password,
}

impl Secret {
    pub fn env_var(self) -> &'static str {
        match self {
            Secret::AdminPassword => "SNCONNECT_ADMIN_PASSWORD",
            Secret::ClientSecret => "SNCONNECT_CLIENT_SECRET",
            Secret::Password => "SNCONNECT_PASSWORD",
        }
    }

    pub fn flag(self) -> &'static str {
        match self {
            Secret::AdminPassword => "--admin-password-stdin",
            Secret::ClientSecret => "--client-secret-stdin",
            Secret::Password => "--password-stdin",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Secret::AdminPassword => "admin password",
            Secret::ClientSecret => "OAuth client secret",
            Secret::Password => "service user password",
        }
    }

    /// How to supply it, for skip reasons.
    pub fn how(self) -> String {
        format!("{} ({} or {})", self.label(), self.flag(), self.env_var())
    }
}

/// The environment variable for an admin bearer token (SSO admins without a local password).
pub const ADMIN_TOKEN_ENV: &str = "SNCONNECT_ADMIN_TOKEN";

/// The non-secret values a profile remembers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileDefaults {
    pub instance: Option<String>,
    pub path: Option<SetupPath>,
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub admin_user: Option<String>,
}

impl From<crate::credentials::Profile> for ProfileDefaults {
    /// What a saved profile offers as defaults.
    fn from(p: crate::credentials::Profile) -> ProfileDefaults {
        ProfileDefaults {
            instance: p.instance,
            path: p.path,
            client_id: p.client_id,
            username: p.username,
            admin_user: p.admin_user,
        }
    }
}

/// How the admin side signs in.
pub enum AdminAuth {
    Basic {
        user: String,
        password: SecretString,
    },
    Bearer(SecretString),
    /// Why there are no admin credentials, naming the flags and variables.
    Missing(String),
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminAuth::Basic { user, .. } => write!(f, "Basic({user}, password redacted)"),
            AdminAuth::Bearer(_) => f.write_str("Bearer(redacted)"),
            AdminAuth::Missing(why) => write!(f, "Missing({why})"),
        }
    }
}

/// Everything a run needs, resolved once.
pub struct Inputs {
    pub instance: Instance,
    pub profile: String,
    pub path: SetupPath,
    pub admin: AdminAuth,
    pub client_id: Option<String>,
    pub client_secret: Option<SecretString>,
    pub username: String,
    pub password: Option<SecretString>,
    /// Why a stored secret could not be read (keyring unavailable), to add to skip reasons.
    pub store_problem: Option<String>,
}

impl std::fmt::Debug for Inputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inputs")
            .field("instance", &self.instance.as_str())
            .field("profile", &self.profile)
            .field("path", &self.path)
            .field("admin", &self.admin)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "redacted"),
            )
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "redacted"))
            .finish()
    }
}

impl Inputs {
    /// What the service side lacks, each with how to supply it; empty when `connect` can run.
    pub fn service_missing(&self) -> Vec<String> {
        let mut missing = Vec::new();
        if self.client_id.is_none() {
            missing.push("OAuth client id (--client-id or SNCONNECT_CLIENT_ID)".to_string());
        }
        if self.client_secret.is_none() {
            missing.push(Secret::ClientSecret.how());
        }
        if self.password.is_none() {
            missing.push(Secret::Password.how());
        }
        missing
    }
}

impl AdminAuth {
    /// How a request signs in as the admin; anonymously without admin credentials.
    pub fn auth(&self) -> Auth {
        match self {
            AdminAuth::Basic { user, password } => Auth::basic(user.clone(), password.clone()),
            AdminAuth::Bearer(token) => Auth::bearer(token.clone()),
            AdminAuth::Missing(_) => Auth::Anonymous,
        }
    }

    /// Who signs in, without the secret: what messages name.
    pub fn login(&self) -> AdminLogin {
        match self {
            AdminAuth::Basic { user, .. } => AdminLogin::Basic { user: user.clone() },
            AdminAuth::Bearer(_) => AdminLogin::Bearer,
            AdminAuth::Missing(_) => AdminLogin::None,
        }
    }

    /// A copy (the credentials hold secrets, so they are not `Clone` by accident).
    pub fn duplicate(&self) -> AdminAuth {
        match self {
            AdminAuth::Basic { user, password } => AdminAuth::Basic {
                user: user.clone(),
                password: password.clone(),
            },
            AdminAuth::Bearer(t) => AdminAuth::Bearer(t.clone()),
            AdminAuth::Missing(why) => AdminAuth::Missing(why.clone()),
        }
    }
}

/// How the admin signs in, without the secret: what the `instance` check's messages name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminLogin {
    /// No admin credentials were given: only the instance's identity can be checked.
    None,
    /// User name and password (Basic).
    Basic { user: String },
    /// A bearer token from `SNCONNECT_ADMIN_TOKEN`, for SSO admins.
    Bearer,
}

impl Inputs {
    /// A copy of resolved inputs (they hold secrets, so they are not `Clone` by accident).
    pub fn duplicate(&self) -> Inputs {
        Inputs {
            instance: self.instance.clone(),
            profile: self.profile.clone(),
            path: self.path,
            admin: self.admin.duplicate(),
            client_id: self.client_id.clone(),
            client_secret: self.client_secret.clone(),
            username: self.username.clone(),
            password: self.password.clone(),
            store_problem: self.store_problem.clone(),
        }
    }
}
