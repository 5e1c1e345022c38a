//! Fuzzes the decoding of request bodies in every content encoding; the
//! properties are [`sentry_fuzz::decompression`]'s.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| sentry_fuzz::decompression(data));
