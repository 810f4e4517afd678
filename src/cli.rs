//! The command line (clap): REPL, -c, -f, serve, emulator, watch.
