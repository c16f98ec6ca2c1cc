-- Envelope format version 2 (supabase/functions/_shared/kms/README.md): the KMS encryption
-- context holds only what every card shares (environment, purpose), and each envelope is bound
-- to its row (payment_method_id, user_id) through the AES-GCM additional authenticated data, so
-- one cached data key seals many new cards. Version-1 rows stay as they are and keep decrypting:
-- nothing is re-encrypted.
--
-- envelope_version must now name the envelope's own first byte (its format version), so the
-- column can be trusted to find the rows still in version 1. Its default stays 1 for writers
-- of version 1; the function writes the version of every envelope it seals.

alter table public.payment_methods
  drop constraint payment_methods_envelope_version_check,
  add constraint payment_methods_envelope_version_check check (envelope_version in (1, 2)),
  add constraint payment_methods_envelope_version_matches
    check (get_byte(envelope, 0) = envelope_version);

comment on column public.payment_methods.envelope_version is
  'Format version of envelope (its first byte): 1 = row in the KMS context, 2 = row in the AAD.';
comment on column public.payment_methods.id is
  'Chosen by the function before encryption: the envelope is bound to it (KMS context in '
  'version 1, AES-GCM AAD in version 2).';
