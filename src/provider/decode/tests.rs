//! Unit tests of the decoder.
