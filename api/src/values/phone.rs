//! Phone numbers as residents write them, and as others may see them.
use crate::error::{AppError, AppResult};

/// A phone number someone can be called on: a mainland mobile number (1[3-9] and 9 more
/// digits), or a landline: 7–8 digits not starting with 0 or 1, optionally after an area code
/// (0 and 2–3 digits, then an optional dash), as residents write them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(field: &str, value: &str) -> AppResult<Self> {
        let value = value.trim();
        if is_mobile(value) || is_landline(value) {
            Ok(Self(value.to_owned()))
        } else {
            Err(AppError::bad_input(format!(
                "{field} must be a mobile number like 13812341234 or a landline like 0531-88888888"
            )))
        }
    }
}

impl AsRef<str> for Phone {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl From<Phone> for String {
    fn from(phone: Phone) -> Self {
        phone.0
    }
}

fn all_digits(value: &str) -> bool {
    !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit())
}

fn is_mobile(value: &str) -> bool {
    value.len() == 11
        && all_digits(value)
        && value.starts_with('1')
        && matches!(value.as_bytes()[1], b'3'..=b'9')
}

fn is_local_number(value: &str) -> bool {
    (7..=8).contains(&value.len())
        && all_digits(value)
        && matches!(value.as_bytes()[0], b'2'..=b'9')
}

fn is_landline(value: &str) -> bool {
    if is_local_number(value) {
        return true;
    }
    let (area, local) = match value.split_once('-') {
        Some(parts) => parts,
        // Without a dash, an area code of 3 or 4 digits: try both.
        None => {
            return [3, 4].iter().any(|&n| {
                value.len() > n && is_area_code(&value[..n]) && is_local_number(&value[n..])
            });
        }
    };
    is_area_code(area) && is_local_number(local)
}

fn is_area_code(value: &str) -> bool {
    (3..=4).contains(&value.len()) && all_digits(value) && value.starts_with('0') && value != "000"
}

/// Shows the first three and last four digits: 138****1234.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 7))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_are_checked() {
        for good in [
            "13812341234",
            "0531-8888888",
            "053188888888",
            "010-62345678",
            "88888888",
        ] {
            assert!(Phone::parse("phone", good).is_ok(), "{good}");
        }
        for bad in [
            "0000000",
            "call me",
            "1-2-3-4-5-6-7",
            "12812341234",
            "1381234123",
            "0531-0888888",
            "000-88888888",
        ] {
            assert!(Phone::parse("phone", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_are_masked_in_the_middle() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("0531-8888888"), "053*****8888");
        assert_eq!(mask_phone("12345"), "*****");
    }
}
