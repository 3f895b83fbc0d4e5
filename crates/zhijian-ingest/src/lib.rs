//! Readers, mapping, normalisers, validation rules, verdicts and Parquet writers of zhijian
