/**
 * Bulk-load helper: drops the secondary indexes, unique constraints and foreign keys of some
 * tables, runs the load, and recreates them from their own catalog definitions.
 *
 * This is the approach Postgres documents for populating a database ("Populating a Database":
 * remove indexes and foreign keys, load, recreate): one sorted index build and one join per
 * foreign key instead of millions of index insertions and per-row key lookups. Definitions come
 * from the catalog (`pg_get_indexdef`, `pg_get_constraintdef`), so the migrations stay the only
 * place the schema is written, and recreating a constraint checks every loaded row against it.
 * Primary keys, CHECKs and triggers are never touched. Must run inside the caller's transaction
 * after it has locked the tables, so no other session ever sees them without their constraints.
 *
 * @module
 */
import type postgres from "postgres";

interface Deferred {
  drop: string;
  create: string;
  comment: string | null;
}

/**
 * Runs `load` with the deferrable structures of `tables` dropped, then recreates them (indexes
 * and unique constraints first, foreign keys last).
 *
 * @throws whatever recreating throws when loaded rows violate a unique or foreign key.
 */
export async function withIndexesDeferred<T>(
  tx: postgres.TransactionSql,
  tables: readonly string[],
  load: () => Promise<T>,
): Promise<T> {
  const constraints = await tx<(Deferred & { type: "f" | "u" })[]>`
    select c.contype as type,
           format('alter table %s drop constraint %I', c.conrelid::regclass, c.conname) as drop,
           format('alter table %s add constraint %I %s', c.conrelid::regclass, c.conname,
                  pg_get_constraintdef(c.oid)) as create,
           case when d.description is not null then format('comment on constraint %I on %s is %L',
                  c.conname, c.conrelid::regclass, d.description) end as comment
    from pg_constraint c
    left join pg_description d on d.objoid = c.oid and d.classoid = 'pg_constraint'::regclass
    where c.conrelid = any(${tables as string[]}::regclass[]) and c.contype in ('f', 'u')
    order by c.conrelid::regclass::text, c.conname`;
  const indexes = await tx<Deferred[]>`
    select format('drop index %s', i.indexrelid::regclass) as drop,
           pg_get_indexdef(i.indexrelid) as create,
           case when d.description is not null then format('comment on index %s is %L',
                  i.indexrelid::regclass, d.description) end as comment
    from pg_index i
    left join pg_description d on d.objoid = i.indexrelid and d.classoid = 'pg_class'::regclass
    where i.indrelid = any(${tables as string[]}::regclass[])
      and not exists (
        select 1 from pg_constraint c where c.conrelid = i.indrelid and c.conindid = i.indexrelid
      )
    order by i.indexrelid::regclass::text`;
  const foreignKeys = constraints.filter((c) => c.type === "f");
  const uniques = constraints.filter((c) => c.type === "u");

  for (const d of [...foreignKeys, ...uniques, ...indexes]) await tx.unsafe(d.drop);
  const result = await load();
  for (const d of [...indexes, ...uniques, ...foreignKeys]) {
    await tx.unsafe(d.create);
    if (d.comment) await tx.unsafe(d.comment);
  }
  return result;
}
