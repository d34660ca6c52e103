//! When a failed request may be sent again, and how long to wait first.
//!
//! Only rate limits (429) and server errors (5xx) are retried: anything else would fail the same
//! way again, and a retried 401 is a second failed login towards the account's lockout. Creates
//! (POST) are retried on 429 only: a 5xx after a POST may come after the record was inserted
//! (the instance failed later, or a proxy timed out), and sending it again could create a
//! duplicate. A 429 is refused before any work is done, so it is safe to repeat.

use std::time::Duration;

use rand::Rng;

use super::error::ErrorKind;

/// The longest `Retry-After` honoured. A longer wait means the hourly quota is spent; failing
/// with the rate-limit message is more useful than hanging.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

/// The longest wait of the exponential schedule.
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RetryPolicy {
    /// Token requests: a login attempt is never repeated.
    Never,
    /// Creates: repeated only when the instance refused before doing anything.
    RateLimitOnly,
    /// Reads and updates: 429 and 5xx.
    Transient,
}

impl RetryPolicy {
    pub(crate) fn allows(self, kind: &ErrorKind) -> bool {
        match self {
            RetryPolicy::Never => false,
            RetryPolicy::RateLimitOnly => matches!(kind, ErrorKind::RateLimited { .. }),
            RetryPolicy::Transient => kind.is_transient(),
        }
    }
}

/// The wait before attempt `failed_attempt + 1`: the server's `Retry-After` when it sent one
/// (capped), else `base · 2^(failed_attempt-1)` scaled by a random factor in [0.5, 1] so that
/// concurrent requests do not retry in lockstep.
pub(crate) fn backoff(
    failed_attempt: u32,
    retry_after: Option<Duration>,
    base: Duration,
) -> Duration {
    let jitter = rand::rng().random_range(0.5..=1.0);
    backoff_with(failed_attempt, retry_after, base, jitter)
}

pub(crate) fn backoff_with(
    failed_attempt: u32,
    retry_after: Option<Duration>,
    base: Duration,
    jitter: f64,
) -> Duration {
    if let Some(wait) = retry_after {
        return wait.min(MAX_RETRY_AFTER);
    }
    let exp = failed_attempt.saturating_sub(1).min(16);
    let full = base.saturating_mul(1u32 << exp).min(MAX_BACKOFF);
    full.mul_f64(jitter.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_table() {
        let rl = ErrorKind::RateLimited { retry_after: None };
        let s5 = ErrorKind::Server { status: 503 };
        let others = [
            ErrorKind::Unauthorized {
                mfa_required: false,
            },
            ErrorKind::Forbidden(crate::servicenow::ForbiddenKind::Other),
            ErrorKind::NotFound,
            ErrorKind::BadRequest { status: 400 },
            ErrorKind::InvalidTable,
            ErrorKind::Hibernating,
            ErrorKind::TokenDenied {
                error: "server_error".into(),
                description: "access_denied".into(),
            },
            ErrorKind::Timeout,
            ErrorKind::Connect,
        ];
        assert!(RetryPolicy::Transient.allows(&rl));
        assert!(RetryPolicy::Transient.allows(&s5));
        assert!(RetryPolicy::RateLimitOnly.allows(&rl));
        assert!(!RetryPolicy::RateLimitOnly.allows(&s5));
        assert!(!RetryPolicy::Never.allows(&rl));
        assert!(!RetryPolicy::Never.allows(&s5));
        for k in &others {
            for p in [
                RetryPolicy::Never,
                RetryPolicy::RateLimitOnly,
                RetryPolicy::Transient,
            ] {
                assert!(!p.allows(k), "{p:?} must not retry {k:?}");
            }
        }
    }

    #[test]
    fn retry_after_is_honoured_and_capped() {
        let base = Duration::from_millis(200);
        assert_eq!(
            backoff_with(1, Some(Duration::from_secs(1)), base, 0.5),
            Duration::from_secs(1)
        );
        assert_eq!(
            backoff_with(1, Some(Duration::from_secs(3600)), base, 1.0),
            MAX_RETRY_AFTER
        );
        assert_eq!(
            backoff_with(1, Some(Duration::ZERO), base, 1.0),
            Duration::ZERO
        );
    }

    #[test]
    fn exponential_with_jitter_and_cap() {
        let base = Duration::from_millis(200);
        assert_eq!(backoff_with(1, None, base, 1.0), Duration::from_millis(200));
        assert_eq!(backoff_with(2, None, base, 1.0), Duration::from_millis(400));
        assert_eq!(backoff_with(3, None, base, 1.0), Duration::from_millis(800));
        assert_eq!(backoff_with(3, None, base, 0.5), Duration::from_millis(400));
        assert_eq!(backoff_with(40, None, base, 1.0), MAX_BACKOFF);
        for attempt in 1..6 {
            let d = backoff(attempt, None, base);
            let full = base.saturating_mul(1 << (attempt - 1)).min(MAX_BACKOFF);
            assert!(d >= full / 2 && d <= full, "attempt {attempt}: {d:?}");
        }
    }
}
