-- One row that readiness checks rewrite, to learn whether the database takes a write.
CREATE TABLE write_probe (
    id BIGINT PRIMARY KEY,
    probed_at BIGINT NOT NULL
);
