//! End-to-end tests of the `diala-edge` binary; the tests live in `tests/`.
