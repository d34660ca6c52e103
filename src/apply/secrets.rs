//! Strong secrets for what `apply` creates when the user supplied none: the OAuth client secret
//! and the service user's password.
//!
//! Bytes come straight from the operating system's random source (`OsRng`), not from a
//! user-space generator, so there is no seed to get wrong. Characters are chosen by rejection
//! sampling: a byte is kept only when it falls below the largest multiple of the alphabet's size,
//! so every character is equally likely. Values only ever live in a [`SecretString`].

use rand::rngs::OsRng;
use rand::TryRngCore;
use secrecy::SecretString;

use crate::credentials::SecretKind;

const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
/// Symbols that survive shells, form encoding, JSON and ServiceNow's encoded queries without
/// quoting: no quotes, backslash, `$`, `&`, `^` or whitespace.
const SYMBOLS: &str = "-_.!*+=@#%";

/// Length of a generated client secret: 40 alphanumerics are about 238 bits.
pub const CLIENT_SECRET_LEN: usize = 40;
/// Length of a generated password: 32 characters from 72 are about 197 bits.
pub const PASSWORD_LEN: usize = 32;

/// The OS random source failed; nothing was generated.
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed ({0}); no secret was generated")]
pub struct RandomError(String);

/// A string of `len` characters drawn uniformly from `alphabet` (ASCII, not empty).
fn draw(alphabet: &[u8], len: usize) -> Result<String, RandomError> {
    debug_assert!(!alphabet.is_empty() && alphabet.len() <= 128 && alphabet.is_ascii());
    let n = alphabet.len();
    // Bytes at or above this bound would favour the first characters; they are thrown away.
    let bound = 256 - (256 % n);
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        OsRng
            .try_fill_bytes(&mut buf)
            .map_err(|e| RandomError(e.to_string()))?;
        for &b in &buf {
            if (b as usize) < bound && out.len() < len {
                out.push(alphabet[b as usize % n] as char);
            }
        }
    }
    Ok(out)
}

/// A client secret: letters and digits only, as ServiceNow's own generated secrets are.
pub fn client_secret() -> Result<SecretString, RandomError> {
    let alphabet = format!("{LOWER}{UPPER}{DIGITS}");
    draw(alphabet.as_bytes(), CLIENT_SECRET_LEN).map(SecretString::from)
}

/// A password that meets common ServiceNow password policies: it holds at least one lower-case
/// letter, one upper-case letter, one digit and one symbol.
///
/// Drawing again until every class is present keeps the characters uniform (forcing one of each
/// into fixed positions would not); at this length a redraw is needed about once in 20 calls.
pub fn password() -> Result<SecretString, RandomError> {
    let alphabet = format!("{LOWER}{UPPER}{DIGITS}{SYMBOLS}");
    loop {
        let candidate = draw(alphabet.as_bytes(), PASSWORD_LEN)?;
        if meets_policy(&candidate) {
            return Ok(SecretString::from(candidate));
        }
    }
}

fn meets_policy(s: &str) -> bool {
    [LOWER, UPPER, DIGITS, SYMBOLS]
        .iter()
        .all(|class| s.chars().any(|c| class.contains(c)))
}

/// The secrets `plan` sends: the `supplied` ones, plus a fresh one for each secret the plan needs
/// that nobody supplied, returned apart as well so the caller stores them before the first write.
/// The one place apply and the wizard make secrets.
pub fn fill(
    plan: &super::Plan,
    supplied: super::Secrets,
) -> Result<(super::Secrets, Vec<(SecretKind, SecretString)>), RandomError> {
    let mut secrets = supplied;
    let mut generated = Vec::new();
    for kind in plan.to_generate() {
        let (slot, value) = match kind {
            SecretKind::ClientSecret => (&mut secrets.client_secret, client_secret()?),
            SecretKind::Password => (&mut secrets.password, password()?),
            // Never planned: apply does not set the admin's password, and the notify token is
            // incident.io's, not the instance's.
            SecretKind::AdminPassword | SecretKind::NotifyToken => continue,
        };
        *slot = Some(value.clone());
        generated.push((kind, value));
    }
    Ok((secrets, generated))
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn client_secrets_are_long_alphanumeric_and_different_each_time() {
        let mut seen = HashSet::new();
        for _ in 0..50 {
            let s = client_secret().unwrap();
            let s = s.expose_secret();
            assert_eq!(s.len(), CLIENT_SECRET_LEN);
            assert!(s.chars().all(|c| c.is_ascii_alphanumeric()), "{s}");
            assert!(seen.insert(s.to_string()), "a secret repeated");
        }
    }

    #[test]
    fn passwords_hold_every_character_class_and_only_safe_symbols() {
        for _ in 0..200 {
            let p = password().unwrap();
            let p = p.expose_secret();
            assert_eq!(p.len(), PASSWORD_LEN);
            assert!(meets_policy(p), "{p}");
            assert!(
                p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || SYMBOLS.contains(c)),
                "{p}"
            );
        }
    }

    #[test]
    fn the_policy_rejects_a_missing_class() {
        assert!(meets_policy("aA1-"));
        assert!(!meets_policy("aA1b"));
        assert!(!meets_policy("aa1-"));
        assert!(!meets_policy("AA1-"));
        assert!(!meets_policy("aAb-"));
    }

    /// A coarse uniformity check: over 64,000 draws from 10 symbols, every symbol's count stays
    /// within 10% of the mean (the chance of a fair draw failing is far below one in a million).
    #[test]
    fn draws_are_spread_over_the_alphabet() {
        let s = draw(b"0123456789", 64_000).unwrap();
        let mut counts: HashMap<char, usize> = HashMap::new();
        for c in s.chars() {
            *counts.entry(c).or_default() += 1;
        }
        assert_eq!(counts.len(), 10);
        for (c, n) in counts {
            assert!((5_760..=7_040).contains(&n), "{c} drawn {n} times");
        }
    }

    #[test]
    fn a_one_symbol_alphabet_always_draws_that_symbol() {
        assert_eq!(draw(b"x", 5).unwrap(), "xxxxx");
        assert_eq!(draw(b"ab", 0).unwrap(), "");
    }
}
