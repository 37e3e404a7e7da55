//! Feature extraction for cluster evidence: links and domains, name stems.

use super::text;
use crate::model::{EntityKind, Message};
use linkify::{LinkFinder, LinkKind};

/// A link reduced to what identifies it: lowercase host without `www.`, path and query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkFeature {
    /// host + path (+ query), no scheme, no trailing slash.
    pub link: String,
    /// Registrable domain, e.g. `shop.example.co.uk` → `example.co.uk`.
    pub domain: String,
}

const MAX_LINKS: usize = 16;
const MAX_LINK_LEN: usize = 200;

pub fn parse_link(raw: &str) -> Option<LinkFeature> {
    let rest = raw.trim();
    let rest = match rest.find("://") {
        Some(i) => &rest[i + 3..],
        None => rest,
    };
    let rest = rest.split('#').next().unwrap_or_default();
    let host_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..host_end];
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let host = authority
        .split(':')
        .next()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host).to_string();
    if host.is_empty() || !host.contains('.') {
        return None;
    }
    let tail = rest[host_end..].trim_end_matches('/');
    let mut link = format!("{host}{tail}");
    if link.len() > MAX_LINK_LEN {
        let mut cut = MAX_LINK_LEN;
        while !link.is_char_boundary(cut) {
            cut -= 1;
        }
        link.truncate(cut);
    }
    Some(LinkFeature {
        domain: registrable_domain(&host),
        link,
    })
}

fn registrable_domain(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() <= 2 {
        return host.to_string();
    }
    let n = labels.len();
    // co.uk, com.br, org.ua ...: a short second level under a two-letter country code.
    let take = if labels[n - 1].len() == 2 && labels[n - 2].len() <= 3 {
        3
    } else {
        2
    };
    labels[n - take..].join(".")
}

/// Links in a text, its hidden links and its buttons.
pub fn message_links(message: &Message) -> Vec<LinkFeature> {
    let mut out = text_links(&message.text);
    let hidden = message
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::TextUrl)
        .filter_map(|e| e.url.as_deref());
    let buttons = message.buttons.iter().filter_map(|b| b.url.as_deref());
    for raw in hidden.chain(buttons) {
        if out.len() >= MAX_LINKS {
            break;
        }
        if let Some(link) = parse_link(raw)
            && !out.contains(&link)
        {
            out.push(link);
        }
    }
    out
}

pub fn text_links(body: &str) -> Vec<LinkFeature> {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url]).url_must_have_scheme(false);
    let mut out: Vec<LinkFeature> = Vec::new();
    for found in finder.links(body).take(MAX_LINKS * 2) {
        if out.len() >= MAX_LINKS {
            break;
        }
        if let Some(link) = parse_link(found.as_str())
            && !out.contains(&link)
        {
            out.push(link);
        }
    }
    out
}

/// A display name reduced to its letters ("Anna 123" → "anna"), and whether it carried digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameFeature {
    pub stem: String,
    pub has_digits: bool,
    /// The name as shown, shortened, for evidence details.
    pub shown: String,
}

pub fn name_feature(display_name: &str) -> Option<NameFeature> {
    let normalised = text::normalise(display_name);
    let has_digits = normalised.contains('#');
    let stem: String = normalised
        .chars()
        .filter(|c| c.is_alphabetic())
        .take(64)
        .collect();
    if stem.chars().count() < 3 {
        return None;
    }
    Some(NameFeature {
        stem,
        has_digits,
        shown: display_name.chars().take(40).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_reduced_to_host_path_and_registrable_domain() {
        let link = parse_link("HTTPS://www.Shop.Example.co.uk/Deal/?ref=7#top").unwrap();
        assert_eq!(link.link, "shop.example.co.uk/Deal/?ref=7");
        assert_eq!(link.domain, "example.co.uk");
        let link = parse_link("t.me/joinchat/AbC").unwrap();
        assert_eq!(link.domain, "t.me");
        assert!(parse_link("localhost").is_none());
        let found = text_links("see crypto-x.biz/a and https://youtu.be/xyz.");
        let domains: Vec<&str> = found.iter().map(|l| l.domain.as_str()).collect();
        assert_eq!(domains, vec!["crypto-x.biz", "youtu.be"]);
    }

    #[test]
    fn names_keep_letters_and_note_digits() {
        let anna = name_feature("Anna 123").unwrap();
        assert_eq!(anna.stem, "anna");
        assert!(anna.has_digits);
        assert_eq!(name_feature("Ｉｖａｎ").unwrap().stem, "ivan");
        assert!(!name_feature("Ivan Petrov").unwrap().has_digits);
        assert!(name_feature("42").is_none());
    }
}
