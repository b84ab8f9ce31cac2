//! What a finished run leaves: its [`Outcome`], and the files, summary and figures rendered
//! from it.

pub mod outcome;

pub use outcome::{DoubleSpendOutcome, MainChain, NodeOutcome, Outcome};
