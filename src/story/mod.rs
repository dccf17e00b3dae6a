//! The story brain: where the film's turning points are (structure) and what
//! each keyframe shows (describe). Both work with or without a model server and
//! always say which source produced their answer.

pub mod board;
pub mod describe;
pub mod score;
pub mod structure;
pub mod zones;

pub use describe::{
    describe_measured, describe_scenes, DescribeError, Keyframe, MeasuredSignals, SceneDescription,
    CACHE_SCHEMA_VERSION,
};
pub use structure::{
    builtin_structure, chunk_plan, find_structure, llm_structure, validate_anchors, CueLite,
    Structure, StructureInput, TRIPOD_PRIORS,
};
