//! A profile's non-secret values, one TOML file per profile in the platform's config directory.
//!
//! One file per profile keeps `forget` a single unlink and lets two profiles be written by two
//! processes without one losing the other's change.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::fsutil::write_private_atomically;
use super::StoreError;
use crate::exit::UserError;
use crate::model::SetupPath;

/// Overrides the config directory (tests, portable setups).
pub const CONFIG_DIR_ENV: &str = "SNCONNECT_CONFIG_DIR";

/// What snconnect remembers about a profile besides its secrets.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub instance: Option<String>,
    pub path: Option<SetupPath>,
    pub client_id: Option<String>,
    pub username: Option<String>,
    pub admin_user: Option<String>,
    /// The incident.io alert source a scheduled `verify` notifies (`notify = "ID or URL"` in the
    /// file; `--notify` overrides it). Not a secret: the token stays in the environment.
    pub notify: Option<String>,
}

impl Profile {
    pub fn new(name: impl Into<String>) -> Profile {
        Profile {
            name: name.into(),
            ..Profile::default()
        }
    }
}

/// The on-disk shape: the name is the file name, so it cannot disagree with it.
#[derive(Serialize, Deserialize, Default)]
struct ProfileFile {
    #[serde(skip_serializing_if = "Option::is_none")]
    instance: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<SetupPath>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    admin_user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    notify: Option<String>,
}

/// Profile names become file names and keyring keys (`<profile>:<kind>`), so they are limited to
/// letters, digits, `.`, `_` and `-`, start with a letter or digit, and are at most 100 long. That
/// covers subdomains, host names and the loopback names the instance module derives.
pub fn validate_profile_name(name: &str) -> Result<(), StoreError> {
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let starts_well = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric());
    if starts_well && name.len() <= 100 && name.chars().all(ok_char) {
        Ok(())
    } else {
        Err(StoreError::Config(format!(
            "invalid profile name {name:?}: use 1 to 100 letters, digits, '.', '_' or '-', \
             starting with a letter or digit (for example `acme` or `acme-dev`)"
        )))
    }
}

/// The profile a command works with: `--profile` if given, else the one derived from the instance
/// (its subdomain, or its host for custom domains and loopback), else `None`.
pub fn profile_for(
    profile: Option<&str>,
    instance: Option<&crate::instance::Instance>,
) -> Result<Option<String>, StoreError> {
    if let Some(name) = profile {
        validate_profile_name(name)?;
        return Ok(Some(name.to_owned()));
    }
    let Some(instance) = instance else {
        return Ok(None);
    };
    // A derived name may start with a separator (`[::1]:8080` gives `--1-8080`); profile names
    // start with a letter or digit, so trim what the address itself cannot make meaningful.
    let derived = instance.profile_name();
    let name = derived.trim_start_matches(|c: char| !c.is_ascii_alphanumeric());
    validate_profile_name(name).map_err(|_| {
        StoreError::Config(format!(
            "cannot derive a profile name from {}; pass --profile NAME",
            instance.as_str()
        ))
    })?;
    Ok(Some(name.to_owned()))
}

/// The directory holding profiles and, only with `--insecure-storage`, the plain secrets file.
#[derive(Clone, Debug)]
pub struct ConfigDir {
    path: PathBuf,
}

impl ConfigDir {
    /// `SNCONNECT_CONFIG_DIR` if set, else the platform's config directory for snconnect
    /// (`~/.config/snconnect`, `~/Library/Application Support/snconnect`, `%APPDATA%\snconnect\config`).
    pub fn resolve() -> anyhow::Result<ConfigDir> {
        if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
            return Ok(ConfigDir::at(PathBuf::from(dir)));
        }
        let dirs = directories::ProjectDirs::from("", "", "snconnect").ok_or_else(|| {
            UserError::cannot_run(format!(
                "cannot find a home directory to keep snconnect's configuration in; set \
                 {CONFIG_DIR_ENV} to a directory"
            ))
        })?;
        Ok(ConfigDir::at(dirs.config_dir().to_path_buf()))
    }

    pub fn at(path: PathBuf) -> ConfigDir {
        ConfigDir { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn profiles_dir(&self) -> PathBuf {
        self.path.join("profiles")
    }

    pub fn profile_path(&self, name: &str) -> PathBuf {
        self.profiles_dir().join(format!("{name}.toml"))
    }

    /// Where `--insecure-storage` keeps secrets. Its name says what it is to anyone who finds it.
    pub fn plain_secrets_path(&self) -> PathBuf {
        self.path.join("insecure-secrets.toml")
    }

    pub fn load_profile(&self, name: &str) -> anyhow::Result<Option<Profile>> {
        validate_profile_name(name)?;
        let path = self.profile_path(name);
        let text = match crate::localfile::read_small_text(&path, crate::localfile::MAX_LOCAL_FILE)
        {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e).with_context(|| format!("could not read {}", path.display())),
        };
        let file: ProfileFile = toml::from_str(&text).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            detail: e.message().to_owned(),
        })?;
        Ok(Some(Profile {
            name: name.to_owned(),
            instance: file.instance,
            path: file.path,
            client_id: file.client_id,
            username: file.username,
            admin_user: file.admin_user,
            notify: file.notify,
        }))
    }

    pub fn save_profile(&self, p: &Profile) -> anyhow::Result<()> {
        validate_profile_name(&p.name)?;
        let file = ProfileFile {
            instance: p.instance.clone(),
            path: p.path,
            client_id: p.client_id.clone(),
            username: p.username.clone(),
            admin_user: p.admin_user.clone(),
            notify: p.notify.clone(),
        };
        let body = toml::to_string(&file).context("could not encode the profile as TOML")?;
        let text = format!(
            "# snconnect profile '{}'. No secrets here: they are in the OS keyring.\n{body}",
            p.name
        );
        write_private_atomically(&self.profile_path(&p.name), text.as_bytes())?;
        Ok(())
    }

    /// Removes the profile's file; `Ok(None)` when there was none.
    pub fn delete_profile(&self, name: &str) -> anyhow::Result<Option<PathBuf>> {
        validate_profile_name(name)?;
        let path = self.profile_path(name);
        match fs::remove_file(&path) {
            Ok(()) => Ok(Some(path)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("could not remove {}", path.display())),
        }
    }

    /// Names of the saved profiles, sorted.
    pub fn list_profiles(&self) -> anyhow::Result<Vec<String>> {
        let dir = self.profiles_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e).with_context(|| format!("could not list {}", dir.display())),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let stem = name.strip_suffix(".toml")?.to_owned();
                validate_profile_name(&stem).ok().map(|_| stem)
            })
            .collect();
        names.sort();
        Ok(names)
    }
}

/// The config directory as resolved for this process.
pub fn config_dir() -> anyhow::Result<ConfigDir> {
    ConfigDir::resolve()
}

pub fn load_profile(name: &str) -> anyhow::Result<Option<Profile>> {
    ConfigDir::resolve()?.load_profile(name)
}

pub fn save_profile(p: &Profile) -> anyhow::Result<()> {
    ConfigDir::resolve()?.save_profile(p)
}

pub fn list_profiles() -> anyhow::Result<Vec<String>> {
    ConfigDir::resolve()?.list_profiles()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_names_that_could_escape_or_break_keys_are_refused() {
        for good in [
            "acme",
            "acme-dev",
            "acme.service-now.com",
            "127.0.0.1-8765",
            "a_b",
        ] {
            assert!(validate_profile_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "../etc",
            "a/b",
            "a\\b",
            ".hidden",
            "-flag",
            "a:b",
            "a b",
            "é",
            &"x".repeat(101),
        ] {
            let err = validate_profile_name(bad).unwrap_err().to_string();
            assert!(err.contains("invalid profile name"), "{bad}: {err}");
        }
    }

    #[test]
    fn the_profile_comes_from_the_flag_else_from_the_instance() {
        use crate::instance::Instance;
        let acme = Instance::parse("acme").unwrap();
        assert_eq!(
            profile_for(Some("mine"), Some(&acme)).unwrap().as_deref(),
            Some("mine")
        );
        assert_eq!(
            profile_for(None, Some(&acme)).unwrap().as_deref(),
            Some("acme")
        );
        assert_eq!(profile_for(None, None).unwrap(), None);
        assert!(profile_for(Some("../x"), Some(&acme)).is_err());
        let custom = Instance::parse("https://servicenow.example.com").unwrap();
        assert_eq!(
            profile_for(None, Some(&custom)).unwrap().as_deref(),
            Some("servicenow.example.com")
        );
        let loopback = Instance::parse("http://127.0.0.1:8765").unwrap();
        let name = profile_for(None, Some(&loopback)).unwrap().unwrap();
        assert!(name.contains("8765"), "{name}");
        if let Ok(v6) = Instance::parse("http://[::1]:8080") {
            let name = profile_for(None, Some(&v6)).unwrap().unwrap();
            assert!(validate_profile_name(&name).is_ok(), "{name}");
        }
    }

    #[test]
    fn a_saved_profile_loads_back_and_lists() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().to_path_buf());
        assert_eq!(dir.load_profile("acme").unwrap(), None);
        let p = Profile {
            name: "acme".into(),
            instance: Some("https://acme.service-now.com".into()),
            path: Some(SetupPath::Admin),
            client_id: Some("abc123".into()),
            username: Some("incident.io".into()),
            admin_user: None,
            notify: None,
        };
        dir.save_profile(&p).unwrap();
        dir.save_profile(&Profile::new("beta")).unwrap();
        assert_eq!(dir.load_profile("acme").unwrap(), Some(p));
        assert_eq!(dir.list_profiles().unwrap(), vec!["acme", "beta"]);
        let text = fs::read_to_string(dir.profile_path("acme")).unwrap();
        assert!(text.contains("path = \"admin\""), "{text}");
        assert_eq!(
            dir.delete_profile("acme").unwrap(),
            Some(dir.profile_path("acme"))
        );
        assert_eq!(dir.delete_profile("acme").unwrap(), None);
        assert_eq!(dir.list_profiles().unwrap(), vec!["beta"]);
    }

    #[test]
    fn a_broken_profile_file_names_the_file() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().to_path_buf());
        fs::create_dir_all(dir.profiles_dir()).unwrap();
        fs::write(dir.profile_path("acme"), "path = 7\n").unwrap();
        let err = dir.load_profile("acme").unwrap_err().to_string();
        assert!(err.contains("acme.toml"), "{err}");
    }

    #[test]
    fn loading_refuses_a_path_like_name_before_touching_the_disk() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = ConfigDir::at(tmp.path().to_path_buf());
        assert!(dir.load_profile("../x").is_err());
        assert!(dir.save_profile(&Profile::new("../x")).is_err());
        assert!(!tmp.path().join("x.toml").exists());
    }
}
