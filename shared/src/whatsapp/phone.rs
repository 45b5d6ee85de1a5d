//! Who a message goes to: a phone number in any common notation, normalised to the digits Meta
//! expects in `to`, or a business-scoped user id (BSUID) that Meta expects in `recipient`.

use std::fmt;
use std::str::FromStr;

/// Shown in every error so the caller knows what to send instead.
const EXPECTED: &str = "use the full international number with its country code, like \
                        +1 555 123 4567 or 15551234567, or a WhatsApp user id like \
                        US.13491208655302741918";

/// E.164 allows at most 15 digits; no country's full number has fewer than 8.
const MIN_DIGITS: usize = 8;
const MAX_DIGITS: usize = 15;

/// Meta's documented BSUID form: `CC.` then up to 128 alphanumerics, `CC.ENT.` for a parent BSUID.
const BSUID_MIN_ID: usize = 10;
const BSUID_MAX_ID: usize = 128;

/// A WhatsApp recipient, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Recipient {
    /// Digits with the country code, no `+` (E.164 without the plus), sent as `to`.
    Phone(String),
    /// A business-scoped user id such as `US.13491208655302741918`, sent as `recipient`.
    Bsuid(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhoneError {
    #[error("the recipient is empty: {EXPECTED}")]
    Empty,
    #[error("{input:?} is not a phone number ({found:?} is not allowed): {EXPECTED}")]
    InvalidCharacter { input: String, found: char },
    #[error("{input:?} has a '+' that is not at the start: {EXPECTED}")]
    MisplacedPlus { input: String },
    #[error("{input:?} looks like a local number (it starts with 0): {EXPECTED}")]
    MissingCountryCode { input: String },
    #[error(
        "{input:?} has {digits} digits, too few for a number with its country code \
         (at least {MIN_DIGITS}): {EXPECTED}"
    )]
    TooShort { input: String, digits: usize },
    #[error(
        "{input:?} has {digits} digits, more than the {MAX_DIGITS} a phone number can have: {EXPECTED}"
    )]
    TooLong { input: String, digits: usize },
}

impl Recipient {
    /// Reads a phone number in any common notation (`+1 (555) 123-4567`, `00971 50 123 4567`,
    /// `15551234567`, dots, dashes, spaces) or a BSUID.
    pub fn parse(input: &str) -> Result<Self, PhoneError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(PhoneError::Empty);
        }
        if is_bsuid(input) {
            return Ok(Self::Bsuid(input.to_owned()));
        }
        normalise_phone(input).map(Self::Phone)
    }

    /// The value Meta expects: the digits, or the BSUID.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Phone(digits) => digits,
            Self::Bsuid(id) => id,
        }
    }

    pub fn is_bsuid(&self) -> bool {
        matches!(self, Self::Bsuid(_))
    }
}

impl FromStr for Recipient {
    type Err = PhoneError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Self::parse(input)
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn is_bsuid(input: &str) -> bool {
    let Some((country, id)) = input.split_once('.') else {
        return false;
    };
    let id = id.strip_prefix("ENT.").unwrap_or(id);
    country.len() == 2
        && country.bytes().all(|b| b.is_ascii_uppercase())
        && (BSUID_MIN_ID..=BSUID_MAX_ID).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_alphanumeric())
        // At least one digit: keeps words such as "US.CALLCENTER" from passing as ids.
        && id.bytes().any(|b| b.is_ascii_digit())
}

fn normalise_phone(input: &str) -> Result<String, PhoneError> {
    // "+44 (0) 20 …": the bracketed 0 is the national trunk prefix, dialled only from inside the
    // country, so it is not part of the international number.
    let international = input.starts_with('+') || input.starts_with("00");
    let cleaned = if international {
        input.replace("(0)", "")
    } else {
        input.to_owned()
    };

    let mut digits = String::with_capacity(cleaned.len());
    for (at, c) in cleaned.char_indices() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if at == 0 => {}
            '+' => {
                return Err(PhoneError::MisplacedPlus {
                    input: input.to_owned(),
                });
            }
            ' ' | '\u{a0}' | '\t' | '-' | '.' | '(' | ')' | '/' => {}
            found => {
                return Err(PhoneError::InvalidCharacter {
                    input: input.to_owned(),
                    found,
                });
            }
        }
    }

    // "00" is the international call prefix in most of the world: what follows is the country code.
    let digits = match digits.strip_prefix("00") {
        Some(rest) if !cleaned.starts_with('+') => rest.to_owned(),
        _ => digits,
    };
    if digits.is_empty() {
        return Err(PhoneError::Empty);
    }
    if digits.starts_with('0') {
        return Err(PhoneError::MissingCountryCode {
            input: input.to_owned(),
        });
    }
    match digits.len() {
        n if n < MIN_DIGITS => Err(PhoneError::TooShort {
            input: input.to_owned(),
            digits: n,
        }),
        n if n > MAX_DIGITS => Err(PhoneError::TooLong {
            input: input.to_owned(),
            digits: n,
        }),
        _ => Ok(digits),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_notations_normalise_to_international_digits() {
        let cases = [
            ("+1 (555) 123-4567", "15551234567"),
            ("+1 555 123 4567", "15551234567"),
            ("+1-555-123-4567", "15551234567"),
            ("+1.555.123.4567", "15551234567"),
            ("1 (555) 123-4567", "15551234567"),
            ("15551234567", "15551234567"),
            ("+15551234567", "15551234567"),
            ("  +15551234567\n", "15551234567"),
            ("00971 50 123 4567", "971501234567"),
            ("00971501234567", "971501234567"),
            ("+971 50 123 4567", "971501234567"),
            ("+44 20 7946 0958", "442079460958"),
            ("+44 (0) 20 7946 0958", "442079460958"),
            ("0044 (0)20 7946 0958", "442079460958"),
            ("+49 30/1234567", "49301234567"),
            ("+91\u{a0}98765\u{a0}43210", "919876543210"),
            ("+55 (11) 91234-5678", "5511912345678"),
            ("+86 138 0013 8000", "8613800138000"),
            ("+1\t555\t123\t4567", "15551234567"),
            ("12345678", "12345678"),
            ("123456789012345", "123456789012345"),
        ];
        for (input, want) in cases {
            assert_eq!(
                Recipient::parse(input),
                Ok(Recipient::Phone(want.to_owned())),
                "{input:?}"
            );
        }
    }

    #[test]
    fn bsuids_are_kept_verbatim() {
        for input in [
            "US.13491208655302741918",
            "BR.1A2B3C4D5E6F7G8H",
            "US.ENT.11815799212886844830",
            " AE.1234567890 ",
        ] {
            assert_eq!(
                Recipient::parse(input),
                Ok(Recipient::Bsuid(input.trim().to_owned())),
                "{input:?}"
            );
        }
    }

    #[test]
    fn junk_is_refused_with_the_reason() {
        use PhoneError as E;
        let input = |s: &str| s.to_owned();
        let cases = [
            ("", E::Empty),
            ("   ", E::Empty),
            ("+", E::Empty),
            ("() - .", E::Empty),
            (
                "call me",
                E::InvalidCharacter {
                    input: input("call me"),
                    found: 'c',
                },
            ),
            (
                "+1 555 CALL NOW",
                E::InvalidCharacter {
                    input: input("+1 555 CALL NOW"),
                    found: 'C',
                },
            ),
            (
                "+1 555 123 4567 ext 2",
                E::InvalidCharacter {
                    input: input("+1 555 123 4567 ext 2"),
                    found: 'e',
                },
            ),
            (
                "15551234567;",
                E::InvalidCharacter {
                    input: input("15551234567;"),
                    found: ';',
                },
            ),
            (
                "us.13491208655302741918",
                E::InvalidCharacter {
                    input: input("us.13491208655302741918"),
                    found: 'u',
                },
            ),
            (
                "US.123",
                E::InvalidCharacter {
                    input: input("US.123"),
                    found: 'U',
                },
            ),
            (
                "1555+1234567",
                E::MisplacedPlus {
                    input: input("1555+1234567"),
                },
            ),
            (
                "++15551234567",
                E::MisplacedPlus {
                    input: input("++15551234567"),
                },
            ),
            (
                "050 123 4567",
                E::MissingCountryCode {
                    input: input("050 123 4567"),
                },
            ),
            (
                "+0 555 123 4567",
                E::MissingCountryCode {
                    input: input("+0 555 123 4567"),
                },
            ),
            (
                "000971501234567",
                E::MissingCountryCode {
                    input: input("000971501234567"),
                },
            ),
            (
                "+1 555 123",
                E::TooShort {
                    input: input("+1 555 123"),
                    digits: 7,
                },
            ),
            (
                "0012345",
                E::TooShort {
                    input: input("0012345"),
                    digits: 5,
                },
            ),
            (
                "+1234567890123456",
                E::TooLong {
                    input: input("+1234567890123456"),
                    digits: 16,
                },
            ),
        ];
        for (input, want) in cases {
            assert_eq!(Recipient::parse(input), Err(want), "{input:?}");
        }
    }

    #[test]
    fn errors_say_what_a_valid_number_looks_like() {
        let message = Recipient::parse("not a number").unwrap_err().to_string();
        assert!(message.contains("+1 555 123 4567"), "{message}");
        assert!(message.contains("country code"), "{message}");
    }

    #[test]
    fn displays_what_meta_expects() {
        let phone: Recipient = "+1 (555) 123-4567".parse().unwrap();
        assert_eq!(phone.to_string(), "15551234567");
        assert!(!phone.is_bsuid());
        let bsuid: Recipient = "US.13491208655302741918".parse().unwrap();
        assert_eq!(bsuid.as_str(), "US.13491208655302741918");
        assert!(bsuid.is_bsuid());
    }
}
