//! Renderers for a verify run: human, JSON (the contract's shape) and JUnit XML.
