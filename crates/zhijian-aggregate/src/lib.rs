//! Rayon-parallel pass-rate cube and target attainment of zhijian, read straight from Parquet
