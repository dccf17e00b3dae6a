//! The story: where the film's turning points lie and which shots serve which
//! part of the trailer.

pub mod structure;
