//! The command line's part of an error's advice. The HTTP client says what happened on the wire
//! and what to check in words of the instance; only this layer knows which flag or variable
//! changes the outcome, so only it names them.

use crate::servicenow::{ErrorKind, SnError};

/// The flag or variable that addresses `error`, as one sentence; `None` when no input helps.
pub fn for_error(error: &SnError) -> Option<&'static str> {
    Some(match &error.kind {
        ErrorKind::Timeout => "allow longer with --timeout DURATION (e.g. 60s)",
        ErrorKind::DeadlinePassed { .. } => "allow the whole run longer with --deadline DURATION (e.g. 5m)",
        ErrorKind::Tls => "if a proxy inspects TLS traffic, pass its root certificate with --ca-cert PATH",
        ErrorKind::CaCert { .. } => "pass a readable PEM file to --ca-cert",
        ErrorKind::Connect | ErrorKind::Proxy | ErrorKind::ClientSetup => {
            "the proxy comes from HTTPS_PROXY (or ALL_PROXY), and NO_PROXY lists the hosts that bypass it"
        }
        ErrorKind::LoginPage | ErrorKind::Unauthorized { mfa_required: true } => {
            "an SSO or MFA admin can set SNCONNECT_ADMIN_TOKEN to an OAuth bearer token instead of a password"
        }
        ErrorKind::BadRequest { .. }
        | ErrorKind::UnexpectedStatus { .. }
        | ErrorKind::ConnectionLost
        | ErrorKind::MalformedJson => "add -v to see each request and its answer",
        _ => return None,
    })
}

/// The hint for the first client error in an error's chain (directly, or as a [`UserError`]'s
/// cause), for `main` to print under the error.
///
/// [`UserError`]: crate::exit::UserError
pub fn for_chain(error: &anyhow::Error) -> Option<&'static str> {
    error.chain().find_map(|cause| {
        cause
            .downcast_ref::<SnError>()
            .or_else(|| {
                cause
                    .downcast_ref::<crate::exit::UserError>()
                    .and_then(|u| u.cause.as_deref())
            })
            .and_then(for_error)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::servicenow::RequestTarget;

    #[test]
    fn the_inputs_that_change_the_outcome_are_named_here_and_only_here() {
        let cases = [
            (ErrorKind::Timeout, "--timeout"),
            (
                ErrorKind::DeadlinePassed {
                    limit: std::time::Duration::from_secs(9),
                },
                "--deadline",
            ),
            (ErrorKind::Tls, "--ca-cert"),
            (ErrorKind::Proxy, "HTTPS_PROXY"),
            (
                ErrorKind::Unauthorized { mfa_required: true },
                "SNCONNECT_ADMIN_TOKEN",
            ),
            (ErrorKind::MalformedJson, "-v"),
        ];
        for (kind, named) in cases {
            let e = SnError::new(kind.clone(), RequestTarget::default());
            assert!(for_error(&e).is_some_and(|h| h.contains(named)), "{kind:?}");
            let sentence = e.to_string();
            assert!(
                !sentence.contains(named) && !sentence.contains("SNCONNECT_"),
                "the client's sentence names an input: {sentence}"
            );
        }
        let plain = SnError::new(ErrorKind::NotFound, RequestTarget::default());
        assert_eq!(for_error(&plain), None);
    }
}
