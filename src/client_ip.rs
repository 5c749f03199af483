//! Client IP resolution through a trusted-proxy list.
//!
//! The client address of a request is the socket peer, unless the peer is a configured trusted
//! proxy. Only then is the forwarding header (`X-Forwarded-For` or RFC 7239 `Forwarded`) read, and
//! only from the right: each trusted proxy appends the address it saw, so the right-most address
//! that is not a trusted proxy is the first one nobody we trust could have forged. Everything to
//! the left of it is client-controlled and ignored.
//!
//! actix-web's own "real IP" helper on `ConnectionInfo` takes the left-most header value from any
//! peer, so a client can claim any address. It is never used here.

use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    str::FromStr,
};

use actix_web::{http::header::HeaderMap, HttpRequest};
use ipnet::IpNet;

/// Which forwarding header a trusted proxy writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (default).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=client;proto=https, for=proxy1`.
    Forwarded,
}

impl ForwardedHeader {
    /// The lowercase header name.
    pub fn header_name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }
}

/// Most header bytes examined when walking a forwarding header (from the right).
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// Most header entries examined when walking a forwarding header (from the right).
pub const MAX_HEADER_ENTRIES: usize = 64;

/// A trusted-proxy entry that is neither an IP address nor a CIDR network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid trusted proxy {input:?}: expected an IP address (10.0.0.1, 2001:db8::1) \
     or a CIDR network (10.0.0.0/8, 2001:db8::/32) with a prefix length of at most 32 for IPv4 \
     and 128 for IPv6"
)]
pub struct InvalidProxy {
    input: String,
}

impl InvalidProxy {
    /// The rejected entry, as given.
    pub fn input(&self) -> &str {
        &self.input
    }
}

/// The networks whose peers may set the forwarding header.
///
/// IPv4-mapped IPv6 networks (`::ffff:10.0.0.0/104`) are stored as their IPv4 equivalent, and
/// host bits are cleared (`10.1.2.3/8` means `10.0.0.0/8`).
///
/// ```
/// use warden::TrustedProxies;
///
/// let proxies = TrustedProxies::parse(["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]).unwrap();
/// assert!(proxies.contains("10.1.2.3".parse().unwrap()));
/// assert!(proxies.contains("::ffff:192.0.2.7".parse().unwrap()));
/// assert!(!proxies.contains("203.0.113.9".parse().unwrap()));
/// assert!(TrustedProxies::parse(["10.0.0.0/33"]).is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

impl TrustedProxies {
    /// Trust the given networks.
    pub fn new(nets: Vec<IpNet>) -> Self {
        Self {
            nets: nets.into_iter().map(normalize_net).collect(),
        }
    }

    /// Trust no proxy: the socket peer is always the client.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parse CIDR networks and bare addresses (an IPv4 address means `/32`, IPv6 `/128`).
    pub fn parse<I, S>(entries: I) -> Result<Self, InvalidProxy>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut nets = Vec::new();
        for entry in entries {
            let text = entry.as_ref().trim();
            let net = if let Ok(net) = IpNet::from_str(text) {
                net
            } else if let Ok(ip) = IpAddr::from_str(text) {
                IpNet::from(ip)
            } else {
                return Err(InvalidProxy {
                    input: entry.as_ref().to_owned(),
                });
            };
            nets.push(net);
        }
        Ok(Self::new(nets))
    }

    /// Whether `ip` (IPv4-mapped IPv6 is treated as IPv4) is in a trusted network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The trusted networks.
    pub fn nets(&self) -> &[IpNet] {
        &self.nets
    }
}

impl TryFrom<Vec<String>> for TrustedProxies {
    type Error = InvalidProxy;

    fn try_from(entries: Vec<String>) -> Result<Self, Self::Error> {
        Self::parse(entries)
    }
}

impl From<TrustedProxies> for Vec<String> {
    fn from(proxies: TrustedProxies) -> Self {
        proxies.nets.iter().map(ToString::to_string).collect()
    }
}

fn normalize_net(net: IpNet) -> IpNet {
    let net = net.trunc();
    if let IpNet::V6(v6) = net {
        if let (Some(v4), true) = (v6.network().to_ipv4_mapped(), v6.prefix_len() >= 96) {
            if let Ok(v4net) = ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96) {
                return IpNet::V4(v4net);
            }
        }
    }
    net
}

/// Resolves the client address of a request from its socket peer and forwarding header.
///
/// ```
/// use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
/// use warden::{ClientIpResolver, ForwardedHeader, TrustedProxies};
///
/// let resolver = ClientIpResolver::new(
///     TrustedProxies::parse(["10.0.0.0/8"]).unwrap(),
///     ForwardedHeader::XForwardedFor,
/// );
/// let mut headers = HeaderMap::new();
/// headers.insert(
///     HeaderName::from_static("x-forwarded-for"),
///     HeaderValue::from_static("198.51.100.1, 203.0.113.5, 10.0.0.2"),
/// );
/// // From a trusted proxy: the right-most untrusted address.
/// assert_eq!(
///     resolver.resolve("10.0.0.1".parse().unwrap(), &headers),
///     "203.0.113.5".parse::<std::net::IpAddr>().unwrap()
/// );
/// // From anyone else: the header is ignored.
/// assert_eq!(
///     resolver.resolve("192.0.2.9".parse().unwrap(), &headers),
///     "192.0.2.9".parse::<std::net::IpAddr>().unwrap()
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientIpResolver {
    proxies: TrustedProxies,
    header: ForwardedHeader,
}

impl ClientIpResolver {
    /// A resolver trusting `proxies` to write `header`.
    pub fn new(proxies: TrustedProxies, header: ForwardedHeader) -> Self {
        Self { proxies, header }
    }

    /// The trusted proxies.
    pub fn proxies(&self) -> &TrustedProxies {
        &self.proxies
    }

    /// The forwarding header read from trusted proxies.
    pub fn header(&self) -> ForwardedHeader {
        self.header
    }

    /// The client address of a request from `peer` carrying `headers`.
    ///
    /// If `peer` is untrusted it is the client. Otherwise the configured header is walked from
    /// right to left, skipping trusted proxies; the first untrusted address is the client. If every
    /// address is trusted, the left-most one is. An entry that cannot be parsed (`unknown`, an
    /// obfuscated `_identifier`, junk) or a header past the size bounds ([`MAX_HEADER_BYTES`],
    /// [`MAX_HEADER_ENTRIES`]) ends the walk: the last trusted hop seen is returned, never an
    /// address to the left of the junk. IPv4-mapped IPv6 addresses are returned as IPv4.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.proxies.contains(peer) {
            return peer;
        }
        let mut nearest = peer;
        let mut bytes = 0usize;
        let mut entries = 0usize;
        for line in headers.get_all(self.header.header_name()).rev() {
            for piece in line.as_bytes().rsplit(|b| *b == b',') {
                entries += 1;
                bytes = bytes.saturating_add(piece.len() + 1);
                if entries > MAX_HEADER_ENTRIES || bytes > MAX_HEADER_BYTES {
                    return nearest;
                }
                let parsed = match self.header {
                    ForwardedHeader::XForwardedFor => parse_node(piece),
                    ForwardedHeader::Forwarded => parse_forwarded_element(piece),
                };
                match parsed {
                    Some(ip) if self.proxies.contains(ip) => nearest = ip,
                    Some(ip) => return ip,
                    None => return nearest,
                }
            }
        }
        nearest
    }

    /// The client address of `req`, or `None` when it has no socket peer address.
    pub fn resolve_request(&self, req: &HttpRequest) -> Option<IpAddr> {
        req.peer_addr()
            .map(|addr| self.resolve(addr.ip(), req.headers()))
    }
}

/// The network used as a rate-limit or lockout key for `ip`.
///
/// IPv4 addresses are their own key; IPv6 addresses collapse to their /64 network, since one
/// host usually controls a whole /64. IPv4-mapped IPv6 is treated as IPv4.
///
/// ```
/// use warden::client_ip::network_key;
///
/// let key = network_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd".parse().unwrap());
/// assert_eq!(key, "2001:db8:1:2::".parse::<std::net::IpAddr>().unwrap());
/// let v4 = "192.0.2.7".parse().unwrap();
/// assert_eq!(network_key(v4), v4);
/// ```
pub fn network_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => IpAddr::V6(Ipv6Addr::from(
            u128::from(v6) & 0xffff_ffff_ffff_ffff_0000_0000_0000_0000,
        )),
    }
}

/// Parses one RFC 7239 element (`for=..;proto=..;by=..`) and returns its `for` address.
fn parse_forwarded_element(element: &[u8]) -> Option<IpAddr> {
    let element = std::str::from_utf8(element).ok()?;
    let mut found = None;
    for pair in element.split(';') {
        let pair = pair.trim_matches(is_ows);
        if pair.is_empty() {
            continue;
        }
        let (name, value) = pair.split_once('=')?;
        if name.trim_matches(is_ows).eq_ignore_ascii_case("for") {
            if found.is_some() {
                // Two `for` parameters in one element: ambiguous.
                return None;
            }
            found = Some(parse_node(value.trim_matches(is_ows).as_bytes())?);
        } else if value.bytes().filter(|b| *b == b'"').count() % 2 != 0 {
            // An unbalanced quote elsewhere means the element was split inside a quoted string.
            return None;
        }
    }
    found
}

/// Parses one node: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:443`,
/// optionally wrapped in double quotes. `unknown`, `_obfuscated` and anything else is `None`.
fn parse_node(raw: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(raw).ok()?.trim_matches(is_ows);
    let text = match text.strip_prefix('"') {
        Some(rest) => rest.strip_suffix('"')?,
        None => text,
    };
    if text.contains(['"', '\\']) {
        return None;
    }
    let ip = if let Some(rest) = text.strip_prefix('[') {
        let (inner, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(valid_port)) {
            return None;
        }
        IpAddr::V6(Ipv6Addr::from_str(inner).ok()?)
    } else if let Ok(ip) = IpAddr::from_str(text) {
        ip
    } else {
        let (host, port) = text.rsplit_once(':')?;
        if !valid_port(port) {
            return None;
        }
        IpAddr::V4(Ipv4Addr::from_str(host).ok()?)
    };
    Some(ip.to_canonical())
}

/// A decimal port, or an RFC 7239 obfuscated port (`_abc`).
fn valid_port(port: &str) -> bool {
    if let Some(obf) = port.strip_prefix('_') {
        !obf.is_empty()
            && obf
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    } else {
        !port.is_empty()
            && port.len() <= 5
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok()
    }
}

fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

impl fmt::Display for ForwardedHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.header_name())
    }
}
