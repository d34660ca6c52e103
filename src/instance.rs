//! Instance addresses: what the user types (subdomain, host, URL) normalised to `https://host`.
