pub fn vowel_runs(word: &str) -> usize {
    todo!("count the runs of vowels in {word}")
}
