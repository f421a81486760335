import fs from 'node:fs';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { describeUrl } from '../../util';
import { searchFold } from '../rows';
import { migrate as migrateSqlite } from '../sqlite/migrations';
import { migrate } from './migrations';
import { createPool, type PostgresOptions } from './pool';
import { inTransaction } from './transaction';

/** The tables a copy fills, in the order it fills them (a row after the rows it refers to). */
export type CopiedTable = 'users' | 'relations' | 'sessions' | 'retired_refresh_tokens' | 'call_history' | 'device_keys' | 'reports' | 'call_links';

/** How many rows a copy wrote, per table. */
export type CopyCounts = Record<CopiedTable, number>;

type Row = Record<string, unknown>;

/** How one table is copied: what is read from SQLite, and the PostgreSQL columns it becomes. */
type TableCopy = {
	table: CopiedTable;
	select: string;
	/** PostgreSQL's column names and types, as jsonb_to_recordset reads a row. */
	columns: Record<string, string>;
	/** From SQLite's column types (0/1, JSON text) to PostgreSQL's, and the columns only PostgreSQL has. */
	convert?: (row: Row) => Row;
};

/** Rows per INSERT: a large store is copied in many statements of bounded size, not one giant one. */
const BATCH_ROWS = 500;

const TABLES: readonly TableCopy[] = [
	{
		table: 'users',
		select: 'SELECT id, handle, display_name, password_hash, verified, premium, settings, created_at, relation_writes FROM users ORDER BY rowid',
		columns: {
			id: 'text', handle: 'text', display_name: 'text', display_name_folded: 'text', password_hash: 'text',
			verified: 'boolean', premium: 'boolean', settings: 'jsonb', created_at: 'bigint', relation_writes: 'bigint',
		},
		convert: (row) => ({
			...row,
			display_name_folded: searchFold(row.display_name as string),
			verified: row.verified === 1,
			premium: row.premium === 1,
			settings: JSON.parse(row.settings as string) as unknown,
		}),
	},
	{
		table: 'relations',
		select: 'SELECT kind, owner_id, target_id, created_at FROM relations',
		columns: { kind: 'text', owner_id: 'text', target_id: 'text', created_at: 'bigint' },
	},
	{
		// rotated_at (SQLite's migration 3) has gone unused since retired_refresh_tokens: PostgreSQL has no such column.
		table: 'sessions',
		select: 'SELECT id, user_id, refresh_hash, previous_refresh_hash, expires_at, revoked_at FROM sessions ORDER BY rowid',
		columns: { id: 'text', user_id: 'text', refresh_hash: 'text', previous_refresh_hash: 'text', expires_at: 'bigint', revoked_at: 'bigint' },
	},
	{
		table: 'retired_refresh_tokens',
		select: 'SELECT hash, session_id, retired_at FROM retired_refresh_tokens',
		columns: { hash: 'text', session_id: 'text', retired_at: 'bigint' },
	},
	{
		// NOTE: the rowid becomes seq, so that the history cursors clients hold ({ startedAt, seq }) page the same.
		table: 'call_history',
		select: `SELECT rowid AS seq, call_id, user_id, other_handle, other_display_name, direction, media, outcome, started_at, duration_ms
			FROM call_history ORDER BY rowid`,
		columns: {
			seq: 'bigint', call_id: 'text', user_id: 'text', other_handle: 'text', other_display_name: 'text',
			direction: 'text', media: 'text', outcome: 'text', started_at: 'bigint', duration_ms: 'bigint',
		},
	},
	{
		table: 'device_keys',
		select: 'SELECT user_id, device_id, session_id, public_key, created_at FROM device_keys',
		columns: { user_id: 'text', device_id: 'text', session_id: 'text', public_key: 'text', created_at: 'bigint' },
	},
	{
		table: 'reports',
		select: 'SELECT reporter_id, reported_id, at FROM reports',
		columns: { reporter_id: 'text', reported_id: 'text', at: 'bigint' },
	},
	{
		table: 'call_links',
		select: 'SELECT id, owner_id, admit, title, created_at, last_used_at FROM call_links',
		columns: { id: 'text', owner_id: 'text', admit: 'text', title: 'text', created_at: 'bigint', last_used_at: 'bigint' },
	},
];

/**
 * Copies the SQLite store in `sqliteFile` into the PostgreSQL database of
 * `options`, which must hold no account yet: a node moving from its embedded
 * store to a fleet's shared one. The SQLite file is migrated to the latest
 * schema first and otherwise only read; the PostgreSQL database is migrated,
 * then filled in one transaction, so that a copy that fails writes nothing.
 * Stop the node that uses the file first: a copy reads one consistent
 * snapshot, and what that node writes afterwards is not copied.
 * @throws when the file is missing or is not a SQLite store, when the
 *   database already holds an account, and on any database error
 */
export async function copySqliteToPostgres(sqliteFile: string, options: PostgresOptions): Promise<CopyCounts> {
	const sqlite = openSqlite(sqliteFile);
	// NOTE: the copy holds one connection at a time and a query on a broken one fails by itself; the
	// listener only keeps an idle connection's error from crashing the process.
	const pool = createPool(options, () => undefined);
	try {
		await migrate(pool);
		return await inTransaction(pool, (client) => copyAll(sqlite, client));
	} catch (error) {
		throw new Error(`cannot copy ${sqliteFile} to the PostgreSQL store at ${describeUrl(options.url)}: ${(error as Error).message}`, { cause: error });
	} finally {
		await pool.end();
		sqlite.close();
	}
}

/** The SQLite store at `file`, migrated: never a new, empty one where there was nothing. */
function openSqlite(file: string): Database.Database {
	if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) {
		throw new Error(`no SQLite store at ${file}`);
	}
	const db = new Database(file, { fileMustExist: true, timeout: 5000 });
	try {
		migrateSqlite(db);
		return db;
	} catch (error) {
		db.close();
		throw new Error(`cannot open the SQLite store at ${file}: ${(error as Error).message}`, { cause: error });
	}
}

async function copyAll(sqlite: Database.Database, client: pg.PoolClient): Promise<CopyCounts> {
	// NOTE: every other table's rows refer to a user (ON DELETE CASCADE), so no user means an empty
	// database. The lock keeps a node from adding one between this check and the commit; reads go on.
	await client.query('LOCK TABLE users IN SHARE ROW EXCLUSIVE MODE');
	const { rows } = await client.query<{ users: number }>('SELECT count(*) AS users FROM users');
	if (rows[0]!.users > 0) {
		throw new Error(`the database already holds ${rows[0]!.users} accounts: a copy goes into an empty database only`);
	}
	const counts = {} as CopyCounts;
	// One read transaction: every table from the same snapshot, even should another process write the file.
	sqlite.exec('BEGIN');
	try {
		for (const table of TABLES) {
			counts[table.table] = await copyTable(sqlite, client, table);
		}
	} finally {
		sqlite.exec('COMMIT');
	}
	// New rows get a seq past every copied one, so that they sort after them within a millisecond.
	await client.query(`SELECT setval(pg_get_serial_sequence('call_history', 'seq'), coalesce(max(seq), 0) + 1, false) FROM call_history`);
	return counts;
}

async function copyTable(sqlite: Database.Database, client: pg.PoolClient, { table, select, columns, convert }: TableCopy): Promise<number> {
	const names = Object.keys(columns).join(', ');
	const types = Object.entries(columns).map(([name, type]) => `${name} ${type}`).join(', ');
	const insert = `INSERT INTO ${table} (${names}) SELECT ${names} FROM jsonb_to_recordset($1::jsonb) AS r(${types})`;
	let copied = 0;
	for (const batch of batches(sqlite.prepare(select).iterate() as IterableIterator<Row>)) {
		const result = await client.query(insert, [JSON.stringify(convert ? batch.map(convert) : batch)]);
		copied += result.rowCount ?? 0;
	}
	return copied;
}

function* batches(rows: Iterable<Row>): Generator<Row[]> {
	let batch: Row[] = [];
	for (const row of rows) {
		batch.push(row);
		if (batch.length === BATCH_ROWS) {
			yield batch;
			batch = [];
		}
	}
	if (batch.length > 0) {
		yield batch;
	}
}
