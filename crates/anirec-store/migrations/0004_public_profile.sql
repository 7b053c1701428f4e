-- Whether the fan shows their list and picks at /u/{username}: off (0) unless they turn it on.
ALTER TABLE accounts ADD COLUMN public_profile INTEGER NOT NULL DEFAULT 0;
