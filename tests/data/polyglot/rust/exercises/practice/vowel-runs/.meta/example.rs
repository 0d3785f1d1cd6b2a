use regex::Regex;

pub fn vowel_runs(word: &str) -> usize {
    Regex::new("[aeiou]+").unwrap().find_iter(word).count()
}
