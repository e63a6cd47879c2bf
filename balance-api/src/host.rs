//! Regions and edges, by the rule Twilio's official SDKs apply to their hosts.

/// Applies `region` and `edge` to `host` the way twilio-python, -node and -go do: the first
/// label is the product, the last two the domain; a 4-label host carries a region in its second
/// label, a 5-label host an edge and then a region; configured values win over the host's, and an
/// edge without any region means `us1`.
///
pub(crate) fn regional_host(host: &str, region: Option<&str>, edge: Option<&str>) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    let n = labels.len();
    let product = labels.first().copied().unwrap_or_default();
    let domain = if n >= 2 {
        labels[n - 2..].join(".")
    } else {
        String::new()
    };
    let (host_edge, host_region) = match n {
        4 => (None, Some(labels[1])),
        5 => (Some(labels[1]), Some(labels[2])),
        _ => (None, None),
    };
    let edge = edge.or(host_edge);
    let region = region.or(host_region).or(edge.map(|_| "us1"));
    [Some(product), edge, region, Some(domain.as_str())]
        .into_iter()
        .flatten()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::regional_host;

    #[test]
    fn the_sdk_rule_reads_region_and_edge_from_the_host() {
        // 4 labels: the second is a region; 5 labels: edge then region.
        for (host, region, edge, expected) in [
            (
                "api.twilio.com",
                Some("au1"),
                Some("sydney"),
                "api.sydney.au1.twilio.com",
            ),
            (
                "api.twilio.com",
                None,
                Some("dublin"),
                "api.dublin.us1.twilio.com",
            ),
            ("api.twilio.com", Some("ie1"), None, "api.ie1.twilio.com"),
            ("api.twilio.com", None, None, "api.twilio.com"),
            ("api.ie1.twilio.com", None, None, "api.ie1.twilio.com"),
            (
                "api.ie1.twilio.com",
                None,
                Some("dublin"),
                "api.dublin.ie1.twilio.com",
            ),
            (
                "api.ie1.twilio.com",
                Some("au1"),
                None,
                "api.au1.twilio.com",
            ),
            (
                "api.sydney.au1.twilio.com",
                None,
                None,
                "api.sydney.au1.twilio.com",
            ),
            (
                "api.sydney.au1.twilio.com",
                Some("jp1"),
                None,
                "api.sydney.jp1.twilio.com",
            ),
            (
                "api.sydney.au1.twilio.com",
                None,
                Some("tokyo"),
                "api.tokyo.au1.twilio.com",
            ),
        ] {
            assert_eq!(
                regional_host(host, region, edge),
                expected,
                "{host} {region:?} {edge:?}"
            );
        }
    }
}
