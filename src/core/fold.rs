//! Text as the most lenient reader a check must expect would read it: one
//! that ignores case the Unicode way (Java's `equalsIgnoreCase` takes `ſ`
//! for `s` and the Kelvin sign `K` for `k`), reads compatibility forms as
//! ASCII (NFKC, or Windows' "best fit": `ｕ` and `𝐮` for `u`), and skips
//! invisible characters. Used only to ask whether text *names* something
//! reserved, never to rewrite what is sent on: folding too much can only
//! refuse, never let through.
//!
//! The checks look for ASCII words, so only what folds *to ASCII* matters:
//! every other character is kept as it is. That is why this is a few ranges
//! and two short tables, checked against std's case mappings and the Unicode
//! data in the tests, rather than `char::to_lowercase` (whose tables cost the
//! wasm 29 KB) or a normalisation crate.

/// `text` with ASCII lower-cased, every character that a Unicode case
/// mapping or NFKC case fold turns into ASCII letters as those letters
/// (`ſ`, `K`, `ı`, `İ`, `ｕ`, `𝐮`, `ᵘ`, `ß`, `ﬁ`...), full-width ASCII as
/// ASCII, and invisible characters dropped.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            if !invisible(c) {
                out.push(c.to_ascii_lowercase());
            }
        } else if let Some(ascii) = ascii_letter(c) {
            out.push(ascii);
        } else if let Some(letters) = ascii_letters(c) {
            out.push_str(letters);
        } else if !invisible(c) {
            out.push(c);
        }
    }
    out
}

/// The ASCII a non-ASCII character stands for, lower-cased, if one character.
fn ascii_letter(c: char) -> Option<char> {
    let letter = |offset: u32| char::from(b'a' + (offset % 26) as u8);
    let cp = u32::from(c);
    match cp {
        0xFF01..=0xFF5E => char::from_u32(cp - 0xFEE0).map(|a| a.to_ascii_lowercase()),
        0x3000 => Some(' '),
        // Mathematical letters: alphabets of A-Z then a-z (the reserved holes fold too).
        0x1D400..=0x1D6A3 => Some(letter((cp - 0x1D400) % 52)),
        0x24B6..=0x24E9 => Some(letter(cp - 0x24B6)),    // circled
        0x1F130..=0x1F149 => Some(letter(cp - 0x1F130)), // squared
        _ => {
            let mut pairs = COMPATIBILITY_LETTERS.chars();
            while let (Some(form), Some(ascii)) = (pairs.next(), pairs.next()) {
                if form == c {
                    return Some(ascii);
                }
            }
            None
        }
    }
}

/// The other characters whose NFKC case fold is one ASCII letter (modifier
/// and subscript letters, letterlike symbols, Roman numerals, `ſ`, `K`...),
/// and those whose case mappings give one (`ı` and `İ`, and letters whose
/// capital takes a combining mark, as `ǰ`), each followed by that letter.
const COMPATIBILITY_LETTERS: &str = "\u{AA}a\u{BA}o\u{130}i\u{131}i\u{17F}s\u{1F0}j\u{2B0}h\u{2B2}j\u{2B3}r\u{2B7}w\
    \u{2B8}y\u{2E1}l\u{2E2}s\u{2E3}x\u{1D2C}a\u{1D2E}b\u{1D30}d\u{1D31}e\u{1D33}g\u{1D34}h\u{1D35}i\u{1D36}j\u{1D37}k\
    \u{1D38}l\u{1D39}m\u{1D3A}n\u{1D3C}o\u{1D3E}p\u{1D3F}r\u{1D40}t\u{1D41}u\u{1D42}w\u{1D43}a\u{1D47}b\u{1D48}d\
    \u{1D49}e\u{1D4D}g\u{1D4F}k\u{1D50}m\u{1D52}o\u{1D56}p\u{1D57}t\u{1D58}u\u{1D5B}v\u{1D62}i\u{1D63}r\u{1D64}u\
    \u{1D65}v\u{1D9C}c\u{1DA0}f\u{1DBB}z\u{1E96}h\u{1E97}t\u{1E98}w\u{1E99}y\u{2071}i\u{207F}n\u{2090}a\u{2091}e\
    \u{2092}o\u{2093}x\u{2095}h\u{2096}k\u{2097}l\u{2098}m\u{2099}n\u{209A}p\u{209B}s\u{209C}t\u{2102}c\u{210A}g\
    \u{210B}h\u{210C}h\u{210D}h\u{210E}h\u{2110}i\u{2111}i\u{2112}l\u{2113}l\u{2115}n\u{2119}p\u{211A}q\u{211B}r\
    \u{211C}r\u{211D}r\u{2124}z\u{2128}z\u{212A}k\u{212C}b\u{212D}c\u{212F}e\u{2130}e\u{2131}f\u{2133}m\u{2134}o\
    \u{2139}i\u{2145}d\u{2146}d\u{2147}e\u{2148}i\u{2149}j\u{2160}i\u{2164}v\u{2169}x\u{216C}l\u{216D}c\u{216E}d\
    \u{216F}m\u{2170}i\u{2174}v\u{2179}x\u{217C}l\u{217D}c\u{217E}d\u{217F}m\u{2C7C}j\u{2C7D}v\u{A7F2}c\u{A7F3}f\
    \u{A7F4}q\u{107A5}q\u{1F12B}c\u{1F12C}r";

/// Latin letters that case-fold (or NFKC-fold) to several ASCII letters:
/// sharp s, the ligatures and the digraphs.
fn ascii_letters(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{DF}' | '\u{1E9E}' => "ss",
        '\u{132}' | '\u{133}' => "ij",
        '\u{1C7}'..='\u{1C9}' => "lj",
        '\u{1CA}'..='\u{1CC}' => "nj",
        '\u{1F1}'..='\u{1F3}' => "dz",
        '\u{FB00}' => "ff",
        '\u{FB01}' => "fi",
        '\u{FB02}' => "fl",
        '\u{FB03}' => "ffi",
        '\u{FB04}' => "ffl",
        '\u{FB05}' | '\u{FB06}' => "st",
        _ => return None,
    })
}

/// Characters a reader may skip without a trace: Unicode's default-ignorable
/// code points (soft hyphen, zero-width and bidi controls, variation
/// selectors, tags...), combining diacritics (a decomposed `ú` reads as `u`),
/// and the tab and newlines URL parsers strip.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n'
            | '\r'
            | '\u{AD}'
            | '\u{300}'..='\u{36F}'
            | '\u{61C}'
            | '\u{115F}'
            | '\u{1160}'
            | '\u{17B4}'
            | '\u{17B5}'
            | '\u{180B}'..='\u{180F}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}'
            | '\u{3164}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FEFF}'
            | '\u{FFA0}'
            | '\u{FFF0}'..='\u{FFF8}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0000}'..='\u{E0FFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code point whose NFKC case fold is one ASCII letter, from
    /// Unicode 15.1 (Python 3.13's `unicodedata`), as runs: `1D400=a+26` is
    /// U+1D400..U+1D419 folding to a..z. Generated by:
    /// `[c for c in map(chr, range(0x80, 0x110000)) if len(f := NFKC(NFKC(c).casefold())) == 1 and 'a' <= f <= 'z']`
    const NFKC_LETTERS: &str = "
        AA=a BA=o 17F=s 2B0=h 2B2=j 2B3=r 2B7=w 2B8=y 2E1=l 2E2=s 2E3=x 1D2C=a 1D2E=b 1D30=d+2 1D33=g+8
        1D3C=o 1D3E=p 1D3F=r 1D40=t+2 1D42=w 1D43=a 1D47=b 1D48=d+2 1D4D=g 1D4F=k 1D50=m 1D52=o 1D56=p
        1D57=t+2 1D5B=v 1D62=i 1D63=r 1D64=u+2 1D9C=c 1DA0=f 1DBB=z 2071=i 207F=n 2090=a 2091=e 2092=o
        2093=x 2095=h 2096=k+4 209A=p 209B=s+2 2102=c 210A=g+2 210C=h 210D=h 210E=h 2110=i 2111=i 2112=l
        2113=l 2115=n 2119=p+3 211C=r 211D=r 2124=z 2128=z 212A=k 212C=b+2 212F=e 2130=e+2 2133=m 2134=o
        2139=i 2145=d 2146=d+2 2148=i+2 2160=i 2164=v 2169=x 216C=l 216D=c+2 216F=m 2170=i 2174=v 2179=x
        217C=l 217D=c+2 217F=m 24B6=a+26 24D0=a+26 2C7C=j 2C7D=v A7F2=c A7F3=f A7F4=q FF21=a+26
        FF41=a+26 107A5=q 1D400=a+26 1D41A=a+26 1D434=a+26 1D44E=a+7 1D456=i+18 1D468=a+26 1D482=a+26
        1D49C=a 1D49E=c+2 1D4A2=g 1D4A5=j+2 1D4A9=n+4 1D4AE=s+8 1D4B6=a+4 1D4BB=f 1D4BD=h+7 1D4C5=p+11
        1D4D0=a+26 1D4EA=a+26 1D504=a+2 1D507=d+4 1D50D=j+8 1D516=s+7 1D51E=a+26 1D538=a+2 1D53B=d+4
        1D540=i+5 1D546=o 1D54A=s+7 1D552=a+26 1D56C=a+26 1D586=a+26 1D5A0=a+26 1D5BA=a+26 1D5D4=a+26
        1D5EE=a+26 1D608=a+26 1D622=a+26 1D63C=a+26 1D656=a+26 1D670=a+26 1D68A=a+26 1F12B=c 1F12C=r
        1F130=a+26";

    /// Every assigned code point above ASCII: planes 4 to 13 are empty and
    /// 15 and 16 private, so skipping them keeps the exhaustive tests quick.
    fn non_ascii() -> impl Iterator<Item = char> {
        (0x80..=0x3FFFF).chain(0xE0000..=0xE0FFF).filter_map(char::from_u32)
    }

    fn nfkc_letters() -> Vec<(char, char)> {
        let mut all = Vec::new();
        for run in NFKC_LETTERS.split_whitespace() {
            let (start, rest) = run.split_once('=').unwrap();
            let (first, count) = rest.split_once('+').unwrap_or((rest, "1"));
            let (start, first, count) =
                (u32::from_str_radix(start, 16).unwrap(), first.as_bytes()[0], count.parse::<u32>().unwrap());
            for i in 0..count {
                all.push((char::from_u32(start + i).unwrap(), char::from(first + i as u8)));
            }
        }
        all
    }

    #[test]
    fn every_character_nfkc_reads_as_one_ascii_letter_folds_to_it() {
        let letters = nfkc_letters();
        assert_eq!(letters.len(), 898);
        for (c, ascii) in letters {
            assert_eq!(fold(&c.to_string()), ascii.to_string(), "U+{:04X} {c}", u32::from(c));
        }
    }

    #[test]
    fn nothing_else_folds_to_one_ascii_letter_but_case_mappings_and_unassigned_math_letters() {
        let nfkc: std::collections::HashSet<char> = nfkc_letters().into_iter().map(|(c, _)| c).collect();
        let by_case = |c: char| {
            let both: String = c.to_uppercase().flat_map(char::to_lowercase).filter(|l| !invisible(*l)).collect();
            both.len() == 1 && both.as_bytes()[0].is_ascii_lowercase()
        };
        for c in non_ascii() {
            let folded = fold(&c.to_string());
            if folded.len() == 1 && folded.as_bytes()[0].is_ascii_alphabetic() {
                let hole = (0x1D400..=0x1D6A3).contains(&u32::from(c));
                assert!(nfkc.contains(&c) || by_case(c) || hole, "U+{:04X} {c} folds to {folded}", u32::from(c));
            }
        }
    }

    #[test]
    fn case_folds_both_ways() {
        // Long s, Kelvin sign, dotless i, dotted capital I; sharp s, ligatures, digraphs.
        assert_eq!(fold("\u{17F}\u{212A}\u{131}\u{130}"), "skii");
        assert_eq!(fold("UP\u{17F}COPE"), "upscope");
        assert_eq!(fold("Stra\u{DF}e \u{1E9E} \u{FB01}\u{FB03}\u{FB06}"), "strasse ss fiffist");
        assert_eq!(
            fold("\u{132}\u{133}\u{1C7}\u{1C8}\u{1C9}\u{1CA}\u{1CB}\u{1CC}\u{1F1}\u{1F2}\u{1F3}"),
            "ijijljljljnjnjnjdzdzdz"
        );
        // Anything whose lower case, upper case or both (std's full mappings)
        // is ASCII letters, combining marks aside, folds to them, lower-cased.
        for c in non_ascii() {
            let both = c.to_uppercase().flat_map(char::to_lowercase).collect::<String>();
            for mapped in [c.to_lowercase().to_string(), c.to_uppercase().to_string(), both] {
                let ascii = mapped.chars().filter(|m| !invisible(*m)).collect::<String>();
                if !ascii.is_empty() && ascii.bytes().all(|b| b.is_ascii_alphabetic()) {
                    assert_eq!(fold(&c.to_string()), ascii.to_ascii_lowercase(), "U+{:04X}", u32::from(c));
                }
            }
        }
    }

    #[test]
    fn only_ascii_is_lower_cased_since_the_checks_look_for_ascii() {
        assert_eq!(fold("\u{C9}\u{416}\u{394}"), "\u{C9}\u{416}\u{394}");
    }

    #[test]
    fn full_width_ascii_and_invisible_characters() {
        assert_eq!(fold("\u{FF35}\u{FF30}\u{FF3F}\u{FF05}\u{FF1A}\u{3000}"), "up_%: ");
        assert_eq!(fold("up\u{AD}s\u{200B}c\u{FEFF}o\u{2060}p\u{E0041}e\t\n"), "upscope");
        assert_eq!(fold("u\u{301}pscope"), "upscope");
        // What is not a look-alike stays as it is.
        assert_eq!(fold("caf\u{E9} \u{4E2D}\u{6587} \u{43E}"), "caf\u{E9} \u{4E2D}\u{6587} \u{43E}");
        assert_eq!(fold("ASCII stays, lower-cased: A-Z_0-9"), "ascii stays, lower-cased: a-z_0-9");
    }
}
