//! Property tests over the parsers that meet untrusted input.

use balance_api::{AccountSid, Balance, Decimal};
use proptest::prelude::*;

/// Twilio's form: optional '-', digits, optionally '.' and digits (an independent statement of
/// the rule, for checking the parser against).
fn is_plain_decimal(s: &str) -> bool {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let mut parts = unsigned.splitn(2, '.');
    let digits =
        |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let whole = parts.next();
    digits(whole) && parts.next().is_none_or(|f| digits(Some(f)))
}

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
    fn arbitrary_balance_strings_never_panic(text in "\\PC{0,60}|-?[0-9_+.e]{0,40}") {
        let plain = is_plain_decimal(&text);
        match Balance::parse_amount(&text) {
            Ok(_) => prop_assert!(plain, "accepted {:?}", text),
            Err(e) if plain => prop_assert!(e.to_string().ends_with("is out of the exact decimal range"), "{}", e),
            Err(e) => prop_assert!(e.to_string().ends_with("is not a decimal number"), "{}", e),
        }
        let body = serde_json::json!({"balance": text, "currency": "USD"}).to_string();
        prop_assert_eq!(serde_json::from_str::<Balance>(&body).is_ok(), Balance::parse_amount(&text).is_ok());
    }

    #[test]
    fn arbitrary_json_values_never_panic(value in json_value()) {
        let _ = serde_json::from_str::<Balance>(&value.to_string());
        let body = serde_json::json!({"account_sid": value.clone(), "balance": value.clone(), "currency": value});
        let _ = serde_json::from_str::<Balance>(&body.to_string());
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = serde_json::from_slice::<Balance>(&bytes);
    }

    #[test]
    fn decimal_strings_round_trip_exactly(mantissa in any::<i64>(), scale in 0u32..=18) {
        let text = Decimal::new(mantissa, scale).to_string();
        let body = format!(r#"{{"balance":"{text}","currency":"USD"}}"#);
        let balance: Balance = serde_json::from_str(&body).expect("decodes");
        prop_assert_eq!(balance.amount().map(|d| d.to_string()), Some(text.clone()));
        // And back out as the same exact string, never a float.
        prop_assert_eq!(&serde_json::to_value(&balance).expect("serializes")["balance"], &serde_json::Value::String(text));
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
