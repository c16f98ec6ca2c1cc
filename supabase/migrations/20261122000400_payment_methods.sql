-- Payment methods: card data sealed in a KMS envelope (supabase/functions/_shared/kms/README.md),
-- with only what a list needs in the clear (brand, last four digits, expiry).
--
-- The payment-methods function runs a user's queries as role `authenticated` with the caller's
-- JWT claims in `request.jwt.claims`, as PostgREST does, so these policies decide what a user
-- sees. auth.uid() exists on hosted Supabase; the local stack creates it on plain Postgres. This
-- migration creates neither roles nor auth functions.

create table public.payment_methods (
  -- Chosen by the function before encryption: the id is part of the encryption context.
  id               uuid primary key default gen_random_uuid(),
  user_id          uuid not null default auth.uid(),
  brand            text not null
                   check (brand in ('visa', 'mastercard', 'amex', 'discover', 'diners', 'jcb',
                                    'unionpay', 'maestro', 'unknown')),
  last4            text not null check (last4 ~ '^[0-9]{4}$'),
  exp_month        smallint not null check (exp_month between 1 and 12),
  exp_year         smallint not null check (exp_year between 2000 and 2199),
  -- Version-1 envelope: AES-256-GCM payload under a KMS data key, bound to
  -- {payment_method_id, purpose, user_id}. Never readable by anon/authenticated.
  envelope         bytea not null check (octet_length(envelope) between 33 and 16384),
  envelope_version smallint not null default 1 check (envelope_version = 1),
  -- ARN of the KMS key protecting the data key: which rows to re-encrypt when the key changes.
  kms_key_arn      text not null check (length(kms_key_arn) between 1 and 2048),
  created_at       timestamptz not null default now()
);
comment on table public.payment_methods is
  'Cards saved by users: KMS envelope plus masked display fields; RLS: owner only.';

create index payment_methods_user_idx on public.payment_methods (user_id, created_at desc);

alter table public.payment_methods enable row level security;

create policy payment_methods_owner_read on public.payment_methods
  for select to authenticated using (user_id = (select auth.uid()));
create policy payment_methods_owner_insert on public.payment_methods
  for insert to authenticated with check (user_id = (select auth.uid()));
create policy payment_methods_owner_delete on public.payment_methods
  for delete to authenticated using (user_id = (select auth.uid()));
create policy payment_methods_service_role on public.payment_methods
  for all to service_role using (true) with check (true);

-- Column privileges: a user may write an envelope but never read one back (only the function's
-- service_role route decrypts, and only through KMS).
revoke all on public.payment_methods from anon, authenticated;
grant select (id, user_id, brand, last4, exp_month, exp_year, created_at)
  on public.payment_methods to authenticated;
grant insert (id, user_id, brand, last4, exp_month, exp_year, envelope, envelope_version,
              kms_key_arn)
  on public.payment_methods to authenticated;
grant delete on public.payment_methods to authenticated;
grant all on public.payment_methods to service_role;
