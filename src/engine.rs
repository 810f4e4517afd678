//! Builds the DataFusion SessionContext: schema `stripe`, tables, functions, options.
