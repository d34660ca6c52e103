//! The simulated ServiceNow instance served by `snconnect sandbox` and used by the tests.
