-- The ADBC PostgreSQL driver (libpq): its type catalog at connect, and the
-- column lookup of AdbcConnectionGetTableSchema (datafusion-postgres'
-- tests/pgadbc.rs has the latter).
SELECT oid, typname, typreceive, typbasetype, typrelid, typarray FROM pg_catalog.pg_type WHERE (typreceive != 0 OR typsend != 0) AND typtype != 'r' AND typreceive::TEXT != 'array_recv';

SELECT attname, atttypid FROM pg_catalog.pg_class AS cls INNER JOIN pg_catalog.pg_attribute AS attr ON cls.oid = attr.attrelid INNER JOIN pg_catalog.pg_type AS typ ON attr.atttypid = typ.oid WHERE attr.attnum >= 0 AND cls.oid = 'charges'::regclass::oid ORDER BY attr.attnum;
