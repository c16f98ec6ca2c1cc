-- Monitoring: the payment KMS data-key cache's hits and misses, beside kms_requests and
-- kms_new_connections, which payment-methods now flushes like flight-search flushes its own.
--
-- A hit sealed or opened a card without calling KMS; a miss called it (GenerateDataKey or
-- Decrypt). With kms_requests they say how much KMS work the cache saved.
--
-- function_totals gains the same two counters, accumulated by a trigger of their own that fires
-- after function_metrics_accumulate (triggers of one event fire in name order), so the main
-- accumulate function stays as it is.

alter table monitoring.function_metrics
  add column kms_data_key_hits   integer not null default 0 check (kms_data_key_hits >= 0),
  add column kms_data_key_misses integer not null default 0 check (kms_data_key_misses >= 0);

alter table monitoring.function_totals
  add column kms_data_key_hits   bigint not null default 0,
  add column kms_data_key_misses bigint not null default 0;

create function monitoring.function_metrics_accumulate_data_keys() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- The totals rows exist: function_metrics_accumulate upserted them for this statement.
  update monitoring.function_totals t set
    kms_data_key_hits = t.kms_data_key_hits + n.hits,
    kms_data_key_misses = t.kms_data_key_misses + n.misses
  from (
    select i.function_name, i.path, sum(i.kms_data_key_hits) as hits,
      sum(i.kms_data_key_misses) as misses
    from inserted i
    group by i.function_name, i.path
    having sum(i.kms_data_key_hits) > 0 or sum(i.kms_data_key_misses) > 0
  ) n
  where t.function_name = n.function_name and t.path = n.path;
  return null;
end;
$$;
revoke all on function monitoring.function_metrics_accumulate_data_keys()
  from public, anon, authenticated;

create trigger function_metrics_accumulate_data_keys
  after insert on monitoring.function_metrics
  referencing new table as inserted
  for each statement execute function monitoring.function_metrics_accumulate_data_keys();
