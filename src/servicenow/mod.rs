//! A ServiceNow REST client that knows nothing about incident.io.
