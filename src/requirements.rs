//! What incident.io needs from a ServiceNow instance, as data, in one place.
