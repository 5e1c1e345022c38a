//! Examples live beside this crate manifest; this crate has no library code.
