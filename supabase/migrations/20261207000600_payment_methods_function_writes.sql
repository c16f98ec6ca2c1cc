-- Payment methods are written only through the payment-methods function (issue #13): the
-- function validates the card (brand lengths, Luhn, expiry) and seals it in a KMS envelope
-- before a row exists. Until now `authenticated` could insert its own rows directly (any brand,
-- last4 and envelope, through the Data API or any SQL client holding a user's JWT), bypassing all
-- of that. The function now inserts as service_role, with the user id taken from the verified
-- JWT; users keep reading (the masked columns) and deleting their own rows.

drop policy if exists payment_methods_owner_insert on public.payment_methods;
drop policy if exists payment_methods_owner_update on public.payment_methods;

-- Revoking on the table revokes the column-level insert grants as well.
revoke insert, update on public.payment_methods from anon, authenticated;

comment on table public.payment_methods is
  'Cards saved by users: KMS envelope plus masked display fields; RLS: owner reads and deletes, '
  'writes only through the payment-methods function (service_role).';
