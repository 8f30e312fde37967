//! `privacy::json::for_each_content_string` and `is_valid_pointer`, and
//! `amanah_pii::restore`'s `restore`, `placeholder_spans` and
//! `StreamRestorer`, on arbitrary bytes.
//!
//! Asserts (see `amanah_gateway::privacy::fuzz_checks::check_json_traversal`):
//! never panics; placeholder spans are sorted, disjoint, in bounds and on
//! character boundaries; restoring in pieces equals restoring whole; a JSON
//! value's content strings are each visited at most once (with no pointers
//! and with pointers derived from the value) and the uppercased value still
//! serializes and parses back.
#![no_main]

use amanah_gateway::privacy::fuzz_checks::check_json_traversal;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| check_json_traversal(data));
