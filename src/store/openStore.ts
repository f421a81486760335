import type { Config } from '../config';
import type { Logger } from '../logging';
import { PostgresStore } from './postgres/PostgresStore';
import { SqliteStore } from './sqlite/SqliteStore';
import type { Store } from './types';

/**
 * The store config asks for: PostgreSQL when `store.url` is set (a fleet's
 * shared store), else the embedded SQLite file at `store.path` (one node alone,
 * the default). Migrated and ready when it resolves.
 * @throws naming the database (never its password) when it cannot be opened
 */
export async function openStore(config: Readonly<Config['store']>, logger: Logger): Promise<Store> {
	if (config.url === null) {
		return SqliteStore.open(config.path);
	}
	return PostgresStore.open({
		url: config.url,
		poolSize: config.poolSize,
		connectTimeoutMs: config.connectTimeoutMs,
		queryTimeoutMs: config.queryTimeoutMs,
		startupTimeoutMs: config.startupTimeoutSeconds * 1000,
	}, logger);
}
