-- Load the Sarcoma-KG release (sarcoma-kg.ttl, in the folder Virtuoso was started from) into
-- the named graph <urn:sarcoma-kg>, then write it to disk:
--   isql-vt 1111 dba dba load-virtuoso.sql
-- Query it at http://127.0.0.1:8890/sparql with default-graph-uri=urn:sarcoma-kg.
SPARQL CLEAR GRAPH <urn:sarcoma-kg>;
DB.DBA.TTLP_MT (file_to_string_output ('sarcoma-kg.ttl'), '', 'urn:sarcoma-kg', 0);
checkpoint;
