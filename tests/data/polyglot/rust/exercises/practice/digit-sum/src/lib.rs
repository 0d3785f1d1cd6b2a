/// The sum of the decimal digits of `n`.
pub fn digit_sum(n: u64) -> u64 {
    todo!("sum the digits of {n}")
}
