//! Shared domain types of the functions (filled in by the functions work).
