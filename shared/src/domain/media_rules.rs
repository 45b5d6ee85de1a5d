//! WhatsApp's rules for media a business sends: which types each kind takes and how large they
//! may be, checked against the file's real type, read from its first bytes. Hand-written rather
//! than a general sniffer: half of WhatsApp's list is decided inside a container (the brand of an
//! MP4, Opus in Ogg, WebP animation, which Office family), which general sniffers do not tell.

use std::fmt;

const KB: u64 = 1024;
const MB: u64 = 1024 * 1024;

/// How many leading bytes [`check`] wants (fewer is fine for shorter files).
pub const SNIFF_BYTES: usize = 64;

/// A WhatsApp media kind, as `/send` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    Document,
    Sticker,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }
}

/// What a file's first bytes say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    Jpeg,
    Png,
    WebP {
        animated: bool,
    },
    /// ISO base media (MP4, M4A, 3GPP), by its major brand.
    IsoMedia {
        third_generation: bool,
    },
    Adts,
    Amr,
    Mp3,
    Ogg {
        opus: bool,
    },
    Pdf,
    /// An OLE compound file: .doc, .xls, .ppt.
    Ole,
    /// A ZIP archive: .docx, .xlsx, .pptx.
    Zip,
    Text,
    Unknown,
}

impl Content {
    fn of(head: &[u8]) -> Content {
        let at =
            |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
        if at(0, &[0xFF, 0xD8, 0xFF]) {
            Content::Jpeg
        } else if at(0, b"\x89PNG\r\n\x1a\n") {
            Content::Png
        } else if at(0, b"RIFF") && at(8, b"WEBP") {
            // An extended WebP (VP8X) flags animation in bit 1 of the byte after its header.
            let animated = at(12, b"VP8X") && head.get(20).is_some_and(|flags| flags & 0x02 != 0);
            Content::WebP { animated }
        } else if at(4, b"ftyp") {
            Content::IsoMedia {
                third_generation: at(8, b"3gp") || at(8, b"3g2"),
            }
        } else if at(0, b"#!AMR") {
            Content::Amr
        } else if at(0, b"OggS") {
            Content::Ogg {
                opus: at(28, b"OpusHead"),
            }
        } else if at(0, b"%PDF-") {
            Content::Pdf
        } else if at(0, &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
            Content::Ole
        } else if at(0, b"PK\x03\x04") {
            Content::Zip
        } else if at(0, b"ID3") || (head.len() > 1 && head[0] == 0xFF && head[1] & 0xE6 == 0xE2) {
            // An ID3 tag, or an MPEG audio frame sync with layer III.
            Content::Mp3
        } else if head.len() > 1 && head[0] == 0xFF && head[1] & 0xF6 == 0xF0 {
            // An ADTS frame sync (layer bits 00).
            Content::Adts
        } else if looks_like_text(head) {
            Content::Text
        } else {
            Content::Unknown
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Content::Jpeg => "a JPEG image",
            Content::Png => "a PNG image",
            Content::WebP { animated: true } => "an animated WebP image",
            Content::WebP { animated: false } => "a WebP image",
            Content::IsoMedia {
                third_generation: true,
            } => "a 3GPP file",
            Content::IsoMedia { .. } => "an MP4 file",
            Content::Adts => "AAC audio",
            Content::Amr => "AMR audio",
            Content::Mp3 => "MP3 audio",
            Content::Ogg { opus: true } => "Opus audio in Ogg",
            Content::Ogg { opus: false } => "Ogg audio that is not Opus",
            Content::Pdf => "a PDF document",
            Content::Ole => "a legacy Office document (.doc, .xls or .ppt)",
            Content::Zip => "a ZIP archive",
            Content::Text => "plain text",
            Content::Unknown => "of no type WhatsApp takes",
        }
    }
}

/// UTF-8 without control characters other than whitespace; a cut last character is allowed.
fn looks_like_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(error) if error.error_len().is_none() => {
            std::str::from_utf8(&head[..error.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    valid
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\x0c'))
}

/// One line of WhatsApp's table: a type, its kind and its size limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaRule {
    pub mime_type: &'static str,
    pub kind: MediaKind,
    pub max_bytes: u64,
    /// How the rule is named in an error ("an animated sticker (image/webp)").
    pub label: &'static str,
    /// What the file's first bytes must be.
    content: Content,
}

macro_rules! rule {
    ($mime:literal, $kind:ident, $max:expr, $label:literal, $content:expr) => {
        MediaRule {
            mime_type: $mime,
            kind: MediaKind::$kind,
            max_bytes: $max,
            label: $label,
            content: $content,
        }
    };
}

/// WhatsApp's supported media (Meta's "Supported media types"). The first rule of a type is the
/// one a declared type is held to before its bytes are seen (the larger sticker limit).
pub const MEDIA_RULES: &[MediaRule] = &[
    rule!("image/jpeg", Image, 5 * MB, "a JPEG image", Content::Jpeg),
    rule!("image/png", Image, 5 * MB, "a PNG image", Content::Png),
    rule!(
        "image/webp",
        Sticker,
        500 * KB,
        "an animated sticker (image/webp)",
        Content::WebP { animated: true }
    ),
    rule!(
        "image/webp",
        Sticker,
        100 * KB,
        "a static sticker (image/webp)",
        Content::WebP { animated: false }
    ),
    rule!("audio/aac", Audio, 16 * MB, "AAC audio", Content::Adts),
    rule!("audio/amr", Audio, 16 * MB, "AMR audio", Content::Amr),
    rule!("audio/mpeg", Audio, 16 * MB, "MP3 audio", Content::Mp3),
    rule!(
        "audio/mp4",
        Audio,
        16 * MB,
        "MP4 audio",
        Content::IsoMedia {
            third_generation: false
        }
    ),
    rule!(
        "audio/ogg",
        Audio,
        16 * MB,
        "Ogg audio (Opus codec only)",
        Content::Ogg { opus: true }
    ),
    rule!(
        "video/mp4",
        Video,
        16 * MB,
        "an MP4 video",
        Content::IsoMedia {
            third_generation: false
        }
    ),
    rule!(
        "video/3gpp",
        Video,
        16 * MB,
        "a 3GPP video",
        Content::IsoMedia {
            third_generation: true
        }
    ),
    rule!(
        "text/plain",
        Document,
        100 * MB,
        "a text document",
        Content::Text
    ),
    rule!(
        "application/pdf",
        Document,
        100 * MB,
        "a PDF document",
        Content::Pdf
    ),
    rule!(
        "application/msword",
        Document,
        100 * MB,
        "a Word document",
        Content::Ole
    ),
    rule!(
        "application/vnd.ms-excel",
        Document,
        100 * MB,
        "an Excel document",
        Content::Ole
    ),
    rule!(
        "application/vnd.ms-powerpoint",
        Document,
        100 * MB,
        "a PowerPoint document",
        Content::Ole
    ),
    rule!(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Document,
        100 * MB,
        "a Word document",
        Content::Zip
    ),
    rule!(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Document,
        100 * MB,
        "an Excel document",
        Content::Zip
    ),
    rule!(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        Document,
        100 * MB,
        "a PowerPoint document",
        Content::Zip
    ),
];

/// The largest file any rule takes.
pub const MAX_MEDIA_BYTES: u64 = 100 * MB;

/// Why a file cannot be sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaRefusal {
    /// 415: the declared type is not one WhatsApp takes.
    UnsupportedType { declared: String },
    /// 415: the bytes are not what was declared.
    NotDeclaredType {
        declared: &'static str,
        found: &'static str,
    },
    /// 415: no type was declared and the bytes do not say one.
    UnknownType { found: &'static str },
    /// 413: over the rule's limit.
    TooLarge { rule: MediaRule, size: u64 },
    /// 422: nothing to send.
    Empty,
}

impl fmt::Display for MediaRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MediaRefusal::UnsupportedType { declared } => write!(
                f,
                "WhatsApp does not take {declared}; it takes {}",
                supported_types()
            ),
            MediaRefusal::NotDeclaredType { declared, found } => write!(
                f,
                "the file was declared {declared} but its first bytes are {found}; declare its real type"
            ),
            MediaRefusal::UnknownType { found } => write!(
                f,
                "the file's first bytes are {found}; declare its type, one of {}",
                supported_types()
            ),
            MediaRefusal::TooLarge { rule, size } => write!(
                f,
                "{} ({}) may be at most {} on WhatsApp; this file is {}",
                rule.label,
                rule.kind.as_str(),
                human_size(rule.max_bytes),
                human_size(*size)
            ),
            MediaRefusal::Empty => f.write_str("the file is empty"),
        }
    }
}

impl MediaRefusal {
    /// The error code the API answers.
    pub fn code(&self) -> &'static str {
        match self {
            MediaRefusal::TooLarge { .. } => "media_too_large",
            MediaRefusal::Empty => "empty_media",
            _ => "unsupported_media_type",
        }
    }
}

fn supported_types() -> String {
    let mut types: Vec<&str> = MEDIA_RULES.iter().map(|rule| rule.mime_type).collect();
    types.dedup();
    types.join(", ")
}

/// `5 MB`, `100 KB`, `6.2 MB`, `12 bytes`.
pub fn human_size(bytes: u64) -> String {
    let (unit, name) = if bytes >= MB {
        (MB, "MB")
    } else if bytes >= KB {
        (KB, "KB")
    } else {
        return format!("{bytes} bytes");
    };
    if bytes.is_multiple_of(unit) {
        format!("{} {name}", bytes / unit)
    } else {
        format!("{:.1} {name}", bytes as f64 / unit as f64)
    }
}

/// `audio/ogg; codecs=opus` → `audio/ogg`, lowercase.
pub fn mime_essence(mime_type: &str) -> String {
    mime_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// The rule a declared type (and size, when known) is held to before the bytes are read.
pub fn check_declared(mime_type: &str, size: u64) -> Result<&'static MediaRule, MediaRefusal> {
    let essence = mime_essence(mime_type);
    let rule = MEDIA_RULES
        .iter()
        .find(|rule| rule.mime_type == essence)
        .ok_or(MediaRefusal::UnsupportedType { declared: essence })?;
    if size == 0 {
        return Err(MediaRefusal::Empty);
    }
    if size > rule.max_bytes {
        return Err(MediaRefusal::TooLarge { rule: *rule, size });
    }
    Ok(rule)
}

/// The rule a file meets, from its declared type (`None` or `application/octet-stream`: its
/// bytes decide, when they name one type), its first [`SNIFF_BYTES`] bytes and its size.
pub fn check(
    declared: Option<&str>,
    head: &[u8],
    size: u64,
) -> Result<&'static MediaRule, MediaRefusal> {
    if size == 0 {
        return Err(MediaRefusal::Empty);
    }
    let content = Content::of(head);
    let declared = declared
        .map(mime_essence)
        .filter(|essence| !essence.is_empty() && essence != "application/octet-stream");
    let rule = match declared {
        Some(declared) => {
            let mut rules = MEDIA_RULES
                .iter()
                .filter(|rule| rule.mime_type == declared)
                .peekable();
            let Some(&first) = rules.peek() else {
                return Err(MediaRefusal::UnsupportedType { declared });
            };
            rules
                .find(|rule| rule.content == content)
                .ok_or(MediaRefusal::NotDeclaredType {
                    declared: first.mime_type,
                    found: content.describe(),
                })?
        }
        None => {
            let mut matching = MEDIA_RULES.iter().filter(|rule| rule.content == content);
            match (matching.next(), matching.next()) {
                (Some(rule), None) => rule,
                // MP4 is audio or video by what it holds: a file of unknown use goes as video.
                (Some(rule), Some(_)) if matches!(content, Content::IsoMedia { .. }) => MEDIA_RULES
                    .iter()
                    .find(|rule| rule.mime_type == "video/mp4")
                    .unwrap_or(rule),
                _ => {
                    return Err(MediaRefusal::UnknownType {
                        found: content.describe(),
                    });
                }
            }
        }
    };
    if size > rule.max_bytes {
        return Err(MediaRefusal::TooLarge { rule: *rule, size });
    }
    Ok(rule)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mime_essence_drops_parameters() {
        assert_eq!(mime_essence("audio/ogg; codecs=opus"), "audio/ogg");
        assert_eq!(mime_essence("Image/JPEG"), "image/jpeg");
    }

    fn webp(animated: bool) -> Vec<u8> {
        let mut bytes = b"RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00".to_vec();
        bytes.push(if animated { 0x02 } else { 0x00 });
        bytes.extend_from_slice(&[0; 9]);
        bytes
    }

    fn iso(brand: &[u8; 4]) -> Vec<u8> {
        let mut bytes = b"\x00\x00\x00\x20ftyp".to_vec();
        bytes.extend_from_slice(brand);
        bytes.extend_from_slice(&[0; 20]);
        bytes
    }

    fn ogg(codec: &[u8; 8]) -> Vec<u8> {
        let mut bytes = b"OggS".to_vec();
        bytes.resize(28, 0);
        bytes.extend_from_slice(codec);
        bytes
    }

    /// A sample of every supported type, with the type it is.
    fn samples() -> Vec<(&'static str, Vec<u8>)> {
        vec![
            ("image/jpeg", b"\xFF\xD8\xFF\xE0\x00\x10JFIF".to_vec()),
            (
                "image/png",
                b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec(),
            ),
            ("image/webp", webp(false)),
            ("audio/aac", b"\xFF\xF1\x50\x80\x02\x1F\xFC".to_vec()),
            ("audio/amr", b"#!AMR\n\x3c".to_vec()),
            ("audio/mpeg", b"ID3\x04\x00\x00\x00\x00\x00\x00".to_vec()),
            ("audio/mpeg", b"\xFF\xFB\x90\x64\x00".to_vec()),
            ("audio/mp4", iso(b"M4A ")),
            ("audio/ogg", ogg(b"OpusHead")),
            ("video/mp4", iso(b"isom")),
            ("video/3gpp", iso(b"3gp5")),
            ("text/plain", "Order 42: ✓ shipped\n".as_bytes().to_vec()),
            ("application/pdf", b"%PDF-1.7\n%\xe2\xe3".to_vec()),
            (
                "application/msword",
                b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00".to_vec(),
            ),
            (
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                b"PK\x03\x04\x14\x00\x06\x00".to_vec(),
            ),
        ]
    }

    #[test]
    fn every_supported_type_is_taken_as_declared_and_named_by_its_kind() {
        for (mime_type, bytes) in samples() {
            let rule = check(Some(mime_type), &bytes, 1_000)
                .unwrap_or_else(|refusal| panic!("{mime_type}: {refusal}"));
            assert_eq!(rule.mime_type, mime_type);
        }
        let kind = |mime: &str, bytes: &[u8]| check(Some(mime), bytes, 10).unwrap().kind;
        assert_eq!(kind("image/png", b"\x89PNG\r\n\x1a\n"), MediaKind::Image);
        assert_eq!(kind("image/webp", &webp(true)), MediaKind::Sticker);
        assert_eq!(kind("audio/mp4", &iso(b"M4A ")), MediaKind::Audio);
        assert_eq!(kind("video/mp4", &iso(b"mp42")), MediaKind::Video);
        assert_eq!(kind("application/pdf", b"%PDF-1.4"), MediaKind::Document);
    }

    #[test]
    fn parameters_and_case_of_the_declared_type_do_not_matter() {
        let rule = check(Some("Audio/OGG; codecs=opus"), &ogg(b"OpusHead"), 10).unwrap();
        assert_eq!(rule.mime_type, "audio/ogg");
    }

    #[test]
    fn bytes_that_are_not_the_declared_type_are_refused_naming_both() {
        let refusal = check(Some("application/pdf"), b"\xFF\xD8\xFF\xE0", 10).unwrap_err();
        assert_eq!(refusal.code(), "unsupported_media_type");
        let message = refusal.to_string();
        assert!(
            message.contains("application/pdf") && message.contains("JPEG"),
            "{message}"
        );
        let vorbis = check(Some("audio/ogg"), &ogg(b"\x01vorbis\x00"), 10).unwrap_err();
        assert!(vorbis.to_string().contains("not Opus"), "{vorbis}");
        let mp4_as_3gpp = check(Some("video/3gpp"), &iso(b"isom"), 10).unwrap_err();
        assert_eq!(mp4_as_3gpp.code(), "unsupported_media_type");
        let binary_as_text = check(Some("text/plain"), b"\x00\x01\x02garbage", 10).unwrap_err();
        assert_eq!(binary_as_text.code(), "unsupported_media_type");
    }

    #[test]
    fn a_type_whatsapp_does_not_take_is_refused_with_the_list() {
        let refusal = check(Some("image/gif"), b"GIF89a", 10).unwrap_err();
        assert_eq!(refusal.code(), "unsupported_media_type");
        assert!(
            refusal
                .to_string()
                .contains("image/jpeg, image/png, image/webp")
        );
        assert_eq!(
            check_declared("video/quicktime", 10).unwrap_err().code(),
            "unsupported_media_type"
        );
    }

    #[test]
    fn without_a_declared_type_the_bytes_decide_when_they_can() {
        assert_eq!(
            check(None, b"%PDF-1.7", 10).unwrap().mime_type,
            "application/pdf"
        );
        assert_eq!(
            check(Some("application/octet-stream"), b"\x89PNG\r\n\x1a\n", 10)
                .unwrap()
                .mime_type,
            "image/png"
        );
        assert_eq!(
            check(None, &iso(b"isom"), 10).unwrap().mime_type,
            "video/mp4"
        );
        // A ZIP could be any of three Office types, an OLE file any of three more.
        let zip = check(None, b"PK\x03\x04", 10).unwrap_err();
        assert!(zip.to_string().contains("declare its type"), "{zip}");
        assert!(check(None, b"\x00\x01", 10).is_err());
    }

    #[test]
    fn each_limit_is_its_kinds_and_one_byte_more_is_too_large() {
        let limits: &[(&str, Vec<u8>, u64)] = &[
            ("image/jpeg", b"\xFF\xD8\xFF\xE0".to_vec(), 5 * MB),
            ("image/png", b"\x89PNG\r\n\x1a\n".to_vec(), 5 * MB),
            ("image/webp", webp(false), 100 * KB),
            ("image/webp", webp(true), 500 * KB),
            ("audio/mpeg", b"ID3\x04".to_vec(), 16 * MB),
            ("audio/ogg", ogg(b"OpusHead"), 16 * MB),
            ("video/mp4", iso(b"isom"), 16 * MB),
            ("video/3gpp", iso(b"3gp4"), 16 * MB),
            ("application/pdf", b"%PDF-1.7".to_vec(), 100 * MB),
            ("text/plain", b"hello".to_vec(), 100 * MB),
        ];
        for (mime_type, head, limit) in limits {
            assert!(
                check(Some(mime_type), head, *limit).is_ok(),
                "{mime_type} at its limit"
            );
            let refusal = check(Some(mime_type), head, limit + 1).unwrap_err();
            assert_eq!(refusal.code(), "media_too_large", "{mime_type}");
            assert!(
                refusal.to_string().contains(&human_size(*limit)),
                "{refusal}"
            );
        }
        let sticker = check(Some("image/webp"), &webp(false), 200 * KB).unwrap_err();
        assert_eq!(
            sticker.to_string(),
            "a static sticker (image/webp) (sticker) may be at most 100 KB on WhatsApp; this file is 200 KB"
        );
    }

    #[test]
    fn a_declared_type_and_size_are_checked_before_any_byte() {
        assert_eq!(
            check_declared("image/jpeg", 5 * MB).unwrap().kind,
            MediaKind::Image
        );
        assert_eq!(
            check_declared("image/jpeg", 5 * MB + 1).unwrap_err().code(),
            "media_too_large"
        );
        // A sticker's animation is not known yet: the larger limit holds until the bytes come.
        assert!(check_declared("image/webp", 400 * KB).is_ok());
        assert_eq!(
            check_declared("application/pdf", 0).unwrap_err().code(),
            "empty_media"
        );
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(human_size(5 * MB), "5 MB");
        assert_eq!(human_size(MB + MB / 5), "1.2 MB");
        assert_eq!(human_size(100 * KB), "100 KB");
        assert_eq!(human_size(12), "12 bytes");
    }
}
