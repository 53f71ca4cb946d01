//! Two small readings of text that settings, links and headers share.

/// The items of a list written with commas and/or whitespace between them
/// (`"a, b c"`), empty items skipped.
pub fn list_items(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c == ',' || c.is_whitespace()).filter(|item| !item.is_empty())
}

/// The first three digits of a decimal fraction as thousandths (`"5"` is
/// 500, `"125"` is 125, `"12345"` is 123). `digits` must be ASCII digits
/// only; callers check that, and how many they accept.
pub fn thousandths(digits: &str) -> u16 {
    digits.bytes().chain(std::iter::repeat(b'0')).take(3).fold(0, |n, d| n * 10 + u16::from(d - b'0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_split_on_commas_and_whitespace() {
        assert_eq!(list_items(" a, b\tc,,d\n").collect::<Vec<_>>(), ["a", "b", "c", "d"]);
        assert_eq!(list_items(" , ").count(), 0);
    }

    #[test]
    fn fractions_read_to_thousandths() {
        assert_eq!([thousandths(""), thousandths("5"), thousandths("125"), thousandths("12345")], [0, 500, 125, 123]);
    }
}
