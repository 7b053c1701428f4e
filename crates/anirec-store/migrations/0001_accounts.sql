-- Accounts, their sessions and API tokens, and their anime lists. Portable SQL: the same file
-- migrates SQLite and PostgreSQL (ids are chosen by the application, times are Unix seconds,
-- secrets are stored only as SHA-256 hex digests).

CREATE TABLE accounts (
    id BIGINT PRIMARY KEY,
    username TEXT NOT NULL,
    -- The username folded to lower case: names are unique without regard to case.
    username_key TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_by_account ON sessions (account_id);

CREATE TABLE api_tokens (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX api_tokens_by_account ON api_tokens (account_id);

-- A fan's list: MyAnimeList's anime id, score 0-10 (0 = not scored), watching status as
-- MyAnimeList's code (1 watching, 2 completed, 3 on hold, 4 dropped, 6 plan to watch),
-- episodes watched.
CREATE TABLE list_entries (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    anime_id BIGINT NOT NULL,
    score BIGINT NOT NULL,
    status BIGINT NOT NULL,
    episodes BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, anime_id)
);

-- Titles a fan never wants to see recommended.
CREATE TABLE not_interested (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    anime_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, anime_id)
);
