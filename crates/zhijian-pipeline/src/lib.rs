//! The zhijian pipeline file: parse, validate with every error located, plan
