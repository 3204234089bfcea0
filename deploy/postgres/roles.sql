-- One-off setup of the warehouse's roles by a DBA (psql as a superuser), for dtsen_pipeline.
--
--   psql -v pipeline_password="'...'" -f deploy/postgres/roles.sql
--
-- The pipeline then needs no superuser rights. At every publication it creates (if missing) and
-- grants the roles named in DTSEN_READER_ROLE, DTSEN_RESTRICTED_ROLE and DTSEN_PEKON_ROLE, and
-- the pekon operators of DTSEN_PEKON_OPERATORS; for that its user must own the warehouse database
-- (it creates the schemas golden, golden_history, golden_masked, golden_pekon, audit, access) and
-- have CREATEROLE (create roles, set their passwords, grant membership in the pekon role).
-- Without CREATEROLE, create the roles below yourself, grant the pipeline user ADMIN OPTION on the
-- pekon role, and leave DTSEN_READER_PASSWORD / DTSEN_RESTRICTED_PASSWORD unset.

CREATE ROLE dtsen LOGIN CREATEROLE NOSUPERUSER NOCREATEDB PASSWORD :pipeline_password;
CREATE DATABASE dtsen OWNER dtsen;

-- Optional: the group roles, if you prefer to create them yourself (names = the defaults).
-- CREATE ROLE dtsen_reader NOLOGIN;      -- downstream teams: golden_masked only
-- CREATE ROLE dtsen_restricted NOLOGIN;  -- raw identifiers: golden, golden_history, golden_masked, audit
-- CREATE ROLE dtsen_pekon NOLOGIN;       -- village operators: golden_pekon (rows of their region only)
-- GRANT dtsen_pekon TO dtsen WITH ADMIN OPTION;

-- A person's login joins a group role; a pekon operator's login also needs its region, which
-- the pipeline writes to access.region_scope from DTSEN_PEKON_OPERATORS (or you insert it there
-- yourself when that variable is unset):
-- CREATE ROLE op_gisting_atas LOGIN PASSWORD '...' IN ROLE dtsen_pekon;
-- INSERT INTO access.region_scope VALUES ('op_gisting_atas', '18.06.01.2016');
