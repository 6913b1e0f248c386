//! Kubernetes resource quantities (`512Mi`, `1G`, `500m`, `0.5`, `1e3`), parsed exactly.
//!
//! A quantity is `<signed decimal number><suffix>` where the suffix is a binary SI suffix (`Ki` …
//! `Ei`), a decimal SI suffix (`n`, `u`, `m`, none, `k`, `M`, `G`, `T`, `P`, `E`) or a decimal
//! exponent (`e3`, `E-2`). The value is kept as `mantissa × 10^exp10 × 2^exp2` so that conversion
//! to bytes, millis or nano units is exact, rounding up like Kubernetes' `Value()`/`MilliValue()`.
use std::fmt;

/// A parsed quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity {
    negative: bool,
    mantissa: u128,
    exp10: i32,
    exp2: u32,
}

/// Why a string is not a Kubernetes quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Not of the form `<number><suffix>`.
    #[error("`{0}` is not a valid quantity (examples: `512Mi`, `1G`, `500m`, `0.5`, `1e3`)")]
    Invalid(String),
    /// Valid, but too large (or too precise) to represent.
    #[error("quantity `{0}` is out of range")]
    OutOfRange(String),
}

impl Quantity {
    /// Parses a quantity string.
    ///
    /// # Errors
    ///
    /// [`QuantityError::Invalid`] when the syntax is wrong, [`QuantityError::OutOfRange`] when
    /// the number has more than 38 significant digits or an absurd exponent.
    pub fn parse(s: &str) -> Result<Self, QuantityError> {
        let invalid = || QuantityError::Invalid(s.to_string());
        let out_of_range = || QuantityError::OutOfRange(s.to_string());
        let (negative, rest) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, suffix) = rest.split_at(num_len);
        let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
        if int_part.is_empty() && frac_part.is_empty() || frac_part.contains('.') {
            return Err(invalid());
        }
        let digits = format!("{int_part}{frac_part}");
        let significant = digits.trim_start_matches('0');
        if significant.len() > 38 {
            return Err(out_of_range());
        }
        let mantissa: u128 = if significant.is_empty() {
            0
        } else {
            significant.parse().map_err(|_| invalid())?
        };
        let frac_digits = i32::try_from(frac_part.len()).map_err(|_| out_of_range())?;
        let (exp10, exp2) = match suffix {
            "" => (0, 0),
            "Ki" => (0, 10),
            "Mi" => (0, 20),
            "Gi" => (0, 30),
            "Ti" => (0, 40),
            "Pi" => (0, 50),
            "Ei" => (0, 60),
            "n" => (-9, 0),
            "u" => (-6, 0),
            "m" => (-3, 0),
            "k" => (3, 0),
            "M" => (6, 0),
            "G" => (9, 0),
            "T" => (12, 0),
            "P" => (15, 0),
            "E" => (18, 0),
            _ => {
                let exp = suffix
                    .strip_prefix(['e', 'E'])
                    .filter(|e| {
                        let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
                        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
                    })
                    .ok_or_else(invalid)?;
                let exp: i32 = exp.parse().map_err(|_| out_of_range())?;
                if !(-1000..=1000).contains(&exp) {
                    return Err(out_of_range());
                }
                (exp, 0)
            }
        };
        Ok(Self {
            negative: negative && mantissa != 0,
            mantissa,
            exp10: exp10 - frac_digits,
            exp2,
        })
    }

    /// The value in base units (bytes, cores), rounded up to an integer (Kubernetes `Value()`).
    pub fn value(&self) -> Option<i64> {
        self.scaled(0)
    }

    /// The value in thousandths, rounded up (Kubernetes `MilliValue()`): `500m` → 500.
    pub fn milli_value(&self) -> Option<i64> {
        self.scaled(3)
    }

    /// The value in billionths, rounded up: CPUs → Docker's `NanoCpus` (`500m` → 500000000).
    pub fn nano_value(&self) -> Option<i64> {
        self.scaled(9)
    }

    /// `self × 10^k` as an integer, rounded away from zero; `None` when it does not fit an i64.
    fn scaled(&self, k: i32) -> Option<i64> {
        let exp10 = self.exp10 + k;
        let base = self.mantissa.checked_mul(1u128.checked_shl(self.exp2)?)?;
        let magnitude = if exp10 >= 0 {
            base.checked_mul(10u128.checked_pow(u32::try_from(exp10).ok()?)?)?
        } else {
            match 10u128.checked_pow(exp10.unsigned_abs()) {
                Some(div) => base.div_ceil(div),
                // Dividing by more than 10^38 leaves less than one unit.
                None => u128::from(base != 0),
            }
        };
        let magnitude = i64::try_from(magnitude).ok()?;
        Some(if self.negative { -magnitude } else { magnitude })
    }

    pub fn is_negative(&self) -> bool {
        self.negative
    }
}

impl std::str::FromStr for Quantity {
    type Err = QuantityError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Quantity {
    /// A canonical-ish rendering: `<mantissa>e<exp10>` times the binary factor.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.negative { "-" } else { "" };
        write!(f, "{sign}{}e{}", self.mantissa, self.exp10)?;
        if self.exp2 > 0 {
            write!(f, "*2^{}", self.exp2)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("512Mi", 536_870_912 ; "mebibytes")]
    #[test_case("1Gi", 1_073_741_824 ; "gibibytes")]
    #[test_case("1Ki", 1024 ; "kibibytes")]
    #[test_case("1G", 1_000_000_000 ; "gigabytes")]
    #[test_case("128M", 128_000_000 ; "megabytes")]
    #[test_case("1k", 1000 ; "kilo")]
    #[test_case("1e3", 1000 ; "exponent")]
    #[test_case("1E3", 1000 ; "exponent upper case")]
    #[test_case("12e-1", 2 ; "negative exponent rounds up")]
    #[test_case("1E", 1_000_000_000_000_000_000 ; "exa is a suffix not an exponent")]
    #[test_case("1.5Gi", 1_610_612_736 ; "fractional binary")]
    #[test_case("0.5", 1 ; "half rounds up")]
    #[test_case("100", 100 ; "plain integer")]
    #[test_case("+7", 7 ; "explicit plus")]
    #[test_case("-7", -7 ; "negative")]
    #[test_case("1500m", 2 ; "milli rounds up")]
    #[test_case("0", 0 ; "zero")]
    #[test_case(".5k", 500 ; "leading dot")]
    #[test_case("5.", 5 ; "trailing dot")]
    fn value(s: &str, expected: i64) {
        assert_eq!(Quantity::parse(s).unwrap().value(), Some(expected));
    }

    #[test_case("500m", 500 ; "millicores")]
    #[test_case("0.5", 500 ; "half core")]
    #[test_case("2", 2000 ; "two cores")]
    #[test_case("100u", 1 ; "micro rounds up")]
    #[test_case("1n", 1 ; "nano rounds up")]
    fn milli_value(s: &str, expected: i64) {
        assert_eq!(Quantity::parse(s).unwrap().milli_value(), Some(expected));
    }

    #[test_case("500m", 500_000_000 ; "millicores")]
    #[test_case("0.25", 250_000_000 ; "quarter core")]
    #[test_case("1", 1_000_000_000 ; "one core")]
    #[test_case("250n", 250 ; "nanocores")]
    fn nano_value(s: &str, expected: i64) {
        assert_eq!(Quantity::parse(s).unwrap().nano_value(), Some(expected));
    }

    #[test_case("" ; "empty")]
    #[test_case("Mi" ; "suffix only")]
    #[test_case("1MB" ; "unknown suffix")]
    #[test_case("1mi" ; "wrong case binary")]
    #[test_case("1.2.3" ; "two dots")]
    #[test_case("." ; "dot only")]
    #[test_case("1e" ; "exponent without digits")]
    #[test_case("1e+" ; "exponent sign only")]
    #[test_case(" 1" ; "leading space")]
    #[test_case("1 Gi" ; "inner space")]
    #[test_case("--1" ; "double sign")]
    fn invalid(s: &str) {
        assert_eq!(
            Quantity::parse(s),
            Err(QuantityError::Invalid(s.to_string()))
        );
    }

    #[test]
    fn too_many_digits_is_out_of_range() {
        let s = "1".repeat(40);
        assert_eq!(
            Quantity::parse(&s),
            Err(QuantityError::OutOfRange(s.clone()))
        );
    }

    #[test]
    fn huge_values_do_not_fit_an_i64() {
        assert_eq!(Quantity::parse("10Ei").unwrap().value(), None);
        assert_eq!(Quantity::parse("1e100").unwrap().value(), None);
        assert_eq!(Quantity::parse("1e-100").unwrap().value(), Some(1));
        assert!(Quantity::parse("1e99999").is_err());
    }
}
