"""Writes the seed corpus of the `audit_verify` fuzz target into
fuzz/seeds/audit_verify/ (run from anywhere; replayed by fuzz_seeds.rs).

Names: ok_event_* must parse as an event, bad_event_* must not (nor as a
checkpoint); ok_checkpoint_* must parse as a checkpoint, bad_checkpoint_*
must not; tamper_* are op sequences for the tampering check (3 bytes per
op: op % 6 = delete, swap, duplicate, edit, rewrite, truncate; i; j).
"""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "..", "fuzz", "seeds", "audit_verify")

H = "c91acb3ae987e1471f039731e1d85fca5f2c012a26f327569506e6e84820d72d"
GOOD = ('{"v":1,"seq":1,"time_unix_ms":1795000000000,"node":"gw-1","actor":"user:alice",'
        '"action":"model.invoke","resource":"route:chat","outcome":"success",'
        '"client_ip":"203.0.113.7","request_id":"req-1",'
        '"details":{"status":"200","user.email":{"hmac_sha256":"' + H + '"}}}')
MIN = ('{"v":1,"seq":2,"time_unix_ms":-1,"node":"gw-1","actor":"","action":"login",'
       '"resource":"user:bob","outcome":"denied","details":{}}')
CP = ('{"v":1,"seq":2,"hash":"b50ff3381897824bf18f903b287f94d69bb1438affdb9529a21ee4a1c1ace3b9",'
      '"time_unix_ms":1795000001000,"node":"gw-1","key_id":"fe812c12f3ab4ce6",'
      '"signature":"438754c4fd737a0268a9d825598623a4e496c05daf2c1c4764fb707019330eb322df6b75'
      '46f3cecca4a2a21fa6f1208e98ef71cb7a94056738757db333660e04"}')

seeds = {
    "ok_event_full.json": GOOD,
    "ok_event_minimal.json": MIN,
    "ok_event_null_optionals.json": MIN.replace('"details"', '"client_ip":null,"request_id":null,"details"'),
    "ok_event_unicode.json": MIN.replace('"actor":""', '"actor":"user:\\u00e9l\\u00e8ve \\ud83d\\ude00"'),
    "ok_event_max_seq.json": MIN.replace('"seq":2', '"seq":18446744073709551615'),
    "bad_event_unknown_member.json": GOOD.replace('"details"', '"extra":1,"details"'),
    "bad_event_version_2.json": GOOD.replace('"v":1', '"v":2'),
    "bad_event_missing_version.json": GOOD.replace('"v":1,', ''),
    "bad_event_missing_details.json": MIN.replace(',"details":{}', ''),
    "bad_event_duplicate_member.json": MIN.replace('"node":"gw-1"', '"node":"gw-1","node":"gw-2"'),
    "bad_event_duplicate_detail.json": MIN.replace('{}', '{"a":"1","a":"2"}'),
    "bad_event_uppercase_hex.json": GOOD.replace(H, H.upper()),
    "bad_event_short_hex.json": GOOD.replace(H, H[:-2]),
    "bad_event_non_hex.json": GOOD.replace(H, "g" + H[1:]),
    "bad_event_hmac_extra_member.json": GOOD.replace('"' + H + '"}', '"' + H + '","x":1}'),
    "bad_event_hmac_other_name.json": GOOD.replace("hmac_sha256", "sha256"),
    "bad_event_detail_empty_object.json": MIN.replace('{}', '{"a":{}}'),
    "bad_event_detail_number.json": MIN.replace('{}', '{"a":200}'),
    "bad_event_detail_null.json": MIN.replace('{}', '{"a":null}'),
    "bad_event_detail_nested.json": MIN.replace('{}', '{"a":["x"]}'),
    "bad_event_outcome_unknown.json": MIN.replace('"denied"', '"ok"'),
    "bad_event_outcome_uppercase.json": MIN.replace('"denied"', '"Denied"'),
    "bad_event_seq_negative.json": MIN.replace('"seq":2', '"seq":-2'),
    "bad_event_seq_float.json": MIN.replace('"seq":2', '"seq":2.0'),
    "bad_event_seq_overflow.json": MIN.replace('"seq":2', '"seq":18446744073709551616'),
    "bad_event_seq_string.json": MIN.replace('"seq":2', '"seq":"2"'),
    "bad_event_time_overflow.json": MIN.replace('"time_unix_ms":-1', '"time_unix_ms":9223372036854775808'),
    "bad_event_trailing_garbage.json": MIN + " x",
    "bad_event_truncated.json": GOOD[:-5],
    "bad_event_array.json": "[" + MIN + "]",
    "bad_event_not_json": "seq=1 actor=alice",
    "bad_event_empty": "",
    "bad_event_deep.json": "[" * 200 + "]" * 200,
    "bad_event_deep_detail.json": MIN.replace('{}', '{"a":' + '{"b":' * 150 + '""' + '}' * 150 + '}'),
    "ok_checkpoint.json": CP,
    "bad_checkpoint_version_2.json": CP.replace('"v":1', '"v":2'),
    "bad_checkpoint_unknown_member.json": CP.replace('"seq":2', '"seq":2,"x":0'),
    "bad_checkpoint_short_signature.json": CP.replace('0e04"', '0e"'),
    "bad_checkpoint_uppercase_hash.json": CP.replace('b50ff338', 'B50FF338'),
    "bad_checkpoint_missing_key_id.json": CP.replace('"key_id":"fe812c12f3ab4ce6",', ''),
}
tamper = {
    "tamper_delete_3": bytes([0, 3, 0]),
    "tamper_swap_3_4": bytes([1, 3, 4]),
    "tamper_duplicate_3_at_4": bytes([2, 3, 4]),
    "tamper_edit_7": bytes([3, 7, 0]),
    "tamper_rewrite_from_7": bytes([4, 7, 0]),
    "tamper_rewrite_after_last_checkpoint": bytes([4, 22, 0]),
    "tamper_truncate_12": bytes([5, 12, 0]),
    "tamper_truncate_22": bytes([5, 22, 0]),
    "tamper_swap_last_two": bytes([1, 22, 23]),
    "tamper_delete_then_duplicate": bytes([0, 5, 0, 2, 9, 5]),
}
os.makedirs(OUT, exist_ok=True)
for name, text in seeds.items():
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as f:
        f.write(text)
for name, data in tamper.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
print(len(seeds) + len(tamper), "seeds in", os.path.normpath(OUT))
