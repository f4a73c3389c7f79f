//! The rules for a partner's company logo, without touching pixels: how large an upload may be,
//! which formats count (told by the bytes themselves, never by a file name or a declared content
//! type), how large a decoded image may be, the size it is stored at, and the sentence a person
//! reads for each refusal. Decoding and re-encoding happen in the hub (`services::profile`),
//! because they need an image codec and a blocking thread; the limits they obey are set here.

/// Largest upload accepted, in bytes (1 MiB).
pub const MAX_UPLOAD_BYTES: usize = 1024 * 1024;
/// Largest width or height a logo may declare; anything larger is refused before decoding, so a
/// tiny file declaring a huge canvas (a decompression bomb) never allocates it.
pub const MAX_DECODED_SIDE: u32 = 4096;
/// Most memory the decoder may allocate for one logo.
pub const MAX_DECODE_ALLOC_BYTES: u64 = 64 * 1024 * 1024;
/// Stored logos fit within this square (aspect ratio kept, never enlarged).
pub const STORED_MAX_SIDE: u32 = 512;
/// What stored logos are: re-encoded PNG, whatever came in.
pub const STORED_CONTENT_TYPE: &str = "image/png";
pub const STORED_EXTENSION: &str = "png";

/// The formats a logo may arrive in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogoFormat {
    Png,
    Jpeg,
    WebP,
}

impl LogoFormat {
    pub fn label(self) -> &'static str {
        match self {
            LogoFormat::Png => "PNG",
            LogoFormat::Jpeg => "JPEG",
            LogoFormat::WebP => "WebP",
        }
    }

    /// The format the first bytes announce. Decoding still has to succeed: a PNG signature in
    /// front of HTML is sniffed as PNG here and refused by the decoder.
    pub fn sniff(bytes: &[u8]) -> Result<LogoFormat, LogoError> {
        if bytes.is_empty() {
            return Err(LogoError::Empty);
        }
        if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return Ok(LogoFormat::Png);
        }
        if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            return Ok(LogoFormat::Jpeg);
        }
        if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
            return Ok(LogoFormat::WebP);
        }
        if looks_like_svg(bytes) {
            return Err(LogoError::Svg);
        }
        Err(LogoError::UnsupportedFormat)
    }
}

/// SVG (and XML that might be SVG) deserves its own message: it is a common logo format that we
/// refuse on purpose, because it can carry scripts.
fn looks_like_svg(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(1024)];
    let text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let text = text.trim_start_matches('\u{feff}').trim_start();
    text.contains("<svg") || (text.starts_with("<?xml") && !text.contains("<html"))
}

/// Why a logo was refused, in words for the person who uploaded it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LogoError {
    #[error("The chosen file is empty. Choose a PNG, JPEG or WebP image.")]
    Empty,
    #[error("The logo is larger than 1 MB. Upload a smaller PNG, JPEG or WebP image.")]
    TooLarge,
    #[error("SVG logos are not accepted; upload PNG, JPEG or WebP.")]
    Svg,
    #[error("This file is not a PNG, JPEG or WebP image. Upload one of those formats.")]
    UnsupportedFormat,
    #[error(
        "The image declares more than 4096 × 4096 pixels (or would need too much memory to open). Upload a logo of at most 4096 × 4096 pixels."
    )]
    DimensionsTooLarge,
    #[error(
        "This file starts like a {0} image but is not a valid one, so it was not accepted. Export the logo again and upload the new file."
    )]
    Corrupt(&'static str),
}

/// Where a logo ends up after decoding: fit within `STORED_MAX_SIDE` × `STORED_MAX_SIDE`,
/// keeping the aspect ratio; small logos stay as they are.
pub fn stored_size(width: u32, height: u32) -> (u32, u32) {
    let largest = width.max(height);
    if largest <= STORED_MAX_SIDE || width == 0 || height == 0 {
        return (width, height);
    }
    let scale = |side: u32| {
        let scaled = u64::from(side) * u64::from(STORED_MAX_SIDE) / u64::from(largest);
        u32::try_from(scaled).unwrap_or(STORED_MAX_SIDE).max(1)
    };
    (scale(width), scale(height))
}

/// A partner's brand name as clients see it on the onboarding pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrandName(String);

impl BrandName {
    pub const MAX_CHARS: usize = crate::limits::BRAND_NAME_CHARS;

    /// Trimmed, 1 to 80 characters, no control characters.
    pub fn parse(input: &str) -> Result<Self, crate::FieldError> {
        let name = input.trim();
        if name.is_empty() {
            return Err(crate::FieldError::new("brand_name", "is required"));
        }
        if name.chars().count() > Self::MAX_CHARS {
            return Err(crate::FieldError::new(
                "brand_name",
                format!("must be at most {} characters", Self::MAX_CHARS),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(crate::FieldError::new(
                "brand_name",
                "must not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_told_by_their_bytes() {
        assert_eq!(
            LogoFormat::sniff(b"\x89PNG\r\n\x1a\n<html>"),
            Ok(LogoFormat::Png)
        );
        assert_eq!(
            LogoFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Ok(LogoFormat::Jpeg)
        );
        assert_eq!(
            LogoFormat::sniff(b"RIFF\x10\0\0\0WEBPVP8L"),
            Ok(LogoFormat::WebP)
        );
        assert_eq!(
            LogoFormat::sniff(b"\xef\xbb\xbf  <svg xmlns='http://www.w3.org/2000/svg'><script/>"),
            Err(LogoError::Svg),
            "a byte-order mark and spaces before the SVG change nothing"
        );
        assert_eq!(
            LogoFormat::sniff(b"  <?xml version='1.0'?><svg/>"),
            Err(LogoError::Svg)
        );
        assert_eq!(
            LogoFormat::sniff(b"<svg><script>alert(1)</script></svg>"),
            Err(LogoError::Svg)
        );
        assert_eq!(
            LogoFormat::sniff(b"GIF89a\x01\0\x01\0"),
            Err(LogoError::UnsupportedFormat)
        );
        assert_eq!(
            LogoFormat::sniff(b"<html>"),
            Err(LogoError::UnsupportedFormat)
        );
        assert_eq!(LogoFormat::sniff(b""), Err(LogoError::Empty));
    }

    #[test]
    fn stored_size_fits_the_square_and_keeps_the_ratio() {
        assert_eq!(stored_size(2000, 1000), (512, 256));
        assert_eq!(stored_size(1000, 4000), (128, 512));
        assert_eq!(stored_size(300, 200), (300, 200));
        assert_eq!(stored_size(4096, 1), (512, 1));
    }

    #[test]
    fn brand_names_are_trimmed_and_bounded() {
        assert_eq!(
            BrandName::parse("  Acme Cloud ").map(|b| b.0),
            Ok("Acme Cloud".into())
        );
        assert!(BrandName::parse("  ").is_err());
        assert!(BrandName::parse(&"é".repeat(80)).is_ok());
        assert!(BrandName::parse(&"é".repeat(81)).is_err());
        assert!(BrandName::parse("a\nb").is_err());
    }
}
