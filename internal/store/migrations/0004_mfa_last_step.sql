-- The last TOTP time step accepted for each user, kept in the database so that a code
-- cannot be used twice, even across a restart or on another replica.
ALTER TABLE users ADD COLUMN mfa_last_step BIGINT NOT NULL DEFAULT 0;
