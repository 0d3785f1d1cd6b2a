use digit_sum::*;

#[test]
fn zero() {
    assert_eq!(digit_sum(0), 0);
}

#[test]
#[ignore]
fn several_digits() {
    assert_eq!(digit_sum(4096), 19);
}

#[test]
#[ignore]
fn largest_u64() {
    assert_eq!(digit_sum(u64::MAX), 87);
}
