//! Regions and edges, by the rule Twilio's official SDKs apply to their hosts.

/// Applies `region` and `edge` to `host` the way twilio-python, -node and -go do: the first
/// label is the product, the last two the domain; a 4-label host carries a region in its second
/// label, a 5-label host an edge and then a region; configured values win over the host's, and an
/// edge without any region means `us1`.
///
/// ```
/// use balance_api::regional_host;
///
/// assert_eq!(regional_host("api.twilio.com", Some("au1"), Some("sydney")), "api.sydney.au1.twilio.com");
/// assert_eq!(regional_host("api.twilio.com", None, Some("dublin")), "api.dublin.us1.twilio.com");
/// assert_eq!(regional_host("api.twilio.com", Some("ie1"), None), "api.ie1.twilio.com");
/// assert_eq!(regional_host("api.twilio.com", None, None), "api.twilio.com");
/// ```
pub fn regional_host(host: &str, region: Option<&str>, edge: Option<&str>) -> String {
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
