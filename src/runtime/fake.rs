//! Scripted runtime for tests.
