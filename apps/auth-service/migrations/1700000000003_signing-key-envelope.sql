-- Up Migration
-- Private signing keys may be sealed (AES-256-GCM under SIGNING_KEY_KEK, see src/keys/key-envelope.ts)
-- instead of stored in clear. Each row holds exactly one of the two; auth-service seals clear rows at
-- start when a KEK is configured.
ALTER TABLE signing_keys ALTER COLUMN private_jwk DROP NOT NULL;
ALTER TABLE signing_keys ADD COLUMN private_jwk_sealed jsonb;
ALTER TABLE signing_keys ADD CONSTRAINT signing_keys_one_private_form CHECK ((private_jwk IS NULL) <> (private_jwk_sealed IS NULL));

-- Down Migration
-- Going back would lose sealed keys (SQL cannot open them): refuse while any exists.
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM signing_keys WHERE private_jwk_sealed IS NOT NULL) THEN
    RAISE EXCEPTION 'signing keys are sealed under SIGNING_KEY_KEK; rotate to fresh keys without a KEK before migrating down';
  END IF;
END $$;
ALTER TABLE signing_keys DROP CONSTRAINT signing_keys_one_private_form;
ALTER TABLE signing_keys DROP COLUMN private_jwk_sealed;
ALTER TABLE signing_keys ALTER COLUMN private_jwk SET NOT NULL;
