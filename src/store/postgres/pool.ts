import pg from 'pg';
import type { AppError } from '../../errors';
import { missingAccount, storeUnavailable } from '../rows';

/** How the node reaches PostgreSQL: config's `store` section, for a `postgres://` URL. */
export type PostgresOptions = {
	/** postgres://user:password@host:port/database[?sslmode=...]; a secret: never logged. */
	url: string;
	/** Connections at most. */
	poolSize: number;
	/** How long one connection attempt may take. */
	connectTimeoutMs: number;
	/** How long one query may take before it fails as unavailable (client side). */
	queryTimeoutMs: number;
};

// NOTE: BIGINT columns hold millisecond times and counts, all far below 2^53: read them as numbers
// (pg reads int8 as a string by default). Set on this pool's types only, never pg's global ones.
const INT8 = 20;
const types = {
	getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
		oid === INT8 && format !== 'binary' ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * A pool of connections. It reconnects by itself: a connection that broke is
 * thrown away and the next query opens a new one. `onIdleError` hears the
 * errors of idle connections (PostgreSQL restarted under them); without a
 * listener they would crash the process.
 */
export function createPool(options: PostgresOptions, onIdleError: (error: Error) => void): pg.Pool {
	const pool = new pg.Pool({
		connectionString: options.url,
		max: options.poolSize,
		connectionTimeoutMillis: options.connectTimeoutMs,
		// The server cancels a query past the timeout; the client gives up a second later, when the
		// server does not answer at all.
		statement_timeout: options.queryTimeoutMs,
		query_timeout: options.queryTimeoutMs + 1000,
		idleTimeoutMillis: 30_000,
		keepAlive: true,
		application_name: 'switchyard',
		types,
	});
	pool.on('error', onIdleError);
	return pool;
}

/** SQLSTATE classes and codes that mean "the server cannot answer now", not "the request is wrong". */
const UNAVAILABLE_STATES = new Set(['57014', '57P01', '57P02', '57P03', '53300', '53400', '58000', '58030']);
const UNAVAILABLE_NET = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// pg's own errors carry no code: a dropped connection, the pool's connect timeout, the query timeout.
const UNAVAILABLE_TEXT = /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Connection timeout)/;

/** Whether `error` means PostgreSQL is unreachable, restarting or overloaded. */
export function isUnavailable(error: unknown): boolean {
	const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
	if (typeof code === 'string' && (code.startsWith('08') || UNAVAILABLE_STATES.has(code) || UNAVAILABLE_NET.has(code))) {
		return true;
	}
	return typeof message === 'string' && UNAVAILABLE_TEXT.test(message);
}

const FOREIGN_KEY_VIOLATION = '23503';

/**
 * The error a store method throws for a PostgreSQL error: `service_unavailable`
 * when the database cannot answer now, `not_found` when a row refers to an
 * account that is gone (deleted meanwhile), as SqliteStore maps SQLite's.
 */
export function storeError(error: unknown): AppError | unknown {
	if (isUnavailable(error)) {
		return storeUnavailable(error);
	}
	return (error as { code?: unknown } | null)?.code === FOREIGN_KEY_VIOLATION ? missingAccount(error) : error;
}
