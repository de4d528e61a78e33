//! Input rules shared by every domain: they trim, bound and explain.
use crate::error::{AppError, AppResult};

/// Trims `value` and checks it has between `min` and `max` characters.
pub fn text(field: &str, value: &str, min: usize, max: usize) -> AppResult<String> {
    let value = value.trim();
    let length = value.chars().count();
    if length < min {
        return Err(if min == 1 {
            AppError::bad_input(format!("{field} must not be empty"))
        } else {
            AppError::bad_input(format!("{field} must have at least {min} characters"))
        });
    }
    if length > max {
        return Err(AppError::bad_input(format!(
            "{field} must have at most {max} characters"
        )));
    }
    Ok(value.to_owned())
}

/// Optional free text: empty means absent.
pub fn optional_text(field: &str, value: Option<&str>, max: usize) -> AppResult<Option<String>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => text(field, value, 1, max).map(Some),
    }
}

/// A mainland mobile number (11 digits starting with 1), or a landline of 7–12 digits with an
/// optional area-code dash, as residents write them.
pub fn phone(field: &str, value: &str) -> AppResult<String> {
    let value = value.trim();
    let digits: String = value.chars().filter(|c| *c != '-').collect();
    let dashes = value.len() - digits.len();
    if dashes <= 1 && (7..=12).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
    {
        Ok(value.to_owned())
    } else {
        Err(AppError::bad_input(format!(
            "{field} must be a phone number, e.g. 13812341234"
        )))
    }
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
    fn text_is_trimmed_and_bounded() {
        assert_eq!(text("title", "  修水管 ", 1, 10).expect("ok"), "修水管");
        assert!(text("title", "   ", 1, 10).is_err());
        assert!(text("title", &"长".repeat(11), 1, 10).is_err());
    }

    #[test]
    fn phone_numbers_are_checked() {
        assert!(phone("phone", "13812341234").is_ok());
        assert!(phone("phone", "0531-8888888").is_ok());
        assert!(phone("phone", "call me").is_err());
        assert!(phone("phone", "1-2-3-4-5-6-7").is_err());
    }

    #[test]
    fn phones_are_masked_in_the_middle() {
        assert_eq!(mask_phone("13812341234"), "138****1234");
        assert_eq!(mask_phone("0531-8888888"), "053*****8888");
        assert_eq!(mask_phone("12345"), "*****");
    }
}
