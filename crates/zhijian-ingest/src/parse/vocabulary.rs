//! The source's vocabulary, indexed: verdict, result, limit, stage and flag words; and method
//! cells.

use std::collections::HashMap;

use zhijian_model::{Method, Stage, Verdict};
use zhijian_pipeline::Vocabulary;
use zhijian_seeds::normalise_key;

use super::result::Qualitative;

/// A word that is not in the source's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownWord;

/// The source's vocabulary, indexed by normalised word.
#[derive(Debug, Clone)]
pub struct VocabularyIndex {
    verdicts: HashMap<String, Verdict>,
    pub(super) results: HashMap<String, ResultWord>,
    pub(super) no_limit: Vec<String>,
    pub(super) banned: Vec<String>,
    yes: Vec<String>,
    awaiting: Vec<String>,
    stages: HashMap<String, Stage>,
    pub(super) not_detected: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ResultWord {
    NotDetected,
    Qualitative(Qualitative),
}

impl VocabularyIndex {
    /// Indexes a source's vocabulary.
    pub fn new(vocabulary: &Vocabulary) -> VocabularyIndex {
        let keys = |words: &[String]| words.iter().map(|w| normalise_key(w)).collect::<Vec<_>>();
        let mut verdicts = HashMap::new();
        for word in keys(&vocabulary.pass) {
            verdicts.insert(word, Verdict::Pass);
        }
        for word in keys(&vocabulary.fail) {
            verdicts.insert(word, Verdict::Fail);
        }
        for word in keys(&vocabulary.not_judged) {
            verdicts.insert(word, Verdict::NotJudged);
        }
        let mut results = HashMap::new();
        for (words, meaning) in [
            (&vocabulary.pass, ResultWord::Qualitative(Qualitative::Pass)),
            (&vocabulary.fail, ResultWord::Qualitative(Qualitative::Fail)),
            (&vocabulary.negative, ResultWord::Qualitative(Qualitative::Negative)),
            (&vocabulary.positive, ResultWord::Qualitative(Qualitative::Positive)),
            (&vocabulary.not_detected, ResultWord::NotDetected),
        ] {
            for word in keys(words) {
                results.insert(word, meaning);
            }
        }
        let mut stages = HashMap::new();
        for (stage, words) in &vocabulary.stages {
            for word in keys(words) {
                stages.insert(word, *stage);
            }
        }
        VocabularyIndex {
            verdicts,
            results,
            no_limit: keys(&vocabulary.no_limit),
            banned: keys(&vocabulary.banned),
            yes: keys(&vocabulary.yes),
            awaiting: keys(&vocabulary.awaiting),
            stages,
            not_detected: keys(&vocabulary.not_detected),
        }
    }

    /// A verdict word: `Ok(None)` for an empty cell, an error for a word the vocabulary lacks.
    ///
    /// 检验结论 is often a sentence (`经抽样检验，所检项目符合GB 2762-2012要求`, `经抽样检验，铅项目
    /// 不符合…要求，检验结论为不合格`): a cell that is not a word itself is read by the verdict
    /// words inside it. A fail word anywhere decides (`不符合`, `不合格`, so `符合` inside `不符合`
    /// is never read as a pass); a pass word decides only when no negation (`不`, `未`, `非`)
    /// stands right before it, so a source whose fail words lack `不符合` still reads `不符合…`
    /// as a fail. Only a sentence is read this way (six characters or more, or punctuation), so a
    /// hedged word such as `基本合格` stays unknown, as does a sentence with neither kind of
    /// word, or with a pass word hedged by `基本`.
    pub fn verdict(&self, text: &str) -> Result<Option<Verdict>, UnknownWord> {
        let key = normalise_key(text);
        if key.is_empty() {
            return Ok(None);
        }
        if let Some(verdict) = self.verdicts.get(&key) {
            return Ok(Some(*verdict));
        }
        let sentence = key.chars().count() >= 6 || key.contains([',', '.', ';', ':', '。', '；', '，']);
        if !sentence {
            return Err(UnknownWord);
        }
        let words = |verdict: Verdict| {
            self.verdicts.iter().filter(move |(w, v)| **v == verdict && w.chars().count() >= 2).map(|(w, _)| w)
        };
        if words(Verdict::Fail).any(|w| key.contains(w.as_str())) {
            return Ok(Some(Verdict::Fail));
        }
        let mut passes = false;
        for word in words(Verdict::Pass) {
            for (at, _) in key.match_indices(word.as_str()) {
                if key[..at].ends_with(['不', '未', '非']) {
                    return Ok(Some(Verdict::Fail));
                }
                if key[..at].ends_with("基本") {
                    return Err(UnknownWord);
                }
                passes = true;
            }
        }
        if passes { Ok(Some(Verdict::Pass)) } else { Err(UnknownWord) }
    }

    /// A stage word.
    pub fn stage(&self, text: &str) -> Option<Stage> {
        self.stages.get(&normalise_key(text)).copied()
    }

    /// Whether a result cell says the test is still to be done (`待确证`).
    pub fn is_awaiting(&self, text: &str) -> bool {
        self.awaiting.contains(&normalise_key(text))
    }

    /// Whether a flag cell says yes.
    pub fn is_yes(&self, text: &str) -> bool {
        self.yes.contains(&normalise_key(text))
    }
}

/// Reads a method cell: screening (快检, 试纸, 胶体金, ELISA) or confirmation (确证, LC-MS/MS,
/// GB/T 22286); `None` when it says neither.
pub fn parse_method(text: &str) -> Option<Method> {
    let key = normalise_key(text);
    if key.is_empty() {
        return None;
    }
    const SCREENING: &[&str] = &["快检", "快速", "试纸", "胶体金", "elisa", "酶联", "筛查", "初筛"];
    const CONFIRMATION: &[&str] = &["确证", "lc-ms", "gc-ms", "液相色谱-串联质谱", "质谱", "gb/t22286", "仲裁"];
    if CONFIRMATION.iter().any(|w| key.contains(w)) {
        Some(Method::Confirmation)
    } else if SCREENING.iter().any(|w| key.contains(w)) {
        Some(Method::Screening)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_and_stage_words() {
        let v = VocabularyIndex::new(&Vocabulary::default());
        assert_eq!(v.verdict("合格"), Ok(Some(Verdict::Pass)));
        assert_eq!(v.verdict(" 不合格 "), Ok(Some(Verdict::Fail)));
        assert_eq!(v.verdict(""), Ok(None));
        assert_eq!(v.verdict("待定"), Err(UnknownWord));
        assert_eq!(v.verdict("不作判定"), Ok(Some(Verdict::NotJudged)));
        assert_eq!(v.verdict("——"), Ok(Some(Verdict::NotJudged)));
        // Sentences, read by the words inside them.
        assert_eq!(v.verdict("经抽样检验，所检项目符合GB 2762-2012要求"), Ok(Some(Verdict::Pass)));
        assert_eq!(v.verdict("经抽样检验，铅项目不符合GB 2762-2012要求，检验结论为不合格"), Ok(Some(Verdict::Fail)));
        assert_eq!(v.verdict("该批次产品检验结论：合格。"), Ok(Some(Verdict::Pass)));
        assert_eq!(v.verdict("经检验，所检项目不符合要求"), Ok(Some(Verdict::Fail)));
        assert_eq!(v.verdict("见检验报告"), Err(UnknownWord));
        assert_eq!(v.verdict("基本合格"), Err(UnknownWord), "a hedged word is no verdict");
        assert_eq!(v.verdict("经检验，所检项目基本合格"), Err(UnknownWord));
        // A source whose fail words lack 不符合: the negation before 符合 still fails it.
        let narrow = Vocabulary { fail: vec!["不合格".to_string()], ..Vocabulary::default() };
        let narrow = VocabularyIndex::new(&narrow);
        assert_eq!(narrow.verdict("经抽样检验，铅项目不符合要求"), Ok(Some(Verdict::Fail)));
        assert_eq!(narrow.verdict("所检项目均符合要求"), Ok(Some(Verdict::Pass)));
        assert_eq!(v.stage("流通环节"), Some(Stage::Distribution));
        assert_eq!(parse_method("胶体金试纸条"), Some(Method::Screening));
        assert_eq!(parse_method("GB/T 22286-2008 液相色谱-串联质谱法"), Some(Method::Confirmation));
    }
}
