-- Npgsql resets a pooled connection before handing it out again.
DISCARD ALL;
