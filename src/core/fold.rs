//! Text as the most lenient reader a check must expect would read it: one
//! that ignores case the Unicode way (Java's `equalsIgnoreCase` takes `ſ`
//! for `s` and the Kelvin sign `K` for `k`), reads compatibility forms as
//! ASCII (NFKC, or Windows' "best fit": `ｕ` and `𝐮` for `u`), and skips
//! invisible characters. Used only to ask whether text *names* something
//! reserved, never to rewrite what is sent on: folding too much can only
//! refuse, never let through.
//!
//! The checks look for ASCII words and their separators (`viewer:`,
//! `service:`, `upscope`), so only what folds *to ASCII* matters: every
//! other character is kept as it is. That is why this is a few ranges and
//! one table (1.7 KB), checked in the tests against std's case mappings and
//! every code point whose NFKC case fold is ASCII, rather than
//! `char::to_lowercase` (whose tables cost the wasm 29 KB) or a
//! normalisation crate.

/// `text` with ASCII lower-cased, every character whose compatibility
/// form (NFKC) case fold, or whose Unicode case mapping, is ASCII as that
/// ASCII (`ſ`, `K`, `ı`, `İ`, `ｕ`, `𝐮`, `ᵘ`, `ß`, `ﬁ`, `ⅵ`, `﹕`, `︓`,
/// `㎰`...), and invisible characters dropped.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_ascii() {
            if !invisible(c) {
                out.push(c.to_ascii_lowercase());
            }
        } else if !push_ascii_form(c, &mut out) && !invisible(c) {
            out.push(c);
        }
    }
    out
}

/// Pushes the ASCII a non-ASCII character stands for, lower-cased;
/// `false` when it stands for none. Regular blocks are computed; the rest
/// is `COMPATIBILITY_FORMS`.
fn push_ascii_form(c: char, out: &mut String) -> bool {
    let letter = |offset: u32| char::from(b'a' + (offset % 26) as u8);
    let digit = |offset: u32| char::from(b'0' + (offset % 10) as u8);
    let cp = u32::from(c);
    match cp {
        0xFF01..=0xFF5E => out.push(char::from((cp - 0xFEE0) as u8).to_ascii_lowercase()), // full-width
        0x2000..=0x200A => out.push(' '),                                                  // en quad to hair space
        // Mathematical letters: alphabets of A-Z then a-z (the reserved holes fold too); digits.
        0x1D400..=0x1D6A3 => out.push(letter((cp - 0x1D400) % 52)),
        0x1D7CE..=0x1D7FF => out.push(digit(cp - 0x1D7CE)),
        0x1FBF0..=0x1FBF9 => out.push(digit(cp - 0x1FBF0)), // segmented digits
        0x24B6..=0x24E9 => out.push(letter(cp - 0x24B6)),   // circled letters
        0x1F130..=0x1F149 => out.push(letter(cp - 0x1F130)), // squared letters
        // Enclosed numbers: 1 to 20 circled, in parentheses and with a full stop; 21 to 50 circled.
        0x2460..=0x2473 => push_number(out, "", cp - 0x2460 + 1, ""),
        0x2474..=0x2487 => push_number(out, "(", cp - 0x2474 + 1, ")"),
        0x2488..=0x249B => push_number(out, "", cp - 0x2488 + 1, "."),
        0x3251..=0x325F => push_number(out, "", cp - 0x3251 + 21, ""),
        0x32B1..=0x32BF => push_number(out, "", cp - 0x32B1 + 36, ""),
        // Parenthesised letters.
        0x249C..=0x24B5 | 0x1F110..=0x1F129 => {
            let first = if cp < 0x1F110 { 0x249C } else { 0x1F110 };
            out.extend(['(', letter(cp - first), ')']);
        }
        _ => match compatibility_form(c) {
            Some(ascii) => out.push_str(ascii),
            None => return false,
        },
    }
    true
}

fn push_number(out: &mut String, before: &str, n: u32, after: &str) {
    out.push_str(before);
    if n >= 10 {
        out.push(char::from(b'0' + (n / 10) as u8));
    }
    out.push(char::from(b'0' + (n % 10) as u8));
    out.push_str(after);
}

/// Every other character whose NFKC case fold is ASCII (letters, digits,
/// punctuation, spaces, and several of them: `ⅵ` is `vi`, `㎰` is `ps`,
/// `﹕` and `︓` are `:`), and those whose case mappings give ASCII letters
/// (`ı`, `İ`, and letters whose capital takes a combining mark, as `ǰ`):
/// each character followed by its ASCII, in code point order, so that a
/// binary search finds it (`compatibility_form`). The test module checks
/// it against the Unicode data.
const COMPATIBILITY_FORMS: &str = "\
    \u{A0} \u{AA}a\u{B2}2\u{B3}3\u{B9}1\u{BA}o\u{DF}ss\u{130}i\u{131}i\u{132}ij\u{133}ij\u{17F}s\u{1C7}lj\u{1C8}lj\
    \u{1C9}lj\u{1CA}nj\u{1CB}nj\u{1CC}nj\u{1F0}j\u{1F1}dz\u{1F2}dz\u{1F3}dz\u{2B0}h\u{2B2}j\u{2B3}r\u{2B7}w\
    \u{2B8}y\u{2E1}l\u{2E2}s\u{2E3}x\u{37E};\u{1D2C}a\u{1D2E}b\u{1D30}d\u{1D31}e\u{1D33}g\u{1D34}h\u{1D35}i\
    \u{1D36}j\u{1D37}k\u{1D38}l\u{1D39}m\u{1D3A}n\u{1D3C}o\u{1D3E}p\u{1D3F}r\u{1D40}t\u{1D41}u\u{1D42}w\u{1D43}a\
    \u{1D47}b\u{1D48}d\u{1D49}e\u{1D4D}g\u{1D4F}k\u{1D50}m\u{1D52}o\u{1D56}p\u{1D57}t\u{1D58}u\u{1D5B}v\u{1D62}i\
    \u{1D63}r\u{1D64}u\u{1D65}v\u{1D9C}c\u{1DA0}f\u{1DBB}z\u{1E96}h\u{1E97}t\u{1E98}w\u{1E99}y\u{1E9E}ss\u{1FEF}`\
    \u{2024}.\u{2025}..\u{2026}...\u{202F} \u{203C}!!\u{2047}??\u{2048}?!\u{2049}!?\u{205F} \u{2070}0\u{2071}i\
    \u{2074}4\u{2075}5\u{2076}6\u{2077}7\u{2078}8\u{2079}9\u{207A}+\u{207C}=\u{207D}(\u{207E})\u{207F}n\u{2080}0\
    \u{2081}1\u{2082}2\u{2083}3\u{2084}4\u{2085}5\u{2086}6\u{2087}7\u{2088}8\u{2089}9\u{208A}+\u{208C}=\u{208D}(\
    \u{208E})\u{2090}a\u{2091}e\u{2092}o\u{2093}x\u{2095}h\u{2096}k\u{2097}l\u{2098}m\u{2099}n\u{209A}p\u{209B}s\
    \u{209C}t\u{20A8}rs\u{2100}a/c\u{2101}a/s\u{2102}c\u{2105}c/o\u{2106}c/u\u{210A}g\u{210B}h\u{210C}h\u{210D}h\
    \u{210E}h\u{2110}i\u{2111}i\u{2112}l\u{2113}l\u{2115}n\u{2116}no\u{2119}p\u{211A}q\u{211B}r\u{211C}r\u{211D}r\
    \u{2120}sm\u{2121}tel\u{2122}tm\u{2124}z\u{2128}z\u{212A}k\u{212C}b\u{212D}c\u{212F}e\u{2130}e\u{2131}f\
    \u{2133}m\u{2134}o\u{2139}i\u{213B}fax\u{2145}d\u{2146}d\u{2147}e\u{2148}i\u{2149}j\u{2160}i\u{2161}ii\
    \u{2162}iii\u{2163}iv\u{2164}v\u{2165}vi\u{2166}vii\u{2167}viii\u{2168}ix\u{2169}x\u{216A}xi\u{216B}xii\
    \u{216C}l\u{216D}c\u{216E}d\u{216F}m\u{2170}i\u{2171}ii\u{2172}iii\u{2173}iv\u{2174}v\u{2175}vi\u{2176}vii\
    \u{2177}viii\u{2178}ix\u{2179}x\u{217A}xi\u{217B}xii\u{217C}l\u{217D}c\u{217E}d\u{217F}m\u{24EA}0\u{2A74}::=\
    \u{2A75}==\u{2A76}===\u{2C7C}j\u{2C7D}v\u{3000} \u{3250}pte\u{32CC}hg\u{32CD}erg\u{32CE}ev\u{32CF}ltd\
    \u{3371}hpa\u{3372}da\u{3373}au\u{3374}bar\u{3375}ov\u{3376}pc\u{3377}dm\u{3378}dm2\u{3379}dm3\u{337A}iu\
    \u{3380}pa\u{3381}na\u{3383}ma\u{3384}ka\u{3385}kb\u{3386}mb\u{3387}gb\u{3388}cal\u{3389}kcal\u{338A}pf\
    \u{338B}nf\u{338E}mg\u{338F}kg\u{3390}hz\u{3391}khz\u{3392}mhz\u{3393}ghz\u{3394}thz\u{3396}ml\u{3397}dl\
    \u{3398}kl\u{3399}fm\u{339A}nm\u{339C}mm\u{339D}cm\u{339E}km\u{339F}mm2\u{33A0}cm2\u{33A1}m2\u{33A2}km2\
    \u{33A3}mm3\u{33A4}cm3\u{33A5}m3\u{33A6}km3\u{33A9}pa\u{33AA}kpa\u{33AB}mpa\u{33AC}gpa\u{33AD}rad\u{33B0}ps\
    \u{33B1}ns\u{33B3}ms\u{33B4}pv\u{33B5}nv\u{33B7}mv\u{33B8}kv\u{33B9}mv\u{33BA}pw\u{33BB}nw\u{33BD}mw\u{33BE}kw\
    \u{33BF}mw\u{33C2}a.m.\u{33C3}bq\u{33C4}cc\u{33C5}cd\u{33C7}co.\u{33C8}db\u{33C9}gy\u{33CA}ha\u{33CB}hp\
    \u{33CC}in\u{33CD}kk\u{33CE}km\u{33CF}kt\u{33D0}lm\u{33D1}ln\u{33D2}log\u{33D3}lx\u{33D4}mb\u{33D5}mil\
    \u{33D6}mol\u{33D7}ph\u{33D8}p.m.\u{33D9}ppm\u{33DA}pr\u{33DB}sr\u{33DC}sv\u{33DD}wb\u{33FF}gal\u{A7F2}c\
    \u{A7F3}f\u{A7F4}q\u{FB00}ff\u{FB01}fi\u{FB02}fl\u{FB03}ffi\u{FB04}ffl\u{FB05}st\u{FB06}st\u{FB29}+\u{FE10},\
    \u{FE13}:\u{FE14};\u{FE15}!\u{FE16}?\u{FE19}...\u{FE30}..\u{FE33}_\u{FE34}_\u{FE35}(\u{FE36})\u{FE37}{\
    \u{FE38}}\u{FE47}[\u{FE48}]\u{FE4D}_\u{FE4E}_\u{FE4F}_\u{FE50},\u{FE52}.\u{FE54};\u{FE55}:\u{FE56}?\u{FE57}!\
    \u{FE59}(\u{FE5A})\u{FE5B}{\u{FE5C}}\u{FE5F}#\u{FE60}&\u{FE61}*\u{FE62}+\u{FE63}-\u{FE64}<\u{FE65}>\u{FE66}=\
    \u{FE68}\\\u{FE69}$\u{FE6A}%\u{FE6B}@\u{107A5}q\u{1F100}0.\u{1F101}0,\u{1F102}1,\u{1F103}2,\u{1F104}3,\
    \u{1F105}4,\u{1F106}5,\u{1F107}6,\u{1F108}7,\u{1F109}8,\u{1F10A}9,\u{1F12B}c\u{1F12C}r\u{1F12D}cd\u{1F12E}wz\
    \u{1F14A}hv\u{1F14B}mv\u{1F14C}sd\u{1F14D}ss\u{1F14E}ppv\u{1F14F}wc\u{1F16A}mc\u{1F16B}md\u{1F16C}mr\
    \u{1F190}dj";

/// The ASCII `c` stands for in `COMPATIBILITY_FORMS`. Each entry starts at
/// its non-ASCII character, so from any byte the next entry is the next
/// byte that starts a non-ASCII character: a binary search over bytes.
fn compatibility_form(c: char) -> Option<&'static str> {
    let table = COMPATIBILITY_FORMS;
    let bytes = table.as_bytes();
    let entry_at_or_after = |at: usize| (at..bytes.len()).find(|&i| bytes[i] >= 0xC0).unwrap_or(bytes.len());
    // Entries starting in [low, high) are left; `low` is always an entry's start.
    let (mut low, mut high) = (0, bytes.len());
    while low < high {
        let middle = low + (high - low) / 2;
        let at = entry_at_or_after(middle);
        if at >= high {
            high = middle;
            continue;
        }
        let key = table[at..].chars().next()?;
        let ascii_from = at + key.len_utf8();
        let next = entry_at_or_after(ascii_from);
        match key.cmp(&c) {
            std::cmp::Ordering::Equal => return Some(&table[ascii_from..next]),
            std::cmp::Ordering::Less => low = next,
            std::cmp::Ordering::Greater => high = at,
        }
    }
    None
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

    /// Every code point whose NFKC case fold is ASCII (other than itself),
    /// from Unicode 14.0 (Python 3.11's `unicodedata`; Unicode 15.0 and 15.1
    /// add none), as runs: `1D400=a+26` is U+1D400..U+1D419 folding to a..z,
    /// `2000=%20*11` is U+2000..U+200A each folding to a space; `%XX` is an
    /// ASCII byte. Generated by:
    /// `{c: f for c in map(chr, range(0x80, 0x110000)) if (f := NFKC(NFKC(c).casefold())).isascii() and f}`
    const NFKC_ASCII: &str = "
        A0=%20 AA=a B2=2+2 B9=1 BA=o DF=ss 132=ij*2 17F=s 1C7=lj*3 1CA=nj*3 1F1=dz*3 2B0=h 2B2=j 2B3=r 2B7=w
        2B8=y 2E1=l 2E2=s 2E3=x 37E=; 1D2C=a 1D2E=b 1D30=d+2 1D33=g+8 1D3C=o 1D3E=p 1D3F=r 1D40=t+2 1D42=w
        1D43=a 1D47=b 1D48=d+2 1D4D=g 1D4F=k 1D50=m 1D52=o 1D56=p 1D57=t+2 1D5B=v 1D62=i 1D63=r 1D64=u+2 1D9C=c
        1DA0=f 1DBB=z 1E9E=ss 1FEF=` 2000=%20*11 2024=. 2025=.. 2026=... 202F=%20 203C=!! 2047=?? 2048=?!
        2049=!? 205F=%20 2070=0 2071=i 2074=4+6 207A=%2B 207C=%3D 207D=( 207E=) 207F=n 2080=0+10 208A=%2B
        208C=%3D 208D=( 208E=) 2090=a 2091=e 2092=o 2093=x 2095=h 2096=k+4 209A=p 209B=s+2 20A8=rs 2100=a/c
        2101=a/s 2102=c 2105=c/o 2106=c/u 210A=g+2 210C=h*3 2110=i*2 2112=l*2 2115=n 2116=no 2119=p+3 211C=r*2
        2120=sm 2121=tel 2122=tm 2124=z 2128=z 212A=k 212C=b+2 212F=e*2 2131=f 2133=m 2134=o 2139=i 213B=fax
        2145=d*2 2147=e 2148=i+2 2160=i 2161=ii 2162=iii 2163=iv 2164=v 2165=vi 2166=vii 2167=viii 2168=ix
        2169=x 216A=xi 216B=xii 216C=l 216D=c+2 216F=m 2170=i 2171=ii 2172=iii 2173=iv 2174=v 2175=vi 2176=vii
        2177=viii 2178=ix 2179=x 217A=xi 217B=xii 217C=l 217D=c+2 217F=m 2460=1+9 2469=10 246A=11 246B=12
        246C=13 246D=14 246E=15 246F=16 2470=17 2471=18 2472=19 2473=20 2474=(1) 2475=(2) 2476=(3) 2477=(4)
        2478=(5) 2479=(6) 247A=(7) 247B=(8) 247C=(9) 247D=(10) 247E=(11) 247F=(12) 2480=(13) 2481=(14) 2482=(15)
        2483=(16) 2484=(17) 2485=(18) 2486=(19) 2487=(20) 2488=1. 2489=2. 248A=3. 248B=4. 248C=5. 248D=6.
        248E=7. 248F=8. 2490=9. 2491=10. 2492=11. 2493=12. 2494=13. 2495=14. 2496=15. 2497=16. 2498=17. 2499=18.
        249A=19. 249B=20. 249C=(a) 249D=(b) 249E=(c) 249F=(d) 24A0=(e) 24A1=(f) 24A2=(g) 24A3=(h) 24A4=(i)
        24A5=(j) 24A6=(k) 24A7=(l) 24A8=(m) 24A9=(n) 24AA=(o) 24AB=(p) 24AC=(q) 24AD=(r) 24AE=(s) 24AF=(t)
        24B0=(u) 24B1=(v) 24B2=(w) 24B3=(x) 24B4=(y) 24B5=(z) 24B6=a+26 24D0=a+26 24EA=0 2A74=::%3D 2A75=%3D%3D
        2A76=%3D%3D%3D 2C7C=j 2C7D=v 3000=%20 3250=pte 3251=21 3252=22 3253=23 3254=24 3255=25 3256=26 3257=27
        3258=28 3259=29 325A=30 325B=31 325C=32 325D=33 325E=34 325F=35 32B1=36 32B2=37 32B3=38 32B4=39 32B5=40
        32B6=41 32B7=42 32B8=43 32B9=44 32BA=45 32BB=46 32BC=47 32BD=48 32BE=49 32BF=50 32CC=hg 32CD=erg 32CE=ev
        32CF=ltd 3371=hpa 3372=da 3373=au 3374=bar 3375=ov 3376=pc 3377=dm 3378=dm2 3379=dm3 337A=iu 3380=pa
        3381=na 3383=ma 3384=ka 3385=kb 3386=mb 3387=gb 3388=cal 3389=kcal 338A=pf 338B=nf 338E=mg 338F=kg
        3390=hz 3391=khz 3392=mhz 3393=ghz 3394=thz 3396=ml 3397=dl 3398=kl 3399=fm 339A=nm 339C=mm 339D=cm
        339E=km 339F=mm2 33A0=cm2 33A1=m2 33A2=km2 33A3=mm3 33A4=cm3 33A5=m3 33A6=km3 33A9=pa 33AA=kpa 33AB=mpa
        33AC=gpa 33AD=rad 33B0=ps 33B1=ns 33B3=ms 33B4=pv 33B5=nv 33B7=mv 33B8=kv 33B9=mv 33BA=pw 33BB=nw
        33BD=mw 33BE=kw 33BF=mw 33C2=a.m. 33C3=bq 33C4=cc 33C5=cd 33C7=co. 33C8=db 33C9=gy 33CA=ha 33CB=hp
        33CC=in 33CD=kk 33CE=km 33CF=kt 33D0=lm 33D1=ln 33D2=log 33D3=lx 33D4=mb 33D5=mil 33D6=mol 33D7=ph
        33D8=p.m. 33D9=ppm 33DA=pr 33DB=sr 33DC=sv 33DD=wb 33FF=gal A7F2=c A7F3=f A7F4=q FB00=ff FB01=fi FB02=fl
        FB03=ffi FB04=ffl FB05=st*2 FB29=%2B FE10=, FE13=: FE14=; FE15=! FE16=? FE19=... FE30=.. FE33=_*2 FE35=(
        FE36=) FE37={ FE38=} FE47=[ FE48=] FE4D=_*3 FE50=, FE52=. FE54=; FE55=: FE56=? FE57=! FE59=( FE5A=)
        FE5B={ FE5C=} FE5F=# FE60=& FE61=%2A FE62=%2B FE63=- FE64=< FE65=> FE66=%3D FE68=%5C FE69=$ FE6A=%25
        FE6B=@ FF01=! FF02=%22 FF03=# FF04=$ FF05=%25 FF06=& FF07=' FF08=( FF09=) FF0A=%2A FF0B=%2B FF0C=, FF0D=-
        FF0E=. FF0F=/+11 FF1A=: FF1B=; FF1C=< FF1D=%3D FF1E=> FF1F=? FF20=@ FF21=a+26 FF3B=[ FF3C=%5C FF3D=]
        FF3E=^ FF3F=_ FF40=`+27 FF5B={ FF5C=| FF5D=} FF5E=~ 107A5=q 1D400=a+26 1D41A=a+26 1D434=a+26 1D44E=a+7
        1D456=i+18 1D468=a+26 1D482=a+26 1D49C=a 1D49E=c+2 1D4A2=g 1D4A5=j+2 1D4A9=n+4 1D4AE=s+8 1D4B6=a+4
        1D4BB=f 1D4BD=h+7 1D4C5=p+11 1D4D0=a+26 1D4EA=a+26 1D504=a+2 1D507=d+4 1D50D=j+8 1D516=s+7 1D51E=a+26
        1D538=a+2 1D53B=d+4 1D540=i+5 1D546=o 1D54A=s+7 1D552=a+26 1D56C=a+26 1D586=a+26 1D5A0=a+26 1D5BA=a+26
        1D5D4=a+26 1D5EE=a+26 1D608=a+26 1D622=a+26 1D63C=a+26 1D656=a+26 1D670=a+26 1D68A=a+26 1D7CE=0+10
        1D7D8=0+10 1D7E2=0+10 1D7EC=0+10 1D7F6=0+10 1F100=0. 1F101=0, 1F102=1, 1F103=2, 1F104=3, 1F105=4,
        1F106=5, 1F107=6, 1F108=7, 1F109=8, 1F10A=9, 1F110=(a) 1F111=(b) 1F112=(c) 1F113=(d) 1F114=(e) 1F115=(f)
        1F116=(g) 1F117=(h) 1F118=(i) 1F119=(j) 1F11A=(k) 1F11B=(l) 1F11C=(m) 1F11D=(n) 1F11E=(o) 1F11F=(p)
        1F120=(q) 1F121=(r) 1F122=(s) 1F123=(t) 1F124=(u) 1F125=(v) 1F126=(w) 1F127=(x) 1F128=(y) 1F129=(z)
        1F12B=c 1F12C=r 1F12D=cd 1F12E=wz 1F130=a+26 1F14A=hv 1F14B=mv 1F14C=sd 1F14D=ss 1F14E=ppv 1F14F=wc
        1F16A=mc 1F16B=md 1F16C=mr 1F190=dj 1FBF0=0+10";

    /// Every assigned code point above ASCII: planes 4 to 13 are empty and
    /// 15 and 16 private, so skipping them keeps the exhaustive tests quick.
    fn non_ascii() -> impl Iterator<Item = char> {
        (0x80..=0x3FFFF).chain(0xE0000..=0xE0FFF).filter_map(char::from_u32)
    }

    fn unescape(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('%') {
            out.push_str(&rest[..at]);
            out.push(char::from(u8::from_str_radix(&rest[at + 1..at + 3], 16).unwrap()));
            rest = &rest[at + 3..];
        }
        out + rest
    }

    fn nfkc_ascii() -> Vec<(char, String)> {
        let mut all = Vec::new();
        for run in NFKC_ASCII.split_whitespace() {
            let (start, rest) = run.split_once('=').unwrap();
            let start = u32::from_str_radix(start, 16).unwrap();
            let (form, count, step) = match (rest.split_once('+'), rest.split_once('*')) {
                (Some((form, n)), _) => (form, n.parse::<u32>().unwrap(), true),
                (_, Some((form, n))) => (form, n.parse::<u32>().unwrap(), false),
                _ => (rest, 1, false),
            };
            let form = unescape(form);
            for i in 0..count {
                let ascii = if step { char::from(form.as_bytes()[0] + i as u8).to_string() } else { form.clone() };
                all.push((char::from_u32(start + i).unwrap(), ascii));
            }
        }
        all
    }

    #[test]
    fn every_character_whose_nfkc_case_fold_is_ascii_folds_to_it() {
        let forms = nfkc_ascii();
        assert_eq!(forms.len(), 1405);
        assert_eq!(forms.iter().filter(|(_, f)| f.len() == 1 && f.as_bytes()[0].is_ascii_alphabetic()).count(), 898);
        for (c, ascii) in forms {
            assert_eq!(fold(&c.to_string()), ascii, "U+{:04X} {c}", u32::from(c));
        }
    }

    #[test]
    fn nothing_else_folds_to_ascii_but_case_mappings_and_unassigned_math_letters() {
        let nfkc: std::collections::HashSet<char> = nfkc_ascii().into_iter().map(|(c, _)| c).collect();
        let by_case = |c: char| {
            let both: String = c.to_uppercase().flat_map(char::to_lowercase).filter(|l| !invisible(*l)).collect();
            !both.is_empty() && both.bytes().all(|b| b.is_ascii_lowercase())
        };
        for c in non_ascii() {
            let folded = fold(&c.to_string());
            if !folded.is_empty() && folded.is_ascii() {
                let hole = (0x1D400..=0x1D6A3).contains(&u32::from(c));
                assert!(nfkc.contains(&c) || by_case(c) || hole, "U+{:04X} {c} folds to {folded}", u32::from(c));
            }
        }
    }

    #[test]
    fn the_table_is_in_code_point_order_one_non_ascii_character_then_ascii_each() {
        let mut last = '\0';
        let mut chars = COMPATIBILITY_FORMS.chars().peekable();
        while let Some(key) = chars.next() {
            assert!(!key.is_ascii() && key > last, "U+{:04X} out of order", u32::from(key));
            let mut ascii = String::new();
            while let Some(a) = chars.next_if(char::is_ascii) {
                ascii.push(a);
            }
            assert!(!ascii.is_empty(), "U+{:04X} has no ASCII", u32::from(key));
            assert_eq!(compatibility_form(key), Some(ascii.as_str()));
            last = key;
        }
        for absent in ['\u{80}', '\u{E9}', '\u{4E2D}', '\u{10FFFF}', char::MAX] {
            assert_eq!(compatibility_form(absent), None);
        }
    }

    #[test]
    fn look_alike_colons_and_numerals_fold_as_the_reserved_words_are_spelled() {
        assert_eq!(fold("viewer\u{FE55}cust-9"), "viewer:cust-9"); // small colon
        assert_eq!(fold("viewer\u{FE13}cust-9"), "viewer:cust-9"); // vertical colon
        assert_eq!(fold("service\u{FF1A}x"), "service:x"); // full-width colon
        assert_eq!(fold("\u{2175}ewer:x"), "viewer:x"); // small Roman numeral six
        assert_eq!(fold("ser\u{2165}ce:x"), "service:x");
        assert_eq!(fold("u\u{33B0}cope"), "upscope"); // square ps
        assert_eq!(fold("\u{FE4D}\u{FE4D}\u{FE4D}upscope\u{FE4F}unique\u{FE33}id"), "___upscope_unique_id");
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
