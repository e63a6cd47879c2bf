//! Property tests over the parsers that meet untrusted input.

use balance_api::{AccountSid, Balance, Decimal, DecodeError, parse_retry_after};
use proptest::prelude::*;
use std::time::{Duration, SystemTime};

fn is_valid_sid(s: &str) -> bool {
    s.len() == 34 && s.starts_with("AC") && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

proptest! {
    #[test]
    fn every_valid_sid_is_accepted(hex in "[0-9a-fA-F]{32}") {
        let text = format!("AC{hex}");
        let sid: AccountSid = text.parse().expect("valid");
        prop_assert_eq!(sid.as_str(), text.as_str());
    }

    #[test]
    fn anything_else_is_refused(s in "\\PC{0,40}|AC[0-9a-fA-Fg-z]{30,34}|[A-Z]{2}[0-9a-f]{32}") {
        prop_assert_eq!(s.parse::<AccountSid>().is_ok(), is_valid_sid(&s), "{:?}", s);
    }

    #[test]
    fn arbitrary_balance_strings_never_panic(text in "\\PC{0,60}") {
        let body = serde_json::json!({"balance": text, "currency": "USD"}).to_string();
        match Balance::from_json(body.as_bytes()) {
            Ok(b) => prop_assert!(b.amount().is_some()),
            Err(DecodeError::Balance { raw } | DecodeError::BalanceOutOfRange { raw }) => prop_assert_eq!(raw, text),
            Err(other) => prop_assert!(false, "unexpected {other}"),
        }
    }

    #[test]
    fn arbitrary_json_values_never_panic(value in json_value()) {
        let _ = Balance::from_json(value.to_string().as_bytes());
        let body = serde_json::json!({"account_sid": value.clone(), "balance": value.clone(), "currency": value});
        let _ = Balance::from_json(body.to_string().as_bytes());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = Balance::from_json(&bytes);
    }

    #[test]
    fn decimal_strings_round_trip_exactly(mantissa in any::<i64>(), scale in 0u32..=18) {
        let text = Decimal::new(mantissa, scale).to_string();
        let body = format!(r#"{{"balance":"{text}","currency":"USD"}}"#);
        let balance = Balance::from_json(body.as_bytes()).expect("decodes");
        prop_assert_eq!(balance.amount().map(|d| d.to_string()), Some(text));
    }

    #[test]
    fn retry_after_seconds_parse_exactly(secs in any::<u64>()) {
        let now = SystemTime::now();
        prop_assert_eq!(parse_retry_after(&secs.to_string(), now), Some(Duration::from_secs(secs)));
    }

    #[test]
    fn retry_after_dates_parse_to_the_remaining_wait(ahead in 0u64..100_000, base in 946_684_800u64..4_000_000_000) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(base);
        let date = httpdate::fmt_http_date(now + Duration::from_secs(ahead));
        prop_assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(ahead)));
        // A date already past means "retry now".
        prop_assert_eq!(parse_retry_after(&date, now + Duration::from_secs(ahead + 5)), Some(Duration::ZERO));
    }

    #[test]
    fn arbitrary_retry_after_text_never_panics(text in "\\PC{0,40}") {
        let _ = parse_retry_after(&text, SystemTime::now());
    }
}

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "\\PC{0,20}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            proptest::collection::btree_map("[a-z_]{1,8}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
