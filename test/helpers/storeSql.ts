import Database from 'better-sqlite3';
import pg from 'pg';
import type { TestNode } from './node';

/**
 * SQL straight on a test node's own store, whichever it is (its SQLite file,
 * or its PostgreSQL database in jest's `postgres` project): for tests that
 * check what was stored, or that age a row. `?` placeholders on both. Rows
 * come as each driver gives them (SQLite: 0/1 and JSON text; PostgreSQL:
 * booleans, objects, BIGINT as strings), so compare a store with itself.
 */
export async function storeSql(node: TestNode, sql: string, ...params: unknown[]): Promise<Record<string, unknown>[]> {
	const url = node.config.store.url;
	if (url === null) {
		const db = new Database(node.storePath, { fileMustExist: true });
		try {
			const statement = db.prepare(sql);
			return statement.reader ? statement.all(...params) as Record<string, unknown>[] : (statement.run(...params), []);
		} finally {
			db.close();
		}
	}
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		let n = 0;
		return (await client.query(sql.replace(/\?/g, () => `$${++n}`), params)).rows as Record<string, unknown>[];
	} finally {
		await client.end();
	}
}

/** The names of the store's tables. */
export async function storeTables(node: TestNode): Promise<string[]> {
	const rows = node.config.store.url === null
		? await storeSql(node, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
		: await storeSql(node, "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
	return rows.map((row) => row.name as string);
}

/**
 * A second connection that sees the owner's relation writes commit: SQLite's
 * `data_version` (moves when another connection commits), or on PostgreSQL
 * the owner's `relation_writes` count (a value another connection reads has
 * been committed). `version()` changes after each commit.
 */
export async function watchCommits(node: TestNode, ownerId: string): Promise<{ version(): Promise<number>; close(): Promise<void> }> {
	if (node.config.store.url === null) {
		const db = new Database(node.storePath, { readonly: true, fileMustExist: true });
		return {
			version: async () => db.pragma('data_version', { simple: true }) as number,
			close: async () => void db.close(),
		};
	}
	const client = new pg.Client({ connectionString: node.config.store.url });
	await client.connect();
	return {
		version: async () => Number((await client.query('SELECT relation_writes FROM users WHERE id = $1', [ownerId])).rows[0].relation_writes),
		close: () => client.end(),
	};
}
