//! Docker implementation of the runtime (bollard).
