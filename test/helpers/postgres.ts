import crypto from 'node:crypto';
import { Client } from 'pg';
import { PG_MISSING_ENV, PG_URL_ENV, startPostgresProcess, type PostgresProcess, type StartPostgresOptions } from './postgresServer';

/** Databases of one server, made through its superuser's URL. */
export interface PostgresDatabases {
	/** The superuser's URL of the `postgres` database. */
	readonly url: string;
	readonly port: number;
	/**
	 * CREATE DATABASE `name` (default: a unique `switchyard_test_…`); returns its
	 * URL. Names are lowercase letters, digits and underscores. `icuLocale`:
	 * collate with ICU in that locale (as `en-US`, how many production databases
	 * sort) instead of the cluster's byte order.
	 */
	createDatabase(name?: string, options?: { icuLocale?: string }): Promise<string>;
	/** DROP DATABASE … WITH (FORCE), ending its sessions; nothing when it is gone already. */
	dropDatabase(url: string): Promise<void>;
}

/** A server of its own, for a test that stops, kills or restarts it. Destroy it in afterAll. */
export type PostgresServer = PostgresProcess & PostgresDatabases;

/**
 * A PostgreSQL server of the caller's own, in a fresh temporary directory on
 * 127.0.0.1 (see postgresServer.js for the cluster's settings).
 */
export async function startPostgres(options?: StartPostgresOptions): Promise<PostgresServer> {
	const server = await startPostgresProcess(options);
	return Object.assign(server, databasesOf(() => server.url));
}

/**
 * The run's one server (started by test/globalSetup.js). Do not stop it: a
 * test that does wants startPostgres(). Throws when the run has none.
 */
export function testPostgres(): PostgresDatabases {
	const url = process.env[PG_URL_ENV];
	if (!url) {
		const why = process.env[PG_MISSING_ENV] ?? `${PG_URL_ENV} is not set: jest ran without test/globalSetup.js (jest.config.js)`;
		throw new Error(`no PostgreSQL for this test run: ${why}`);
	}
	return { url, port: Number(new URL(url).port), ...databasesOf(() => url) };
}

/** A new database on the run's server, for one test file: drop() it in afterAll. */
export async function freshDatabase(options?: { icuLocale?: string }): Promise<{ url: string; drop(): Promise<void> }> {
	const server = testPostgres();
	const url = await server.createDatabase(undefined, options);
	return { url, drop: () => server.dropDatabase(url) };
}

const SAFE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const SYSTEM_DATABASES = new Set(['postgres', 'template0', 'template1']);

function databasesOf(adminUrl: () => string): Pick<PostgresDatabases, 'createDatabase' | 'dropDatabase'> {
	return {
		async createDatabase(name = `switchyard_test_${crypto.randomBytes(6).toString('hex')}`, { icuLocale } = {}) {
			checkName(name);
			if (icuLocale !== undefined && !/^[A-Za-z0-9-]{2,32}$/.test(icuLocale)) {
				throw new Error(`ICU locale ${JSON.stringify(icuLocale)}: want letters, digits and -`);
			}
			await asAdmin(adminUrl(), icuLocale === undefined ? `CREATE DATABASE "${name}"`
				: `CREATE DATABASE "${name}" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${icuLocale}'`);
			const url = new URL(adminUrl());
			url.pathname = `/${name}`;
			return url.toString();
		},
		async dropDatabase(url) {
			const admin = new URL(adminUrl());
			const target = new URL(url);
			if (target.host !== admin.host) {
				throw new Error(`${target.host} is not this server (${admin.host})`);
			}
			const name = decodeURIComponent(target.pathname.slice(1));
			checkName(name);
			if (SYSTEM_DATABASES.has(name)) {
				throw new Error(`will not drop ${name}`);
			}
			await asAdmin(admin.toString(), `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
		},
	};
}

function checkName(name: string): void {
	if (!SAFE_NAME.test(name)) {
		throw new Error(`database name ${JSON.stringify(name)}: want ${SAFE_NAME.source}`);
	}
}

async function asAdmin(url: string, sql: string): Promise<void> {
	const client = new Client({ connectionString: url });
	await client.connect();
	try {
		await client.query(sql);
	} finally {
		await client.end();
	}
}
