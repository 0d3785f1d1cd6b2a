use vowel_runs::vowel_runs;

#[test]
fn no_vowels() {
    assert_eq!(vowel_runs("rhythm"), 0);
}

#[test]
#[ignore]
fn three_runs() {
    assert_eq!(vowel_runs("beautiful"), 3);
}
