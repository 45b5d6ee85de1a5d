//! Posting to the URLs a business names (its bot backend, its `eventsUrl`, a send's
//! `statusCallbackUrl`): only public addresses are reached, so that whoever may set such a URL
//! cannot make the platform call into its own network (the Lambda runtime API on 127.0.0.1, a
//! VPC's hosts, link-local metadata addresses). A name is checked on each of its resolved
//! addresses, so a name that resolves to a private one is refused too. The local stack and the
//! tests, whose bots listen on 127.0.0.1, allow private addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::{RequestBuilder, Url};

/// Which addresses a business's URL may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Deployed: public internet addresses only.
    PublicOnly,
    /// The local stack and tests: loopback and private networks too.
    PrivateToo,
}

/// The HTTP client for a business's URLs.
#[derive(Debug, Clone)]
pub struct BusinessHttp {
    client: reqwest::Client,
    reach: Reach,
}

/// A URL the platform does not post to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(String);

impl BusinessHttp {
    pub fn new(reach: Reach) -> Self {
        let mut builder = crate::http_clients::http_client_builder();
        if reach == Reach::PublicOnly {
            builder = builder.dns_resolver(Arc::new(PublicAddresses));
        }
        let client = builder
            .build()
            .expect("a reqwest client with a resolver always builds");
        Self { client, reach }
    }

    /// A POST to `url`, or why the platform does not send one there.
    pub fn post(&self, url: &str) -> Result<RequestBuilder, Refused> {
        let parsed = Url::parse(url).map_err(|_| Refused(format!("{url:?} is not a URL")))?;
        if self.reach == Reach::PublicOnly {
            let host = parsed.host_str().unwrap_or_default();
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            let private = match literal.parse::<IpAddr>() {
                Ok(ip) => !is_public(ip),
                Err(_) => {
                    let name = host.trim_end_matches('.').to_ascii_lowercase();
                    name.is_empty() || name == "localhost" || name.ends_with(".localhost")
                }
            };
            if private {
                return Err(Refused(not_public(parsed.host_str().unwrap_or(url))));
            }
        }
        Ok(self.client.post(parsed))
    }
}

fn not_public(host: &str) -> String {
    format!(
        "{host} is not a public internet address; the platform posts only to public addresses \
         (name an https URL your bot or system serves on the internet)"
    )
}

/// Resolves a name to its public addresses only; one with none is refused.
struct PublicAddresses;

impl Resolve for PublicAddresses {
    fn resolve(&self, name: Name) -> Resolving {
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let resolved = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = resolved.filter(|a| is_public(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(Refused(not_public(&host))) as _);
            }
            Ok(Box::new(public.into_iter()) as Addrs)
        })
    }
}

/// Whether `ip` is an internet address: not loopback, private, link-local, shared (carrier
/// NAT), unspecified, multicast, reserved, or an IPv6 form of one of those.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => {
            if let Some(v4) = ip.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let first = ip.segments()[0];
            !(ip.is_loopback()
                || ip.is_unspecified()
                || ip.is_multicast()
                || (first & 0xfe00) == 0xfc00 // unique local
                || (first & 0xffc0) == 0xfe80 // link-local
                || is_nat64_of_private(ip))
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier NAT)
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || a >= 240) // reserved
}

/// `64:ff9b::/96` (NAT64) embedding a non-public IPv4 address.
fn is_nat64_of_private(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if s[..6] != [0x64, 0xff9b, 0, 0, 0, 0] {
        return false;
    }
    let v4 = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    !is_public_v4(v4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_internet_addresses_are_public() {
        for public in ["8.8.8.8", "52.95.110.1", "2606:4700::1111", "100.128.0.1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
    }

    #[tokio::test]
    async fn deployed_a_private_or_local_url_is_refused_before_any_request() {
        let http = BusinessHttp::new(Reach::PublicOnly);
        for url in [
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
            "http://[::1]/x",
            "http://169.254.169.254/latest/meta-data",
            "http://localhost:8080/hook",
            "http://api.localhost/hook",
            "http://10.0.0.7/internal",
        ] {
            let refused = http.post(url).unwrap_err();
            assert!(
                refused
                    .to_string()
                    .contains("not a public internet address"),
                "{url}: {refused}"
            );
        }
        assert!(http.post("https://bot.example.com/hook").is_ok());
        assert!(
            BusinessHttp::new(Reach::PrivateToo)
                .post("http://127.0.0.1:9/x")
                .is_ok()
        );
    }

    #[tokio::test]
    async fn deployed_a_name_that_resolves_to_a_private_address_only_is_not_reached() {
        let resolved = PublicAddresses.resolve("localhost".parse().unwrap()).await;
        let refused = resolved.err().expect("localhost has no public address");
        assert!(
            refused
                .to_string()
                .contains("not a public internet address"),
            "{refused}"
        );
    }
}
