//! Word lists shipped with the crate (`crates/pii/data/`, provenance and
//! licences in its README): names, places, nationalities and the like.
