import type { Config } from '../config';
import type { Logger } from '../logging';
import type { PostgresOptions } from './postgres/pool';
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
	const options = postgresOptions(config);
	return options ? PostgresStore.open(options, logger) : SqliteStore.open(config.path);
}

/** How to reach the PostgreSQL store of config's `store` section; null when `store.url` is not set (SQLite). */
export function postgresOptions(config: Readonly<Config['store']>): (PostgresOptions & { startupTimeoutMs: number }) | null {
	if (config.url === null) {
		return null;
	}
	return {
		url: config.url,
		poolSize: config.poolSize,
		connectTimeoutMs: config.connectTimeoutMs,
		queryTimeoutMs: config.queryTimeoutMs,
		startupTimeoutMs: config.startupTimeoutSeconds * 1000,
	};
}
