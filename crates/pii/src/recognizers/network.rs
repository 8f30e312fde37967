//! Recognizers: network (IP addresses, URLs).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use regex::Regex;

use crate::{AnalyzerBuilder, Detection, EntityType, Recognizer};

/// Adds this module's recognizers to `builder`.
pub fn register(builder: AnalyzerBuilder) -> AnalyzerBuilder {
    builder
        .recognizer(IpRecognizer::new())
        .recognizer(UrlRecognizer::new())
}

/// IPv4 dotted quads (octets ≤ 255, not inside a longer dotted number)
/// and IPv6 in full, compressed or IPv4-embedded form, checked with the
/// standard library's parsers.
#[derive(Debug)]
pub struct IpRecognizer {
    v4: Regex,
    v6: Regex,
}

impl IpRecognizer {
    pub fn new() -> Self {
        Self {
            v4: Regex::new(r"[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}").expect("ipv4 regex"),
            v6: Regex::new(r"[0-9A-Fa-f:]*:[0-9A-Fa-f]*:[0-9A-Fa-f:.]*").expect("ipv6 regex"),
        }
    }
}

impl Default for IpRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

fn is_hex_or_colon(c: char) -> bool {
    c.is_ascii_hexdigit() || c == ':'
}

impl Recognizer for IpRecognizer {
    fn name(&self) -> &'static str {
        "ip"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.v4.find_iter(text) {
            let (start, end) = (m.start(), m.end());
            let mut before = text[..start].chars().rev();
            let prev = before.next();
            let prev2 = before.next();
            let mut after = text[end..].chars();
            let next = after.next();
            let next2 = after.next();
            // Not inside a longer token or dotted number (1.2.3.4.5).
            if prev.is_some_and(|c| c.is_alphanumeric() || c == '_')
                || next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                || (prev == Some('.') && prev2.is_some_and(|c| c.is_ascii_digit()))
                || (next == Some('.') && next2.is_some_and(|c| c.is_ascii_digit()))
                || (prev == Some(':') && prev2.is_some_and(is_hex_or_colon))
            {
                continue;
            }
            if Ipv4Addr::from_str(m.as_str()).is_err() {
                continue;
            }
            out.push(Detection::new(
                start,
                end,
                EntityType::IpAddress,
                0.85,
                self.name(),
            ));
        }
        for m in self.v6.find_iter(text) {
            let mut start = m.start();
            let mut s = m.as_str();
            // A trailing sentence dot or a lone trailing colon is
            // punctuation ("fe80::1:" / "::1.").
            while s.ends_with('.') || (s.ends_with(':') && !s.ends_with("::")) {
                s = &s[..s.len() - 1];
            }
            // A leading lone colon ("addr:2001:db8::1") is a label
            // separator.
            if s.starts_with(':') && !s.starts_with("::") {
                s = &s[1..];
                start += 1;
            }
            let end = start + s.len();
            if s.len() < 3 || !s.bytes().any(|b| b.is_ascii_hexdigit()) {
                continue;
            }
            let prev = text[..start].chars().next_back();
            let next = text[end..].chars().next();
            if prev.is_some_and(|c| is_hex_or_colon(c) || c.is_alphanumeric())
                || next.is_some_and(|c| is_hex_or_colon(c) || c.is_alphanumeric())
            {
                continue;
            }
            if Ipv6Addr::from_str(s).is_err() {
                continue;
            }
            // Short compressed forms ("12::34") are rare in prose but
            // common in other notations; trust full-ish forms more.
            let groups = s.split(':').filter(|g| !g.is_empty()).count();
            let score = if groups >= 3 || s.contains('.') || s == "::1" {
                0.85
            } else {
                0.5
            };
            out.push(Detection::new(
                start,
                end,
                EntityType::IpAddress,
                score,
                self.name(),
            ));
        }
    }
}

/// Top-level domains accepted for bare hosts without a scheme or `www.`.
const BARE_TLDS: &str = "com|org|net|edu|gov|mil|int|io|co|ai|app|dev|info|biz|me|us|uk|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|pt|cz|sk|hu|ro|gr|ie|ru|ua|jp|cn|in|br|au|ca|nz|za|mx|ar|tr|il|kr|tw|sg|hk|eu|ly|gl|to|tv|cc|xyz|site|online|tech|store|blog";

/// URLs: `http`, `https` and `ftp` schemes, `www.` hosts, and bare hosts
/// with a known TLD followed by a path. Trailing sentence punctuation
/// and unbalanced closing brackets are not part of the URL.
#[derive(Debug)]
pub struct UrlRecognizer {
    re: Regex,
}

impl UrlRecognizer {
    pub fn new() -> Self {
        let host = r"[\p{L}\p{N}](?:[\p{L}\p{N}-]*[\p{L}\p{N}])?";
        let pattern = format!(
            r"(?i)(?:https?|ftp)://[^\s<>{{}}|\\^`'\x22]+|www\.{host}(?:\.{host})+[^\s<>{{}}|\\^`'\x22]*|{host}(?:\.{host})*\.(?:{BARE_TLDS})/[^\s<>{{}}|\\^`'\x22]*"
        );
        Self {
            re: Regex::new(&pattern).expect("url regex"),
        }
    }
}

impl Default for UrlRecognizer {
    fn default() -> Self {
        Self::new()
    }
}

/// `url` without trailing punctuation and unbalanced closing brackets.
fn trim_url(url: &str) -> &str {
    let mut s = url;
    loop {
        let Some(last) = s.chars().next_back() else {
            return s;
        };
        let drop = match last {
            '.' | ',' | ';' | ':' | '!' | '?' | '*' => true,
            ')' => s.matches('(').count() < s.matches(')').count(),
            ']' => s.matches('[').count() < s.matches(']').count(),
            _ => false,
        };
        if !drop {
            return s;
        }
        s = &s[..s.len() - last.len_utf8()];
    }
}

impl Recognizer for UrlRecognizer {
    fn name(&self) -> &'static str {
        "url"
    }

    fn find(&self, text: &str, out: &mut Vec<Detection>) {
        for m in self.re.find_iter(text) {
            let start = m.start();
            let s = trim_url(m.as_str());
            let end = start + s.len();
            // Not the tail of an email address or a longer token.
            let prev = text[..start].chars().next_back();
            if prev.is_some_and(|c| c.is_alphanumeric() || matches!(c, '@' | '.' | '_' | '-' | '/'))
            {
                continue;
            }
            let lower = s.to_ascii_lowercase();
            let schemed = lower.starts_with("http") || lower.starts_with("ftp");
            // A scheme with nothing after it is not a URL.
            if schemed && s.find("://").is_some_and(|i| s.len() <= i + 4) {
                continue;
            }
            // Bare hosts in capitals are tickers and codes ("BL.BAR.US/USD").
            if !schemed && !s.chars().any(|c| c.is_lowercase()) {
                continue;
            }
            let score = if schemed {
                0.85
            } else if lower.starts_with("www.") {
                0.75
            } else {
                0.6
            };
            out.push(Detection::new(
                start,
                end,
                EntityType::Url,
                score,
                self.name(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognizers::test_support::spans;

    #[test]
    fn ipv4() {
        let r = IpRecognizer::new();
        for (text, want) in [
            ("from 74.66.248.1.", "74.66.248.1"),
            ("host 192.168.0.1:8080", "192.168.0.1"),
            ("(8.8.8.8)", "8.8.8.8"),
            ("ip=10.0.0.255,", "10.0.0.255"),
            ("255.255.255.255", "255.255.255.255"),
            ("0.0.0.0 bind", "0.0.0.0"),
            ("addr 172.16.254.1/24", "172.16.254.1"),
            ("«1.2.3.4»", "1.2.3.4"),
            ("IP: 11.80.76.222", "11.80.76.222"),
            ("x 127.0.0.1 y", "127.0.0.1"),
        ] {
            assert_eq!(spans(&r, text), [want], "{text}");
        }
        for text in [
            "10.0.0.256",
            "version 1.2.3.4.5",
            "1.2.3",
            "v1.2.3.4",
            "300.1.1.1",
            "1.2.3.4.5.6",
            "a1.2.3.4",
            "01.02.03.04",
            "1234.1.1.1",
            "5.1.2.3.4",
        ] {
            assert!(spans(&r, text).is_empty(), "{text}: {:?}", spans(&r, text));
        }
    }

    #[test]
    fn ipv6() {
        let r = IpRecognizer::new();
        for (text, want) in [
            (
                "|3699:d414:72be:7858:3a1f:a8fe:ee9c:6727|",
                "3699:d414:72be:7858:3a1f:a8fe:ee9c:6727",
            ),
            ("addr 2001:db8::1.", "2001:db8::1"),
            ("fe80::1ff:fe23:4567:890a", "fe80::1ff:fe23:4567:890a"),
            ("::ffff:192.0.2.128 x", "::ffff:192.0.2.128"),
            ("lo ::1", "::1"),
            ("[2001:db8:0:0:0:0:2:1]:80", "2001:db8:0:0:0:0:2:1"),
            (
                "ip: 2001:db8:85a3::8a2e:370:7334",
                "2001:db8:85a3::8a2e:370:7334",
            ),
        ] {
            assert_eq!(spans(&r, text), [want], "{text}");
        }
        for text in [
            "at 10:20:30",
            "2001:db8:::1",
            "gg80::1",
            "1:2:3:4:5:6:7:8:9",
            "12:30 pm",
            "x2001:db8::1",
            "ratio 3:2",
            "::",
            "02:56:01.253718",
            "12345::1",
        ] {
            assert!(spans(&r, text).is_empty(), "{text}: {:?}", spans(&r, text));
        }
    }

    #[test]
    fn urls() {
        let r = UrlRecognizer::new();
        for (text, want) in [
            (
                "for http://InsuranceIntern.se/; my",
                "http://InsuranceIntern.se/",
            ),
            (
                "see https://example.com/a?b=c.",
                "https://example.com/a?b=c",
            ),
            (
                "(https://en.wikipedia.org/wiki/Foo_(bar))",
                "https://en.wikipedia.org/wiki/Foo_(bar)",
            ),
            ("(see https://x.io/p)", "https://x.io/p"),
            ("visit www.example.org, now", "www.example.org"),
            ("go to example.com/path!", "example.com/path"),
            ("ftp://files.example.net/pub", "ftp://files.example.net/pub"),
            ("https://münchen.de/straße", "https://münchen.de/straße"),
            ("http://10.0.0.1:8080/x", "http://10.0.0.1:8080/x"),
            ("<https://a.b.co.uk/>", "https://a.b.co.uk/"),
        ] {
            assert_eq!(spans(&r, text), [want], "{text}");
        }
        for text in [
            "mail me at bob@example.com/x",
            "file.txt/",
            "example.com",
            "http://",
            "version 1.2.3",
            "e.g. this",
            "www.",
            "path/to/file.rs",
            "foo.bar/baz",
            "jane.doe@example.com",
            "UBS-ETF BL.BAR.US/USD",
        ] {
            assert!(spans(&r, text).is_empty(), "{text}: {:?}", spans(&r, text));
        }
    }
}
