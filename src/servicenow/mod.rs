//! A ServiceNow REST client that knows nothing about incident.io.
//!
//! - [`Client`] holds one connection pool for an instance; [`Session`] sends requests as one
//!   identity ([`Auth`]). Both are cheap to clone and safe to share across tasks.
//! - The Table API: [`Session::list`], [`Session::list_all`], [`Session::get`],
//!   [`Session::create`], [`Session::update`], with [`ListRequest`] and the [`Query`] builder.
//! - The token endpoint: [`Client::password_grant`] and [`Client::refresh_grant`], sent once.
//! - Records decode with serde derives through the [`fields`] decoders and [`Record::decode`].
//! - Every failure is an [`SnError`] with a typed [`ErrorKind`] and a message for users.
//! - Retries (429 and 5xx only, bounded, honouring `Retry-After`) and the `-v` log live in one
//!   place, so every request gets the same policy and the same redaction.

mod auth;
mod client;
mod dial;
mod error;
pub mod fields;
mod log;
mod query;
mod retry;
mod table;
mod token;

pub use auth::Auth;
pub use client::{Client, ClientOptions, RequestStats, Session};
pub use error::{ErrorKind, ForbiddenKind, RequestTarget, SnError};
pub use log::{
    is_sensitive_key, redact_encoded_query, redact_json, redact_params, LogSink, REDACTED,
};
pub use query::{escape_value, Query};
pub use retry::{MAX_BACKOFF, MAX_RETRY_AFTER};
pub use table::{link_next, offset_of, DisplayValue, ListRequest, Page, Record, WriteOptions};
pub use token::TokenResponse;
